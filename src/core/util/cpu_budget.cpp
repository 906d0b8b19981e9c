#include "core/util/cpu_budget.hpp"

#include <sched.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>
#include <thread>

namespace deliveryhub::core::cpu {
namespace {

std::optional<long long> number(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  long long value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<unsigned> cpus_of(long long quota, long long period) {
  if (quota <= 0 || period <= 0) return std::nullopt;
  return static_cast<unsigned>(std::max<long long>(1, (quota + period - 1) / period));
}

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

unsigned affinity_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    const int count = CPU_COUNT(&set);
    if (count > 0) return static_cast<unsigned>(count);
  }
  return std::max(1U, std::thread::hardware_concurrency());
}

}  // namespace

std::optional<unsigned> quota_of_cpu_max(std::string_view cpu_max) {
  const auto space = cpu_max.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  const auto quota = cpu_max.substr(0, space);
  if (quota == "max") return std::nullopt;
  const auto q = number(quota);
  const auto p = number(cpu_max.substr(space + 1));
  if (!q || !p) return std::nullopt;
  return cpus_of(*q, *p);
}

std::optional<unsigned> quota_of_cfs(std::string_view quota_us, std::string_view period_us) {
  const auto q = number(quota_us);
  const auto p = number(period_us);
  if (!q || !p) return std::nullopt;
  return cpus_of(*q, *p);
}

Budget available(const std::string& cgroup_root, const std::string& self_cgroup) {
  Budget budget{affinity_cpus(), "affinity"};
  // /proc/self/cgroup: "0::/path" (v2), "4:cpu,cpuacct:/path" (v1). The limit that holds is the
  // smallest along the path from the process's cgroup up to the root.
  std::string v2_path;
  std::string v1_path;
  bool v2 = false;
  bool v1 = false;
  std::istringstream lines(read_file(self_cgroup).value_or(""));
  for (std::string line; std::getline(lines, line);) {
    const auto first = line.find(':');
    const auto second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    const std::string controllers = "," + line.substr(first + 1, second - first - 1) + ",";
    const std::string path = line.substr(second + 1);
    if (line.compare(0, first, "0") == 0 && controllers == ",,") {
      v2 = true;
      v2_path = path;
    } else if (controllers.find(",cpu,") != std::string::npos) {
      v1 = true;
      v1_path = path;
    }
  }
  const auto consider = [&budget](std::optional<unsigned> quota, const char* source) {
    if (quota && *quota < budget.cpus) budget = {*quota, source};
  };
  const auto each_level = [](std::string path, const auto& visit) {
    while (true) {
      visit(path);
      if (path.empty() || path == "/") return;
      const auto slash = path.find_last_of('/');
      path = slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
    }
  };
  if (v2) {
    each_level(v2_path, [&](const std::string& level) {
      if (const auto text = read_file(cgroup_root + level + "/cpu.max")) {
        consider(quota_of_cpu_max(*text), "cgroup v2 cpu.max");
      }
    });
  }
  if (v1) {
    each_level(v1_path, [&](const std::string& level) {
      const auto dir = cgroup_root + "/cpu" + level;
      const auto quota = read_file(dir + "/cpu.cfs_quota_us");
      const auto period = read_file(dir + "/cpu.cfs_period_us");
      if (quota && period) consider(quota_of_cfs(*quota, *period), "cgroup v1 cfs quota");
    });
  }
  return budget;
}

unsigned default_io_threads(unsigned cpus) {
  return std::max(1U, cpus / 4);
}

unsigned default_worker_threads(unsigned cpus) {
  return std::max(4U, 2 * cpus);
}

}  // namespace deliveryhub::core::cpu
