#pragma once
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>
#include <string_view>

namespace deliveryhub::core::metrics {

/// The process's metric registry, served at /metrics. Thread-safe (prometheus-cpp's guarantees).
class Metrics {
 public:
  Metrics();
  prometheus::Registry& registry() { return *registry_; }
  /// Everything registered, in the Prometheus text exposition format.
  std::string serialize() const;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
};

/// The server's own metrics: requests by route template, method and status; latency; in flight.
class HttpMetrics {
 public:
  explicit HttpMetrics(Metrics& metrics);
  void observe(std::string_view method, std::string_view route, int status, double seconds);
  prometheus::Gauge& in_flight() { return *in_flight_; }

 private:
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& latency_;
  prometheus::Gauge* in_flight_;
};

}  // namespace deliveryhub::core::metrics
