// A deliberately small unpickler: exactly what torch.save writes for a state dict of tensors, and
// nothing that could construct an arbitrary object.
//
// torch.save (zip format, pickle protocol 2) stores an OrderedDict whose values are
// torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad,
// backward_hooks[, metadata]) calls; each storage is a persistent id
// ('storage', torch.<Type>Storage, key, location, numel) naming the zip entry data/<key>.
//
// Supported opcodes: PROTO FRAME STOP MARK NONE NEWTRUE NEWFALSE BININT BININT1 BININT2 LONG1
// BINFLOAT BINUNICODE SHORT_BINUNICODE BINUNICODE8 EMPTY_TUPLE TUPLE TUPLE1 TUPLE2 TUPLE3
// EMPTY_LIST APPEND APPENDS EMPTY_DICT SETITEM SETITEMS GLOBAL STACK_GLOBAL REDUCE BUILD BINPERSID
// BINPUT LONG_BINPUT MEMOIZE BINGET LONG_BINGET.
// Supported globals: collections.OrderedDict, torch._utils._rebuild_tensor_v2,
// torch._utils._rebuild_parameter, torch.{Float,Half,BFloat16,Double,Long,Int,Short,Char,Byte,Bool}Storage.
// Anything else is an ft::Error naming the source, the opcode or global, and its byte offset.
//
// Objects live in one arena owned by the unpickler and refer to each other by pointer, so a
// hostile pickle can build neither deep recursion nor reference cycles that outlive the parse.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/tensor.h"

namespace ft {

struct PickledStorage {
  std::string key;       // zip entry <archive>/data/<key>
  DType dtype = DType::F32;
  int64_t numel = 0;     // elements declared by the pickle
  std::string location;  // "cpu", "cuda:0", ... (informational: ftengine loads to the host)
};

struct PickledTensor {
  std::string name;
  int storage = -1;             // index into PickledStateDict::storages
  int64_t storage_offset = 0;   // in elements
  Shape shape;
  std::vector<int64_t> strides;  // in elements, one per dimension
};

struct PickledStateDict {
  std::vector<PickledStorage> storages;  // in order of first use
  std::vector<PickledTensor> tensors;    // in the dict's order
};

// Maximum number of dimensions accepted for one tensor.
constexpr int kPickleMaxRank = 32;

// Parses a state-dict pickle (data.pkl). `source` names it in errors, e.g. "model.bin: data.pkl".
// Checks every tensor's view against its storage's declared size.
PickledStateDict unpickle_state_dict(const uint8_t* data, size_t size, const std::string& source);

// Copies tensor `t` out of its storage into a fresh contiguous tensor. `storage_bytes` holds
// exactly the storage's bytes (its size is checked against the declared numel).
Tensor materialize_pickled_tensor(const PickledTensor& t, const PickledStorage& storage,
                                  const uint8_t* storage_bytes, size_t storage_size, const std::string& source);

}  // namespace ft
