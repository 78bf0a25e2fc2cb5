#include "tools/data_options.h"

#include <cstdio>

namespace ft::tools {

void report_skipped_rows(const Dataset& data) {
  if (data.bad_rows_skipped == 0) return;
  std::printf("%s: skipped %lld bad rows of %lld (--skip-bad-rows):\n", data.source.c_str(),
              static_cast<long long>(data.bad_rows_skipped), static_cast<long long>(data.rows));
  for (const auto& m : data.bad_row_messages) std::printf("  %s\n", m.c_str());
  if (data.bad_rows_skipped > static_cast<int64_t>(data.bad_row_messages.size())) std::printf("  ...\n");
}

}  // namespace ft::tools
