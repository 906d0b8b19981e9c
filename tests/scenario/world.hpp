#pragma once
// The in-process scenario harness: every module of the registry, wired as one process wires them
// (descriptors in dependency order, the in-process bus, the outbox relay, the saga, the
// simulated payment provider), on a fresh SQLite database, driven through the HTTP pipeline
// without sockets. A scenario runs in milliseconds to a few seconds; time can be stepped.
// When it ends, the business invariant checker (tools/invariants) must find the database
// consistent. Background work (saga, relay, consumers, the late-delivery check) runs on its
// threads as in production: scenarios wait for outcomes with eventually().
#include "core/db/database.hpp"
#include "core/util/clock.hpp"

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace deliveryhub::scenario {

/// The wall clock moved forward by whatever advance() added: time passes as usual, and a scenario
/// can jump past a promise without waiting for it.
class SteppedClock final : public core::Clock {
 public:
  core::TimePoint now() const override {
    return std::chrono::system_clock::now() + std::chrono::milliseconds(offset_ms_.load());
  }
  void advance(std::chrono::milliseconds by) { offset_ms_ += by.count(); }

 private:
  std::atomic<std::int64_t> offset_ms_{0};
};

struct Reply {
  int status = 0;
  nlohmann::json body;
};

/// A signed-in customer with an address in a served zone (or not, by postal code).
struct Customer {
  std::string id;
  std::string token;
  std::string address_id;
};

/// A catalog, a zone serving "28…" and a courier there with room for many deliveries.
struct Shop {
  std::string sku;
  std::string zone_id;
  std::string courier_token;
};

class World {
 public:
  World();
  ~World();
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  /// One request through the pipeline: routing, authentication, Idempotency-Key, problems.
  Reply call(const std::string& method, const std::string& target, const nlohmann::json& body = nullptr,
             const std::string& token = "", const std::vector<std::pair<std::string, std::string>>& headers = {});
  /// An access token of the operator machine client (client_credentials).
  const std::string& operator_token();

  Shop open_shop();
  Customer customer(const std::string& postal_code = "28013");
  /// POST /api/v1/orders for two of `sku`; asserts 201 and returns the order.
  nlohmann::json place_order(const Customer& customer, const std::string& sku,
                             const std::string& payment_method = "tok_visa");
  nlohmann::json order(const Customer& customer, const std::string& order_id);
  nlohmann::json payment(const Customer& customer, const std::string& payment_id);
  /// The order once its status is `status` (fails the scenario after `within`).
  nlohmann::json order_becomes(const Customer& customer, const std::string& order_id, const std::string& status,
                               std::chrono::milliseconds within = std::chrono::seconds(10));
  nlohmann::json payment_becomes(const Customer& customer, const std::string& payment_id, const std::string& status);
  void courier_reports(const Shop& shop, const std::string& delivery_id, const std::string& status,
                       const std::string& note = "");
  /// Places an order for `customer` and waits until the saga has confirmed it.
  nlohmann::json confirmed_order(const Shop& shop, const Customer& customer);
  /// The courier picks `order`'s delivery up and delivers it; returns the payment once captured.
  nlohmann::json deliver(const Shop& shop, const Customer& customer, const nlohmann::json& order);

  /// Polls `probe` until it returns a value, for at most `within`; fails with `what` otherwise.
  nlohmann::json eventually(const std::function<std::optional<nlohmann::json>()>& probe, const std::string& what,
                            std::chrono::milliseconds within = std::chrono::seconds(10));

  SteppedClock& clock();

  /// Ends a scenario: waits until every saga has finished and every outbox is relayed, then
  /// requires tools/invariants/check_invariants.py to find the database consistent.
  void finish();
  /// One run of the invariant checker: true when it finds nothing; its report in `report`.
  bool consistent(std::string& report);
  /// The store, for a scenario that breaks it on purpose.
  core::db::Database& database();

 private:
  struct Parts;
  std::unique_ptr<Parts> parts_;
  std::optional<std::string> operator_token_;
};

}  // namespace deliveryhub::scenario
