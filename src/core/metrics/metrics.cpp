#include "core/metrics/metrics.hpp"

#include "core/log/log.hpp"

#include <prometheus/text_serializer.h>

#include <algorithm>
#include <atomic>
#include <unordered_map>

namespace deliveryhub::core::metrics {
namespace {

std::uint64_t next_instance() {
  static std::atomic<std::uint64_t> last{0};
  return ++last;
}

}  // namespace

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

void advance_counter(prometheus::Counter& counter, std::uint64_t to, std::uint64_t& shown, double unit) {
  if (to > shown) counter.Increment(static_cast<double>(to - shown) * unit);
  shown = std::max(shown, to);
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
                      .Add({})),
      cache_prefix_(std::to_string(next_instance()) + " ") {}

void HttpMetrics::observe(std::string_view method, std::string_view route, int status, double seconds) {
  struct Handles {
    prometheus::Counter* requests;
    prometheus::Histogram* latency;
  };
  // Keyed by instance, method, route and status; the key's buffer is reused, so a hit allocates
  // nothing. Handles live as long as the registry, which outlives the instance's requests.
  thread_local std::unordered_map<std::string, Handles> cache;
  thread_local std::string key;
  const std::string_view route_label = route.empty() ? std::string_view("unmatched") : route;
  key.clear();
  key.append(cache_prefix_).append(method).append(1, ' ').append(route_label);
  key.append(1, ' ').append(std::to_string(status));
  auto found = cache.find(key);
  if (found == cache.end()) {
    static const prometheus::Histogram::BucketBoundaries buckets{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                                 0.1,    0.25,  0.5,    1,     2.5,  5,     10};
    const std::string route_text(route_label);
    const std::string method_text(method);
    Handles handles{
        &requests_.Add({{"route", route_text}, {"method", method_text}, {"status", std::to_string(status)}}),
        &latency_.Add({{"route", route_text}, {"method", method_text}}, buckets)};
    found = cache.emplace(key, handles).first;
  }
  found->second.requests->Increment();
  found->second.latency->Observe(seconds);
}

}  // namespace deliveryhub::core::metrics
