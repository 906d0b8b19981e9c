#pragma once
#include "core/metrics/metrics.hpp"

#include <cstdint>
#include <optional>
#include <string_view>

namespace deliveryhub::core::metrics {

/// What the process has used, read from /proc/self at each scrape, under the names Prometheus's
/// own client libraries use: `process_cpu_seconds_total` (user + system), `process_resident_memory_bytes`,
/// `process_open_fds` and `process_start_time_seconds` — so a dashboard shows CPU and memory per
/// module without a node or cAdvisor exporter. On a system without /proc they stay at 0.
void export_process_metrics(Metrics& metrics);

/// The user + system CPU time in clock ticks, from the text of /proc/<pid>/stat; nullopt when
/// it does not parse. Exposed for tests.
std::optional<std::uint64_t> cpu_ticks_of_stat(std::string_view stat);

}  // namespace deliveryhub::core::metrics
