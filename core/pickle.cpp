#include "core/pickle.h"

#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <unordered_map>

#include "core/error.h"

namespace ft {

namespace {

enum class Kind : uint8_t { None, Bool, Int, Float, Str, Tuple, List, Dict, Global, Storage, Tensor };

// With its article, for messages: "an int", "a list", "None".
const char* kind_name(Kind k) {
  switch (k) {
    case Kind::None: return "None";
    case Kind::Bool: return "a bool";
    case Kind::Int: return "an int";
    case Kind::Float: return "a float";
    case Kind::Str: return "a str";
    case Kind::Tuple: return "a tuple";
    case Kind::List: return "a list";
    case Kind::Dict: return "a dict";
    case Kind::Global: return "a global";
    case Kind::Storage: return "a storage";
    case Kind::Tensor: return "a tensor";
  }
  return "?";
}

enum class GlobalId : uint8_t { OrderedDict, RebuildTensorV2, RebuildParameter, StorageType };

struct KnownGlobal {
  const char* module;
  const char* name;
  GlobalId id;
  DType dtype;  // for storage types
};
constexpr KnownGlobal kGlobals[] = {
    {"collections", "OrderedDict", GlobalId::OrderedDict, DType::F32},
    {"torch._utils", "_rebuild_tensor_v2", GlobalId::RebuildTensorV2, DType::F32},
    {"torch._utils", "_rebuild_parameter", GlobalId::RebuildParameter, DType::F32},
    {"torch", "FloatStorage", GlobalId::StorageType, DType::F32},
    {"torch", "HalfStorage", GlobalId::StorageType, DType::F16},
    {"torch", "BFloat16Storage", GlobalId::StorageType, DType::BF16},
    {"torch", "DoubleStorage", GlobalId::StorageType, DType::F64},
    {"torch", "LongStorage", GlobalId::StorageType, DType::I64},
    {"torch", "IntStorage", GlobalId::StorageType, DType::I32},
    {"torch", "CharStorage", GlobalId::StorageType, DType::I8},
    {"torch", "ByteStorage", GlobalId::StorageType, DType::U8},
    {"torch", "BoolStorage", GlobalId::StorageType, DType::Bool},
};

struct Obj {
  Kind kind = Kind::None;
  int64_t i = 0;             // Int, Bool; Storage/Tensor: index into the result
  double f = 0.0;            // Float
  std::string s;             // Str
  std::vector<Obj*> items;   // Tuple, List
  std::vector<std::pair<Obj*, Obj*>> entries;  // Dict, in insertion order
  const KnownGlobal* global = nullptr;         // Global
};

class Unpickler {
 public:
  Unpickler(const uint8_t* data, size_t size, const std::string& source) : p_(data), n_(size), source_(source) {}

  PickledStateDict run() {
    Obj* top = nullptr;
    while (!top) top = step();
    return to_state_dict(top);
  }

 private:
  const uint8_t* p_;
  size_t n_;
  size_t pos_ = 0;
  size_t op_pos_ = 0;  // offset of the opcode being executed, for errors
  const std::string& source_;
  std::vector<std::unique_ptr<Obj>> arena_;
  std::vector<Obj*> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint32_t, Obj*> memo_;
  std::map<std::string, int> storage_by_key_;
  PickledStateDict result_;

  template <class... Args>
  [[noreturn]] void fail(Args&&... args) const {
    FT_THROW(source_, ": byte ", op_pos_, ": ", std::forward<Args>(args)...);
  }

  Obj* make(Kind kind) {
    arena_.push_back(std::make_unique<Obj>());
    arena_.back()->kind = kind;
    return arena_.back().get();
  }

