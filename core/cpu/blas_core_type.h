// Debian's OpenBLAS 0.3.21 does not recognise recent Xeons (e.g. CPU model 207) and falls back to
// its generic "Prescott" kernels, which make every GEMM 4-5x slower. OpenBLAS chooses its kernels
// when the library loads, from OPENBLAS_CORETYPE, so the fix is to re-execute the process with it
// set. Only the ftengine binary and the benchmarks do this; tests keep the environment as it is.
#pragma once

namespace ft::cpu {

// The kernel set OpenBLAS loaded (e.g. "SkylakeX", "Haswell", "Prescott").
const char* blas_core_name();

// When OPENBLAS_CORETYPE is unset, OpenBLAS fell back to a generic core and this CPU supports
// AVX-512 (SkylakeX kernels) or AVX2+FMA (Haswell kernels): sets OPENBLAS_CORETYPE and re-executes
// /proc/self/exe with the same arguments. Returns normally (changing nothing) in every other case,
// including when FTENGINE_BLAS_CORETYPE=keep or the re-exec fails.
void reexec_with_native_blas_kernels(char** argv);

}  // namespace ft::cpu
