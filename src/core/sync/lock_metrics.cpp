#include "core/sync/lock_metrics.hpp"

#include "core/sync/counted_mutex.hpp"

#include <memory>

namespace deliveryhub::core::sync {

void export_lock_metrics(metrics::Metrics& metrics) {
  struct Exported {
    explicit Exported(prometheus::Registry& registry)
        : contended(prometheus::BuildCounter()
                        .Name("deliveryhub_lock_contended_total")
                        .Help("Acquisitions of a named lock that found it held (all its instances)")
                        .Register(registry)),
          waited(prometheus::BuildCounter()
                     .Name("deliveryhub_lock_wait_seconds_total")
                     .Help("Time spent waiting for a named lock held by another thread")
                     .Register(registry)) {}
    prometheus::Family<prometheus::Counter>& contended;
    prometheus::Family<prometheus::Counter>& waited;
    std::mutex mutex;
    std::map<std::string, LockWaits> shown;
  };
  auto exported = std::make_shared<Exported>(metrics.registry());
  metrics.on_scrape([exported] {
    const auto now = lock_waits();
    std::lock_guard lock(exported->mutex);
    for (const auto& [name, waits] : now) {
      auto& shown = exported->shown[name];
      const std::map<std::string, std::string> labels{{"lock", name}};
      auto& contended = exported->contended.Add(labels);
      auto& waited = exported->waited.Add(labels);
      metrics::advance_counter(contended, waits.contended, shown.contended);
      metrics::advance_counter(waited, waits.wait_ns, shown.wait_ns, 1e-9);
    }
  });
}

}  // namespace deliveryhub::core::sync
