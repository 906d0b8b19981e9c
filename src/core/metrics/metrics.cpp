#include "core/metrics/metrics.hpp"

#include "core/log/log.hpp"

#include <prometheus/text_serializer.h>

namespace deliveryhub::core::metrics {

Metrics::Metrics() : registry_(std::make_shared<prometheus::Registry>()) {}

std::string Metrics::serialize() const {
  std::vector<std::function<void()>> hooks;
  {
    std::lock_guard lock(hooks_mutex_);
    hooks = hooks_;
  }
  for (const auto& refresh : hooks) {
    try {
      refresh();
    } catch (const std::exception& e) {
      log::warn("metrics refresh failed", {{"error", e.what()}});
    }
  }
  return prometheus::TextSerializer{}.Serialize(registry_->Collect());
}

void Metrics::on_scrape(std::function<void()> refresh) {
  std::lock_guard lock(hooks_mutex_);
  hooks_.push_back(std::move(refresh));
}

CountsGauge::CountsGauge(Metrics& metrics, const std::string& name, const std::string& help, std::string label,
                         const std::vector<std::string>& values)
    : family_(prometheus::BuildGauge().Name(name).Help(help).Register(metrics.registry())), label_(std::move(label)) {
  for (const auto& value : values) gauges_[value] = &family_.Add({{label_, value}});
}

void CountsGauge::set(const std::map<std::string, std::int64_t>& counts) {
  std::lock_guard lock(mutex_);
  for (const auto& [value, count] : counts) {
    if (!gauges_.contains(value)) gauges_[value] = &family_.Add({{label_, value}});
  }
  for (auto& [value, gauge] : gauges_) {
    const auto found = counts.find(value);
    gauge->Set(found == counts.end() ? 0.0 : static_cast<double>(found->second));
  }
}

HttpMetrics::HttpMetrics(Metrics& metrics)
    : requests_(prometheus::BuildCounter()
                    .Name("deliveryhub_http_requests_total")
                    .Help("HTTP requests handled, by route template, method and status")
                    .Register(metrics.registry())),
      latency_(prometheus::BuildHistogram()
                   .Name("deliveryhub_http_request_duration_seconds")
                   .Help("Time from a parsed request to its response, by route template and method")
                   .Register(metrics.registry())),
      in_flight_(&prometheus::BuildGauge()
                      .Name("deliveryhub_http_requests_in_flight")
                      .Help("Requests being handled now")
                      .Register(metrics.registry())
                      .Add({})) {}

void HttpMetrics::observe(std::string_view method, std::string_view route, int status, double seconds) {
  static const prometheus::Histogram::BucketBoundaries buckets{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                               0.1,    0.25,  0.5,    1,     2.5,  5,     10};
  const std::string route_label = route.empty() ? "unmatched" : std::string(route);
  requests_.Add({{"route", route_label}, {"method", std::string(method)}, {"status", std::to_string(status)}})
      .Increment();
  latency_.Add({{"route", route_label}, {"method", std::string(method)}}, buckets).Observe(seconds);
}

}  // namespace deliveryhub::core::metrics
