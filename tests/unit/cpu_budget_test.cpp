// The CPUs a process may use (affinity, cgroup quotas) and the thread defaults derived from them.
#include "core/util/cpu_budget.hpp"

#include "core/config/settings.hpp"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace deliveryhub::core;

namespace {

// A fake /sys/fs/cgroup and /proc/self/cgroup in a temp directory.
class FakeCgroups {
 public:
  FakeCgroups() : root_(std::filesystem::temp_directory_path() / ("cpu_budget_" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(root_);
    std::filesystem::create_directories(root_);
  }
  ~FakeCgroups() { std::filesystem::remove_all(root_); }
  FakeCgroups(const FakeCgroups&) = delete;
  FakeCgroups& operator=(const FakeCgroups&) = delete;

  void write(const std::string& relative, const std::string& text) const {
    const auto path = root_ / "sys" / relative;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path) << text;
  }
  void self(const std::string& text) const { std::ofstream(root_ / "self_cgroup") << text; }
  cpu::Budget budget() const { return cpu::available((root_ / "sys").string(), (root_ / "self_cgroup").string()); }

 private:
  std::filesystem::path root_;
};

unsigned affinity() {
  return cpu::available("/nonexistent", "/nonexistent").cpus;
}

}  // namespace

TEST_CASE("a CFS quota is a CPU count, rounded up; no limit or unreadable text is none") {
  CHECK(cpu::quota_of_cpu_max("max 100000\n") == std::nullopt);
  CHECK(cpu::quota_of_cpu_max("200000 100000\n") == 2U);
  CHECK(cpu::quota_of_cpu_max("150000 100000") == 2U);  // 1.5 CPUs: two threads' worth
  CHECK(cpu::quota_of_cpu_max("50000 100000") == 1U);   // half a CPU: still one
  CHECK(cpu::quota_of_cpu_max("") == std::nullopt);
  CHECK(cpu::quota_of_cpu_max("lots 100000") == std::nullopt);
  CHECK(cpu::quota_of_cpu_max("100000 0") == std::nullopt);
  CHECK(cpu::quota_of_cfs("-1\n", "100000\n") == std::nullopt);
  CHECK(cpu::quota_of_cfs("400000\n", "100000\n") == 4U);
  CHECK(cpu::quota_of_cfs("x", "100000") == std::nullopt);
}

TEST_CASE("the budget is the affinity mask unless a cgroup quota up the path is smaller") {
  const unsigned cpus = affinity();
  REQUIRE(cpus >= 1);
  FakeCgroups fake;
  SECTION("no cgroup files: the affinity mask") {
    fake.self("0::/\n");
    CHECK(fake.budget().cpus == cpus);
    CHECK(fake.budget().source == "affinity");
  }
  SECTION("cgroup v2: the smallest cpu.max from the process's cgroup up") {
    fake.self("0::/kubepods/pod1/container\n");
    fake.write("kubepods/pod1/container/cpu.max", "max 100000\n");
    fake.write("kubepods/pod1/cpu.max", "100000 100000\n");  // the pod's limit: 1 CPU
    fake.write("kubepods/cpu.max", "max 100000\n");
    CHECK(fake.budget().cpus == 1);
    CHECK(fake.budget().source == "cgroup v2 cpu.max");
  }
  SECTION("cgroup v1: the cpu controller's CFS quota") {
    fake.self("4:memory:/x\n3:cpu,cpuacct:/docker/abc\n0::/\n");
    fake.write("cpu/docker/abc/cpu.cfs_quota_us", "100000\n");
    fake.write("cpu/docker/abc/cpu.cfs_period_us", "100000\n");
    CHECK(fake.budget().cpus == 1);
    CHECK(fake.budget().source == "cgroup v1 cfs quota");
  }
  SECTION("a quota above the affinity mask changes nothing") {
    fake.self("0::/big\n");
    fake.write("big/cpu.max", std::to_string((cpus + 8) * 100000) + " 100000\n");
    CHECK(fake.budget().cpus == cpus);
    CHECK(fake.budget().source == "affinity");
  }
}

TEST_CASE("thread defaults follow the CPUs: 2 CPUs keep 1 I/O and 4 handler threads") {
  CHECK(cpu::default_io_threads(1) == 1);
  CHECK(cpu::default_worker_threads(1) == 4);
  CHECK(cpu::default_io_threads(2) == 1);
  CHECK(cpu::default_worker_threads(2) == 4);
  CHECK(cpu::default_io_threads(16) == 4);
  CHECK(cpu::default_worker_threads(16) == 32);
}

TEST_CASE("serve's thread defaults come from this machine; flags override them") {
  std::ostringstream out, err;
  std::vector<const char*> args{"deliveryhub", "serve"};
  auto outcome = config::parse_command_line(static_cast<int>(args.size()), args.data(), out, err);
  REQUIRE(outcome.settings);
  const auto budget = cpu::available();
  CHECK(outcome.settings->cpus == budget.cpus);
  CHECK(outcome.settings->io_threads == cpu::default_io_threads(budget.cpus));
  CHECK(outcome.settings->worker_threads == cpu::default_worker_threads(budget.cpus));
  std::vector<const char*> flags{"deliveryhub", "serve", "--io-threads", "3", "--worker-threads", "7"};
  outcome = config::parse_command_line(static_cast<int>(flags.size()), flags.data(), out, err);
  REQUIRE(outcome.settings);
  CHECK(outcome.settings->io_threads == 3);
  CHECK(outcome.settings->worker_threads == 7);
}