  const uint8_t* take(size_t bytes, const char* what) {
    if (bytes > n_ - pos_) fail("truncated pickle: ", what, " needs ", bytes, " bytes, ", n_ - pos_, " left");
    const uint8_t* q = p_ + pos_;
    pos_ += bytes;
    return q;
  }
  uint64_t take_le(size_t bytes, const char* what) {
    const uint8_t* q = take(bytes, what);
    uint64_t v = 0;
    for (size_t k = bytes; k-- > 0;) v = (v << 8) | q[k];
    return v;
  }
  std::string take_line(const char* what) {
    const size_t start = pos_;
    while (pos_ < n_ && p_[pos_] != '\n') ++pos_;
    if (pos_ >= n_) fail("truncated pickle: unterminated ", what);
    std::string s(reinterpret_cast<const char*>(p_ + start), pos_ - start);
    ++pos_;
    return s;
  }

  Obj* pop(const char* op) {
    if (stack_.empty() || (!marks_.empty() && stack_.size() <= marks_.back())) fail(op, " on an empty stack");
    Obj* o = stack_.back();
    stack_.pop_back();
    return o;
  }
  Obj* top(const char* op) {
    if (stack_.empty() || (!marks_.empty() && stack_.size() <= marks_.back())) fail(op, " on an empty stack");
    return stack_.back();
  }
  // Pops everything above the last MARK (and the mark).
  std::vector<Obj*> pop_to_mark(const char* op) {
    if (marks_.empty()) fail(op, " without a MARK");
    const size_t m = marks_.back();
    marks_.pop_back();
    std::vector<Obj*> items(stack_.begin() + static_cast<std::ptrdiff_t>(m), stack_.end());
    stack_.resize(m);
    return items;
  }
  void push(Obj* o) { stack_.push_back(o); }

  Obj* make_str(const uint8_t* q, size_t len) {
    Obj* o = make(Kind::Str);
    o->s.assign(reinterpret_cast<const char*>(q), len);
    return o;
  }
  Obj* make_int(int64_t v) {
    Obj* o = make(Kind::Int);
    o->i = v;
    return o;
  }
  Obj* make_tuple(std::vector<Obj*> items) {
    Obj* o = make(Kind::Tuple);
    o->items = std::move(items);
    return o;
  }

  void memo_put(uint32_t idx) { memo_[idx] = top("a memo PUT"); }
  Obj* memo_get(uint32_t idx) {
    auto it = memo_.find(idx);
    if (it == memo_.end()) fail("memo entry ", idx, " read before it was written");
    return it->second;
  }

  Obj* find_global(const std::string& module, const std::string& name) {
    for (const auto& g : kGlobals) {
      if (module == g.module && name == g.name) {
        Obj* o = make(Kind::Global);
        o->global = &g;
        return o;
      }
    }
    fail("global ", module, ".", name,
         " is not allowed (a state dict needs only collections.OrderedDict, torch._utils._rebuild_tensor_v2, "
         "torch._utils._rebuild_parameter and torch.<Type>Storage)");
  }

  int64_t as_int(const Obj* o, const char* what) {
    if (o->kind != Kind::Int) fail(what, " must be an int, found ", kind_name(o->kind));
    return o->i;
  }
  const std::string& as_str(const Obj* o, const char* what) {
    if (o->kind != Kind::Str) fail(what, " must be a str, found ", kind_name(o->kind));
    return o->s;
  }

  std::vector<int64_t> int_tuple(const Obj* o, const char* what) {
    if (o->kind != Kind::Tuple) fail(what, " must be a tuple of ints, found ", kind_name(o->kind));
    if (o->items.size() > static_cast<size_t>(kPickleMaxRank))
      fail(what, " has ", o->items.size(), " dimensions (at most ", kPickleMaxRank, ")");
    std::vector<int64_t> v;
    for (const Obj* x : o->items) {
      const int64_t d = as_int(x, what);
      if (d < 0) fail(what, " has a negative entry ", d);
      v.push_back(d);
    }
    return v;
  }

