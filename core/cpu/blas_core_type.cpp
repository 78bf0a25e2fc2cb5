#include "core/cpu/blas_core_type.h"

#include <cblas.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <initializer_list>

namespace ft::cpu {

const char* blas_core_name() { return openblas_get_corename(); }

namespace {
bool is_generic_core(const char* name) {
  for (const char* generic : {"Prescott", "Core2", "Penryn", "Dunnington", "Nehalem", "Katmai", "Coppermine",
                              "Northwood", "Banias", "Atom", "Generic"}) {
    if (std::strcmp(name, generic) == 0) return true;
  }
  return false;
}

const char* native_core_for_this_cpu() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq"))
    return "SkylakeX";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
  return nullptr;
}
}  // namespace

void reexec_with_native_blas_kernels(char** argv) {
  if (std::getenv("OPENBLAS_CORETYPE")) return;
  if (const char* keep = std::getenv("FTENGINE_BLAS_CORETYPE"); keep && std::strcmp(keep, "keep") == 0) return;
  const char* loaded = blas_core_name();
  if (!loaded || !is_generic_core(loaded)) return;
  const char* native = native_core_for_this_cpu();
  if (!native) return;
  setenv("OPENBLAS_CORETYPE", native, 1);
  execv("/proc/self/exe", argv);
  unsetenv("OPENBLAS_CORETYPE");  // exec failed: carry on with the generic kernels
}

}  // namespace ft::cpu
