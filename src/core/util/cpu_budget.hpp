#pragma once
#include <optional>
#include <string>
#include <string_view>

/// How many CPUs this process may use, and the thread counts derived from it.
namespace deliveryhub::core::cpu {

/// The CPUs this process may use and where that figure came from.
struct Budget {
  unsigned cpus = 1;   // ≥ 1: a quota of 1.5 CPUs counts as 2 (threads cannot be fractional)
  std::string source;  // "affinity", "cgroup v2 cpu.max", "cgroup v1 cfs quota"
};

/// A CFS quota as a CPU count, rounded up: cgroup v2's `cpu.max` text ("max 100000" or
/// "150000 100000"); nullopt for no limit or text it cannot read.
std::optional<unsigned> quota_of_cpu_max(std::string_view cpu_max);
/// The same for cgroup v1's cpu.cfs_quota_us (-1: no limit) and cpu.cfs_period_us.
std::optional<unsigned> quota_of_cfs(std::string_view quota_us, std::string_view period_us);

/// The smaller of the CPUs in this thread's affinity mask and the CPU quota of this process's
/// cgroup, as in a Kubernetes pod with a CPU limit: v2's cpu.max or v1's cpu.cfs_quota_us, the
/// smallest from the process's cgroup (named in `self_cgroup`) up to the root. The paths are
/// parameters for tests.
Budget available(const std::string& cgroup_root = "/sys/fs/cgroup",
                 const std::string& self_cgroup = "/proc/self/cgroup");

/// The server's thread defaults for `cpus`: network I/O threads, one per four CPUs (at least
/// one), and handler threads, two per CPU (at least four: handlers block on the database).
unsigned default_io_threads(unsigned cpus);
unsigned default_worker_threads(unsigned cpus);

}  // namespace deliveryhub::core::cpu
