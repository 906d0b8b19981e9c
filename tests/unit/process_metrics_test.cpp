#include "core/metrics/process_metrics.hpp"

#include <catch2/catch.hpp>

using deliveryhub::core::metrics::cpu_ticks_of_stat;
using deliveryhub::core::metrics::export_process_metrics;
using deliveryhub::core::metrics::Metrics;

TEST_CASE("CPU ticks are utime + stime, fields 14 and 15 of /proc/<pid>/stat") {
  // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime …
  CHECK(cpu_ticks_of_stat("4242 (deliveryhub) S 1 4242 4242 0 -1 4194560 900 0 3 0 1234 56 0 0 20 0 9 0") == 1290);
  // A command name with spaces and parentheses does not shift the fields.
  CHECK(cpu_ticks_of_stat("7 (a (b) c) R 1 7 7 0 -1 0 0 0 0 0 10 20 0 0") == 30);
  CHECK_FALSE(cpu_ticks_of_stat("no parenthesis here"));
  CHECK_FALSE(cpu_ticks_of_stat("1 (x) S 1 2 3"));                          // too few fields
  CHECK_FALSE(cpu_ticks_of_stat("1 (x) S 1 1 1 0 -1 0 0 0 0 0 ten 20 0"));  // not a number
}

TEST_CASE("the process's CPU, memory and descriptors appear at a scrape") {
  Metrics metrics;
  export_process_metrics(metrics);
  volatile double burn = 0;
  for (int i = 0; i < 20'000'000; ++i) burn = burn + i;  // some CPU time to see
  const auto text = metrics.serialize();
  CHECK(text.find("process_cpu_seconds_total ") != std::string::npos);
  CHECK(text.find("process_resident_memory_bytes ") != std::string::npos);
  CHECK(text.find("process_open_fds ") != std::string::npos);
  CHECK(text.find("process_resident_memory_bytes 0\n") == std::string::npos);  // this process has memory
  CHECK(text.find("process_cpu_seconds_total 0\n") == std::string::npos);      // and has used CPU
}