  // persistent_load: ('storage', torch.<Type>Storage, key, location, numel)
  Obj* load_persistent(const Obj* pid) {
    if (pid->kind != Kind::Tuple || pid->items.size() != 5)
      fail("persistent id must be a 5-tuple ('storage', type, key, location, numel)");
    if (as_str(pid->items[0], "persistent id tag") != "storage")
      fail("persistent id tag \"", pid->items[0]->s, "\" is not 'storage'");
    const Obj* type = pid->items[1];
    if (type->kind != Kind::Global || type->global->id != GlobalId::StorageType)
      fail("persistent id names no storage type");
    const std::string& key = as_str(pid->items[2], "storage key");
    const std::string& location = as_str(pid->items[3], "storage location");
    const int64_t numel = as_int(pid->items[4], "storage size");
    if (numel < 0) fail("storage \"", key, "\" has a negative size ", numel);
    if (key.empty() || key.find('/') != std::string::npos || key == "." || key == "..")
      fail("storage key \"", key, "\" is not a plain file name");
    auto it = storage_by_key_.find(key);
    int index;
    if (it != storage_by_key_.end()) {
      index = it->second;
      const PickledStorage& s = result_.storages[index];
      if (s.dtype != type->global->dtype || s.numel != numel)
        fail("storage \"", key, "\" is declared twice with different types or sizes");
    } else {
      index = static_cast<int>(result_.storages.size());
      result_.storages.push_back({key, type->global->dtype, numel, location});
      storage_by_key_[key] = index;
    }
    Obj* o = make(Kind::Storage);
    o->i = index;
    return o;
  }

  Obj* rebuild_tensor(const Obj* args) {
    if (args->items.size() != 6 && args->items.size() != 7)
      fail("_rebuild_tensor_v2 takes 6 or 7 arguments, found ", args->items.size());
    const Obj* storage = args->items[0];
    if (storage->kind != Kind::Storage) fail("_rebuild_tensor_v2: first argument is not a storage");
    PickledTensor t;
    t.storage = static_cast<int>(storage->i);
    t.storage_offset = as_int(args->items[1], "storage offset");
    if (t.storage_offset < 0) fail("negative storage offset ", t.storage_offset);
    t.shape = int_tuple(args->items[2], "tensor size");
    t.strides = int_tuple(args->items[3], "tensor stride");
    if (t.shape.size() != t.strides.size())
      fail("tensor size ", shape_str(t.shape), " and stride ", shape_str(t.strides), " differ in rank");
    if (args->items[4]->kind != Kind::Bool) fail("requires_grad must be a bool");
    // backward_hooks (an empty OrderedDict) and the optional metadata are not used.
    check_view(t);
    Obj* o = make(Kind::Tensor);
    o->i = static_cast<int64_t>(tensors_.size());
    tensors_.push_back(std::move(t));
    return o;
  }

  // The largest element index the view reaches must lie inside the storage.
  void check_view(const PickledTensor& t) {
    const PickledStorage& s = result_.storages[t.storage];
    constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
    int64_t numel = 1;
    for (int64_t d : t.shape) {
      if (d != 0 && numel > kMax / d) fail("tensor size ", shape_str(t.shape), " overflows");
      numel *= d;
    }
    if (numel == 0) {
      if (t.storage_offset > s.numel) fail("storage offset ", t.storage_offset, " is past storage \"", s.key, "\"");
      return;
    }
    int64_t last = t.storage_offset;
    for (size_t k = 0; k < t.shape.size(); ++k) {
      const int64_t span = t.shape[k] - 1;
      if (t.strides[k] != 0 && span > (kMax - last) / t.strides[k])
        fail("tensor view ", shape_str(t.shape), " stride ", shape_str(t.strides), " overflows");
      last += span * t.strides[k];
    }
    if (last >= s.numel)
      fail("tensor view (offset ", t.storage_offset, ", size ", shape_str(t.shape), ", stride ",
           shape_str(t.strides), ") reaches element ", last, " of storage \"", s.key, "\" which has ", s.numel);
  }

