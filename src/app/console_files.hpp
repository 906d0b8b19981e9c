#pragma once
#include <string_view>
#include <vector>

namespace deliveryhub::app {

/// One file of the browser console (web/console/), embedded in the binary at build time.
struct ConsoleFile {
  std::string_view path;  // relative to web/console/, e.g. "views/orders.js"
  std::string_view bytes;
  std::string_view sha256;  // hex, of `bytes`
};

/// Every embedded console file, sorted by path.
const std::vector<ConsoleFile>& console_files();

}  // namespace deliveryhub::app
