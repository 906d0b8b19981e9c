#pragma once
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace deliveryhub::core::metrics {

/// The process's metric registry, served at /metrics. Thread-safe (prometheus-cpp's guarantees).
class Metrics {
 public:
  Metrics();
  prometheus::Registry& registry() { return *registry_; }
  /// Everything registered, in the Prometheus text exposition format; runs the scrape hooks first.
  std::string serialize() const;
  /// Runs `refresh` before every serialize(), e.g. to set gauges from the database. A refresh that
  /// throws is logged and skipped: the rest of the scrape still answers.
  void on_scrape(std::function<void()> refresh);

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  mutable std::mutex hooks_mutex_;
  std::vector<std::function<void()>> hooks_;
};

/// Shows a count kept elsewhere (an exact uint64 the process counts itself) on a Prometheus
/// counter: increments `counter` by what `to` has grown past `shown`, then records it. Scrapes may
/// overlap; a snapshot is never older than one already shown, so nothing is counted twice.
/// `unit` scales the increment (1e-9: nanoseconds shown as seconds). The caller serialises calls.
void advance_counter(prometheus::Counter& counter, std::uint64_t to, std::uint64_t& shown, double unit = 1.0);

/// A gauge of how many things are in each value of one label (orders by status, …). Every value
/// ever seen stays exported, at 0 when it has none now. Thread-safe.
class CountsGauge {
 public:
  CountsGauge(Metrics& metrics, const std::string& name, const std::string& help, std::string label,
              const std::vector<std::string>& values);
  void set(const std::map<std::string, std::int64_t>& counts);

 private:
  prometheus::Family<prometheus::Gauge>& family_;
  std::string label_;
  std::mutex mutex_;
  std::map<std::string, prometheus::Gauge*> gauges_;
};

/// The server's own metrics: requests by route template, method and status; latency; in flight.
/// observe() resolves a (method, route, status)'s counter and histogram once per thread and
/// keeps them: no label map and no family lock per request (ADR 0030).
class HttpMetrics {
 public:
  explicit HttpMetrics(Metrics& metrics);
  void observe(std::string_view method, std::string_view route, int status, double seconds);
  prometheus::Gauge& in_flight() { return *in_flight_; }

 private:
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& latency_;
  prometheus::Gauge* in_flight_;
  std::string cache_prefix_;  // "<instance> ": tells instances apart in the per-thread handle caches
};

}  // namespace deliveryhub::core::metrics
