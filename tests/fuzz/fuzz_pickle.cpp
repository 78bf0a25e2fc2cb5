// libFuzzer target: the state-dict unpickler (core/pickle.h) on arbitrary bytes, then the tensor
// materialisation against synthetic storages of the declared sizes (when they are small), so the
// view bounds checks are exercised too. Only ft::Error may come out.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/error.h"
#include "core/pickle.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const ft::PickledStateDict dict = ft::unpickle_state_dict(data, size, "fuzz.pkl");
    uint64_t total = 0;
    for (const auto& s : dict.storages) total += static_cast<uint64_t>(s.numel) * ft::dtype_size(s.dtype);
    if (total > (1u << 20)) return 0;  // declared sizes are only numbers here; keep memory small
    std::vector<std::vector<uint8_t>> storages;
    for (const auto& s : dict.storages) storages.emplace_back(s.numel * ft::dtype_size(s.dtype), uint8_t{0x5a});
    for (const auto& t : dict.tensors) {
      const auto& bytes = storages.at(static_cast<size_t>(t.storage));
      ft::materialize_pickled_tensor(t, dict.storages.at(static_cast<size_t>(t.storage)), bytes.data(), bytes.size(),
                                     "fuzz.pkl");
    }
  } catch (const ft::Error&) {
  }
  return 0;
}