  Obj* call(const Obj* callable, Obj* args) {
    if (callable->kind != Kind::Global) fail("REDUCE on ", kind_name(callable->kind), ", not a callable");
    if (args->kind != Kind::Tuple) fail("REDUCE arguments are ", kind_name(args->kind), ", not a tuple");
    switch (callable->global->id) {
      case GlobalId::OrderedDict:
        if (!args->items.empty()) fail("OrderedDict() is only supported without arguments");
        return make(Kind::Dict);
      case GlobalId::RebuildTensorV2: return rebuild_tensor(args);
      case GlobalId::RebuildParameter:
        if (args->items.size() != 3 || args->items[0]->kind != Kind::Tensor)
          fail("_rebuild_parameter expects (tensor, requires_grad, backward_hooks)");
        return args->items[0];
      case GlobalId::StorageType: fail("a storage type cannot be called");
    }
    fail("unreachable");
  }

  // Executes one opcode; returns the result object at STOP, else null.
  Obj* step() {
    op_pos_ = pos_;
    const uint8_t op = *take(1, "an opcode");
    switch (op) {
      case 0x80: {  // PROTO
        const uint8_t v = *take(1, "PROTO");
        if (v < 2 || v > 5) fail("pickle protocol ", int(v), " is not supported (2 to 5)");
        return nullptr;
      }
      case 0x95: take_le(8, "FRAME"); return nullptr;  // FRAME: a length hint only
      case '.': {  // STOP
        if (stack_.size() != 1 || !marks_.empty()) fail("STOP with ", stack_.size(), " objects on the stack");
        return stack_.back();
      }
      case '(': marks_.push_back(stack_.size()); return nullptr;  // MARK
      case 'N': push(make(Kind::None)); return nullptr;
      case 0x88: case 0x89: {  // NEWTRUE, NEWFALSE
        Obj* o = make(Kind::Bool);
        o->i = op == 0x88;
        push(o);
        return nullptr;
      }
      case 'J': push(make_int(static_cast<int32_t>(take_le(4, "BININT")))); return nullptr;
      case 'K': push(make_int(static_cast<int64_t>(take_le(1, "BININT1")))); return nullptr;
      case 'M': push(make_int(static_cast<int64_t>(take_le(2, "BININT2")))); return nullptr;
      case 0x8a: {  // LONG1: little-endian two's complement
        const size_t len = *take(1, "LONG1");
        if (len > 8) fail("LONG1 of ", len, " bytes is too large");
        uint64_t v = len ? take_le(len, "LONG1") : 0;
        if (len > 0 && len < 8 && (v >> (8 * len - 1)) & 1) v |= ~uint64_t{0} << (8 * len);  // sign-extend
        push(make_int(static_cast<int64_t>(v)));
        return nullptr;
      }
      case 'G': {  // BINFLOAT: big-endian double
        const uint8_t* q = take(8, "BINFLOAT");
        uint64_t bits = 0;
        for (int k = 0; k < 8; ++k) bits = (bits << 8) | q[k];
        Obj* o = make(Kind::Float);
        std::memcpy(&o->f, &bits, 8);
        push(o);
        return nullptr;
      }
      case 'X': {
        const uint64_t len = take_le(4, "BINUNICODE");
        push(make_str(take(len, "BINUNICODE"), len));
        return nullptr;
      }
      case 0x8c: {
        const uint64_t len = take_le(1, "SHORT_BINUNICODE");
        push(make_str(take(len, "SHORT_BINUNICODE"), len));
        return nullptr;
      }
      case 0x8d: {
        const uint64_t len = take_le(8, "BINUNICODE8");
        push(make_str(take(len, "BINUNICODE8"), len));
        return nullptr;
      }
      case ')': push(make_tuple({})); return nullptr;
      case 't': push(make_tuple(pop_to_mark("TUPLE"))); return nullptr;
      case 0x85: case 0x86: case 0x87: {  // TUPLE1..3
        const size_t k = op - 0x84u;
        std::vector<Obj*> items(k);
        for (size_t j = k; j-- > 0;) items[j] = pop("TUPLEn");
        push(make_tuple(std::move(items)));
        return nullptr;
      }
      case ']': push(make(Kind::List)); return nullptr;
      case 'a': {
        Obj* v = pop("APPEND");
        Obj* list = top("APPEND");
        if (list->kind != Kind::List) fail("APPEND to ", kind_name(list->kind));
        list->items.push_back(v);
        return nullptr;
      }
      case 'e': {
        std::vector<Obj*> items = pop_to_mark("APPENDS");
        Obj* list = top("APPENDS");
        if (list->kind != Kind::List) fail("APPENDS to ", kind_name(list->kind));
        list->items.insert(list->items.end(), items.begin(), items.end());
        return nullptr;
      }
      case '}': push(make(Kind::Dict)); return nullptr;
      case 's': {
        Obj* v = pop("SETITEM");
        Obj* k = pop("SETITEM");
        Obj* dict = top("SETITEM");
        if (dict->kind != Kind::Dict) fail("SETITEM on ", kind_name(dict->kind));
        dict->entries.emplace_back(k, v);
        return nullptr;
      }
      case 'u': {
        std::vector<Obj*> items = pop_to_mark("SETITEMS");
        if (items.size() % 2) fail("SETITEMS with an odd number of items");
        Obj* dict = top("SETITEMS");
        if (dict->kind != Kind::Dict) fail("SETITEMS on ", kind_name(dict->kind));
        for (size_t j = 0; j < items.size(); j += 2) dict->entries.emplace_back(items[j], items[j + 1]);
        return nullptr;
      }
      case 'c': {
        std::string module = take_line("GLOBAL module");
        std::string name = take_line("GLOBAL name");
        push(find_global(module, name));
        return nullptr;
      }
      case 0x93: {  // STACK_GLOBAL
        Obj* name = pop("STACK_GLOBAL");
        Obj* module = pop("STACK_GLOBAL");
        push(find_global(as_str(module, "STACK_GLOBAL module"), as_str(name, "STACK_GLOBAL name")));
        return nullptr;
      }
      case 'R': {
        Obj* args = pop("REDUCE");
        Obj* callable = pop("REDUCE");
        push(call(callable, args));
        return nullptr;
      }
      case 'b': {  // BUILD: only the attributes torch attaches to a state dict (_metadata), ignored
        pop("BUILD");
        Obj* target = top("BUILD");
        if (target->kind != Kind::Dict) fail("BUILD on ", kind_name(target->kind), " (only on a dict)");
        return nullptr;
      }
      case 'Q': push(load_persistent(pop("BINPERSID"))); return nullptr;
      case 'q': memo_put(static_cast<uint32_t>(take_le(1, "BINPUT"))); return nullptr;
      case 'r': memo_put(static_cast<uint32_t>(take_le(4, "LONG_BINPUT"))); return nullptr;
      case 0x94: memo_put(static_cast<uint32_t>(memo_.size())); return nullptr;  // MEMOIZE
      case 'h': push(memo_get(static_cast<uint32_t>(take_le(1, "BINGET")))); return nullptr;
      case 'j': push(memo_get(static_cast<uint32_t>(take_le(4, "LONG_BINGET")))); return nullptr;
      default: break;
    }
    const char c = static_cast<char>(op);
    if (op >= 0x20 && op < 0x7f)
      fail("opcode 0x", hex(op), " ('", c, "') is not supported in a state-dict pickle");
    fail("opcode 0x", hex(op), " is not supported in a state-dict pickle");
  }

