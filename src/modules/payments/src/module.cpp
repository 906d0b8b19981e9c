#include "payments/module.hpp"

#include "consumers.hpp"
#include "internal_routes.hpp"
#include "migrations.hpp"
#include "provider.hpp"
#include "remote_client.hpp"
#include "routes.hpp"
#include "service.hpp"

namespace deliveryhub::payments {
namespace {

class Module final : public PaymentsModule {
 public:
  explicit Module(core::Platform& platform)
      : platform_(platform),
        outbox_("payments", platform.clock, platform.outbox_signal),
        provider_(SimulatorOptions{}),
        service_(platform.database, outbox_, platform.clock, provider_, platform.metrics) {}

  std::string_view name() const override { return "payments"; }
  std::vector<core::db::Migration> migrations() const override { return payments::migrations(); }
  PaymentsApi& api() override { return service_; }
  void add_routes(core::http::Router& router) override {
    add_payment_routes(router, service_, platform_.tokens);
    add_internal_routes(router, service_, platform_.tokens);
  }
  void subscribe(core::events::EventBus& bus) override { subscribe_to_delivery(bus, platform_.database, service_); }

 private:
  core::Platform& platform_;
  core::events::Outbox outbox_;
  SimulatedProvider provider_;
  PaymentsService service_;
};

}  // namespace

std::unique_ptr<PaymentsModule> make_module(core::Platform& platform) {
  return std::make_unique<Module>(platform);
}

std::unique_ptr<PaymentsApi> make_remote_api(core::remote::HttpChannel& channel) {
  return std::make_unique<RemotePayments>(channel);
}

}  // namespace deliveryhub::payments
