#include "delivery/module.hpp"

#include "core/metrics/table_counts.hpp"
#include "internal_routes.hpp"
#include "migrations.hpp"
#include "remote_client.hpp"
#include "routes.hpp"
#include "service.hpp"
#include "settings.hpp"

namespace deliveryhub::delivery {
namespace {

class Module final : public DeliveryModule {
 public:
  Module(core::Platform& platform, customers::CustomersApi& customers)
      : platform_(platform),
        outbox_("delivery", platform.clock, platform.outbox_signal),
        service_(platform.database, outbox_, platform.clock, customers,
                 platform.settings.module_values.seconds(settings::kDeliveryPromise)) {}

  std::string_view name() const override { return "delivery"; }
  std::vector<core::db::Migration> migrations() const override { return delivery::migrations(); }
  DeliveryApi& api() override { return service_; }
  void add_routes(core::http::Router& router) override {
    add_delivery_routes(router, service_, platform_.tokens);
    add_internal_routes(router, service_, platform_.tokens);
  }
  void start() override {
    core::metrics::export_table_counts(
        platform_.metrics, platform_.database, "deliveryhub_deliveries", "Deliveries by status", "status",
        std::vector<std::string>{"unassigned", "assigned", "picked_up", "delivered", "failed", "cancelled"},
        "SELECT status, COUNT(*) FROM delivery_deliveries GROUP BY status");
  }

 private:
  core::Platform& platform_;
  core::events::Outbox outbox_;
  DeliveryService service_;
};

}  // namespace

std::unique_ptr<DeliveryModule> make_module(core::Platform& platform, customers::CustomersApi& customers) {
  return std::make_unique<Module>(platform, customers);
}

std::unique_ptr<DeliveryApi> make_remote_api(core::remote::HttpChannel& channel) {
  return std::make_unique<RemoteDelivery>(channel);
}

}  // namespace deliveryhub::delivery
