// libFuzzer target: the safetensors header parser on arbitrary bytes (a whole "file" in memory).
// Anything but a clean parse or an ft::Error is a bug: a crash, a sanitizer report, a leak, or a
// header that validates but describes data outside the buffer.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "core/error.h"
#include "core/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const ft::SafetensorsHeader h = ft::parse_safetensors_header(data, size, "fuzz.safetensors");
    // A validated header must tile the data exactly: touch every tensor's first and last byte.
    uint64_t covered = 0;
    unsigned sink = 0;
    for (const auto& e : h.tensors) {
      if (e.begin != covered || e.end < e.begin || h.data_start + e.end > size) std::abort();
      if (e.end > e.begin) sink += data[h.data_start + e.begin] + data[h.data_start + e.end - 1];
      covered = e.end;
    }
    if (h.data_start + covered != size) std::abort();
    static volatile unsigned keep;
    keep = sink;
  } catch (const ft::Error&) {
  }
  return 0;
}
