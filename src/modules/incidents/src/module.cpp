#include "incidents/module.hpp"

#include "consumers.hpp"
#include "core/metrics/table_counts.hpp"
#include "core/util/background_loop.hpp"
#include "migrations.hpp"
#include "routes.hpp"
#include "service.hpp"
#include "settings.hpp"

namespace deliveryhub::incidents {
namespace {

class Module final : public IncidentsModule {
 public:
  Module(core::Platform& platform, orders::OrdersApi& orders, payments::PaymentsApi& payments,
         delivery::DeliveryApi& delivery)
      : platform_(platform),
        outbox_("incidents", platform.clock, platform.outbox_signal),
        service_(platform.database, outbox_, platform.clock, orders, payments, delivery),
        late_watch_("late-incident check", platform.settings.module_values.seconds(settings::kLateCheckInterval),
                    [this] { service_.open_late_incidents(); }) {}

  std::string_view name() const override { return "incidents"; }
  std::vector<core::db::Migration> migrations() const override { return incidents::migrations(); }
  IncidentsApi& api() override { return service_; }
  void add_routes(core::http::Router& router) override { add_incident_routes(router, service_, platform_.tokens); }
  void subscribe(core::events::EventBus& bus) override { subscribe_consumers(bus, platform_.database, service_); }
  void start() override {
    core::metrics::export_table_counts(platform_.metrics, platform_.database, "deliveryhub_incidents",
                                       "Incidents by status (open and in_progress ones are unsettled)", "status",
                                       std::vector<std::string>{"open", "in_progress", "resolved", "rejected"},
                                       "SELECT status, COUNT(*) FROM incidents_incidents GROUP BY status");
    late_watch_.start();
  }
  void stop() override { late_watch_.stop(); }

 private:
  core::Platform& platform_;
  core::events::Outbox outbox_;
  IncidentService service_;
  core::BackgroundLoop late_watch_;
};

}  // namespace

std::unique_ptr<IncidentsModule> make_module(core::Platform& platform, orders::OrdersApi& orders,
                                             payments::PaymentsApi& payments, delivery::DeliveryApi& delivery) {
  return std::make_unique<Module>(platform, orders, payments, delivery);
}

}  // namespace deliveryhub::incidents
