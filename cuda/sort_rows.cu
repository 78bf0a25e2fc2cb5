#include "cuda/sort_rows.cuh"

#include <cub/device/device_radix_sort.cuh>

#include "cuda/cuda_check.h"

namespace ft::cuda {

size_t sort_rows_temp_bytes(int n, int end_bit) {
  size_t bytes = 0;
  FT_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(nullptr, bytes, static_cast<const uint32_t*>(nullptr),
                                                static_cast<uint32_t*>(nullptr), static_cast<const int32_t*>(nullptr),
                                                static_cast<int32_t*>(nullptr), n, 0, end_bit));
  return bytes;
}

void sort_rows_by_key(void* temp, size_t temp_bytes, const uint32_t* keys_in, uint32_t* keys_out,
                      const int32_t* rows_in, int32_t* rows_out, int n, int end_bit, cudaStream_t stream) {
  FT_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(temp, temp_bytes, keys_in, keys_out, rows_in, rows_out, n, 0, end_bit,
                                                stream));
  FT_CUDA_CHECK_LAUNCH();
}

}  // namespace ft::cuda
