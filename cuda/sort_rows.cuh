// A stable sort of (key, row) pairs by key on the device (CUB's LSD radix sort), used to group the
// rows of a batch by table index for the embedding's deterministic scatter-add. Kept in its own
// translation unit because CUB's sort is the heaviest template in the backend to compile.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

namespace ft::cuda {

// Bytes of temporary storage sort_rows_by_key needs for n pairs of keys below 2^end_bit.
size_t sort_rows_temp_bytes(int n, int end_bit);

// keys_out/rows_out = the n pairs sorted by key (bits [0, end_bit)), equal keys in input order.
void sort_rows_by_key(void* temp, size_t temp_bytes, const uint32_t* keys_in, uint32_t* keys_out,
                      const int32_t* rows_in, int32_t* rows_out, int n, int end_bit, cudaStream_t stream);

}  // namespace ft::cuda
