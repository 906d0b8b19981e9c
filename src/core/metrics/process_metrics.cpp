#include "core/metrics/process_metrics.hpp"

#include <unistd.h>

#include <charconv>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>

namespace deliveryhub::core::metrics {
namespace {

std::string read_file(const char* path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::size_t open_fds() {
  std::error_code error;
  std::size_t count = 0;
  for (std::filesystem::directory_iterator it("/proc/self/fd", error), end; !error && it != end; it.increment(error)) {
    ++count;
  }
  return count;
}

}  // namespace

std::optional<std::uint64_t> cpu_ticks_of_stat(std::string_view stat) {
  // The command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'.
  const auto close = stat.rfind(')');
  if (close == std::string_view::npos) return std::nullopt;
  std::string_view rest = stat.substr(close + 1);
  std::uint64_t utime = 0;
  std::uint64_t stime = 0;
  // After ')' come field 3 (state) onwards; utime is field 14, stime field 15.
  for (int field = 3; field <= 15; ++field) {
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    const auto end = rest.find(' ');
    const auto token = rest.substr(0, end);
    if (token.empty()) return std::nullopt;
    if (field == 14 || field == 15) {
      std::uint64_t value = 0;
      const auto [ptr, ec] = std::from_chars(token.data(), token.data() + token.size(), value);
      if (ec != std::errc{} || ptr != token.data() + token.size()) return std::nullopt;
      (field == 14 ? utime : stime) = value;
    }
    if (end == std::string_view::npos) {
      if (field < 15) return std::nullopt;
      break;
    }
    rest.remove_prefix(end);
  }
  return utime + stime;
}

void export_process_metrics(Metrics& metrics) {
  struct Exported {
    explicit Exported(prometheus::Registry& registry)
        : cpu(prometheus::BuildCounter()
                  .Name("process_cpu_seconds_total")
                  .Help("User and system CPU time spent, seconds")
                  .Register(registry)
                  .Add({})),
          resident(prometheus::BuildGauge()
                       .Name("process_resident_memory_bytes")
                       .Help("Resident memory size, bytes")
                       .Register(registry)
                       .Add({})),
          fds(prometheus::BuildGauge()
                  .Name("process_open_fds")
                  .Help("Open file descriptors")
                  .Register(registry)
                  .Add({})),
          start(prometheus::BuildGauge()
                    .Name("process_start_time_seconds")
                    .Help("Start time of the process since the Unix epoch, seconds")
                    .Register(registry)
                    .Add({})) {}
    prometheus::Counter& cpu;
    prometheus::Gauge& resident;
    prometheus::Gauge& fds;
    prometheus::Gauge& start;
    std::mutex mutex;
    std::uint64_t shown_ticks = 0;
  };
  auto exported = std::make_shared<Exported>(metrics.registry());
  // Exported while the process starts up: now is its start, to within the start-up's second or so.
  exported->start.Set(std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count());
  const double tick = 1.0 / static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  metrics.on_scrape([exported, tick, page] {
    const auto ticks = cpu_ticks_of_stat(read_file("/proc/self/stat"));
    std::istringstream statm(read_file("/proc/self/statm"));
    std::uint64_t size_pages = 0;
    std::uint64_t resident_pages = 0;
    const bool have_memory = static_cast<bool>(statm >> size_pages >> resident_pages);
    const auto fds = open_fds();
    std::lock_guard lock(exported->mutex);
    if (ticks) advance_counter(exported->cpu, *ticks, exported->shown_ticks, tick);
    if (have_memory) exported->resident.Set(static_cast<double>(resident_pages) * page);
    exported->fds.Set(static_cast<double>(fds));
  });
}

}  // namespace deliveryhub::core::metrics