  static std::string hex(uint8_t v) {
    const char* digits = "0123456789abcdef";
    return {digits[v >> 4], digits[v & 15]};
  }

  PickledStateDict to_state_dict(const Obj* root) {
    op_pos_ = pos_;
    if (root->kind != Kind::Dict)
      FT_THROW(source_, ": the pickle holds ", kind_name(root->kind), ", not a state dict (a dict of tensors)");
    std::set<std::string> names;
    for (const auto& [k, v] : root->entries) {
      if (k->kind != Kind::Str)
        FT_THROW(source_, ": a state-dict key is ", kind_name(k->kind), ", not a str");
      if (v->kind != Kind::Tensor)
        FT_THROW(source_, ": state-dict entry \"", k->s, "\" is ", kind_name(v->kind), ", not a tensor");
      if (!names.insert(k->s).second) FT_THROW(source_, ": duplicate state-dict entry \"", k->s, "\"");
      PickledTensor t = tensors_[static_cast<size_t>(v->i)];
      t.name = k->s;
      result_.tensors.push_back(std::move(t));
    }
    return std::move(result_);
  }

  std::vector<PickledTensor> tensors_;
};

}  // namespace

PickledStateDict unpickle_state_dict(const uint8_t* data, size_t size, const std::string& source) {
  return Unpickler(data, size, source).run();
}

Tensor materialize_pickled_tensor(const PickledTensor& t, const PickledStorage& s, const uint8_t* bytes,
                                  size_t size, const std::string& source) {
  const size_t elem = dtype_size(s.dtype);
  FT_CHECK(static_cast<uint64_t>(s.numel) <= std::numeric_limits<uint64_t>::max() / elem &&
               size == static_cast<uint64_t>(s.numel) * elem,
           source, ": storage \"", s.key, "\" holds ", size, " bytes, but the pickle declares ", s.numel,
           " elements of ", dtype_name(s.dtype));
  Tensor out = Tensor::zeros(s.dtype, t.shape);  // (shape), contiguous
  const int64_t numel = out.numel();
  if (numel == 0) return out;
  const int rank = static_cast<int>(t.shape.size());
  uint8_t* dst = static_cast<uint8_t*>(out.raw());

  // Row-major contiguous strides: one copy.
  bool contiguous = true;
  for (int64_t k = rank - 1, expect = 1; k >= 0; --k) {
    if (t.shape[k] != 1 && t.strides[k] != expect) contiguous = false;
    expect *= t.shape[k];
  }
  // The view must stay inside the storage (unpickle_state_dict checked it too; this function is public).
  FT_CHECK(t.strides.size() == t.shape.size() && t.storage_offset >= 0, source, ": tensor \"", t.name,
           "\" has a malformed view");
  int64_t last = t.storage_offset;
  for (int k = 0; k < rank; ++k) {
    FT_CHECK(t.strides[k] >= 0 &&
                 (t.strides[k] == 0 || t.shape[k] - 1 <= (std::numeric_limits<int64_t>::max() - last) / t.strides[k]),
             source, ": tensor \"", t.name, "\" has an overflowing view");
    last += (t.shape[k] - 1) * t.strides[k];
  }
  FT_CHECK(last < s.numel, source, ": tensor \"", t.name, "\" reaches element ", last, " of storage \"", s.key,
           "\" which has ", s.numel);
  if (contiguous) {
    std::memcpy(dst, bytes + t.storage_offset * elem, numel * elem);
    return out;
  }
  std::vector<int64_t> index(rank, 0);
  int64_t src = t.storage_offset;
  for (int64_t n = 0; n < numel; ++n) {
    std::memcpy(dst + n * elem, bytes + src * elem, elem);
    for (int k = rank - 1; k >= 0; --k) {  // odometer increment
      if (++index[k] < t.shape[k]) {
        src += t.strides[k];
        break;
      }
      src -= (t.shape[k] - 1) * t.strides[k];
      index[k] = 0;
    }
  }
  return out;
}

}  // namespace ft
