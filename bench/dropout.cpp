// Dropout in place (forward; the backward is the same function) on a hidden-state tensor, at the
// shapes and with the arguments of tests/cases/dropout.h (bytes moved per call are counted there).
// Memory-bound: the counter is GB/s against the HBM peak.
#include "bench/support/bench_util.h"
#include "core/ops.h"
#include "tests/cases/dropout.h"

namespace ft::bench {
namespace {

void register_cases(bool cuda) {
  for (const cases::DropoutBenchShape& s : cases::dropout_bench_shapes()) {
    const cases::DropoutCase c = s.dropout_case();
    register_backends("dropout", s.args(), cuda, [=]<class R>(benchmark::State& st, Backend<R>& be) {
      time_case(st, be, c, cases::dropout_forward_args<R, cases::BackendBuffers<R>>, &Backend<R>::dropout_forward,
                Measure::Bytes, cases::dropout_bytes<R>(c));
    }, s.N <= 4096);
  }
}

}  // namespace
}  // namespace ft::bench

int main(int argc, char** argv) { return ft::bench::bench_main(argc, argv, ft::bench::register_cases); }
