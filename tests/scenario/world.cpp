#include "world.hpp"

#include "core/auth/keys.hpp"
#include "core/auth/token_validator.hpp"
#include "core/db/database.hpp"
#include "core/db/migrations.hpp"
#include "core/events/bus.hpp"
#include "core/events/outbox.hpp"
#include "core/events/relay.hpp"
#include "core/http/idempotency.hpp"
#include "core/http/pipeline.hpp"
#include "core/http/router.hpp"
#include "core/log/log.hpp"
#include "core/metrics/metrics.hpp"
#include "core/util/ids.hpp"
#include "module_registry.hpp"

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <thread>

namespace deliveryhub::scenario {
namespace {

constexpr std::string_view kOperatorId = "scenario-operator";
constexpr std::string_view kOperatorSecret = "scenario-operator-secret";

core::auth::KeySet trusted(const core::auth::SigningKey& key) {
  core::auth::KeySet keys;
  keys.add({key.kid(), "ES256", key.public_pem()});
  return keys;
}

core::config::Settings scenario_settings() {
  core::config::Settings settings;
  settings.module_values = core::config::defaults_of(app::module_settings(app::registry()));
  settings.module_values.set_list("client",
                                  {std::string(kOperatorId) + ":" + std::string(kOperatorSecret) + ":operator"});
  settings.module_values.set_number("late-check-interval", 1);
  return settings;
}

}  // namespace

struct World::Parts {
  std::filesystem::path dir = std::filesystem::temp_directory_path() / core::new_id("scenario");
  std::unique_ptr<core::db::Database> database;
  core::auth::SigningKey key = core::auth::SigningKey::generate();
  core::auth::TokenValidator tokens{{"deliveryhub", "deliveryhub-api"}, trusted(key)};
  core::metrics::Metrics metrics;
  core::metrics::HttpMetrics http_metrics{metrics};
  SteppedClock clock;
  core::events::InProcessBus bus;
  std::shared_ptr<core::events::OutboxSignal> outbox_signal = std::make_shared<core::events::OutboxSignal>();
  core::config::Settings settings = scenario_settings();
  std::unique_ptr<core::Platform> platform;
  core::ApiDirectory apis;
  std::vector<std::unique_ptr<core::Module>> modules;
  core::http::Router router;
  std::unique_ptr<core::http::Idempotency> idempotency;
  std::unique_ptr<core::http::Pipeline> pipeline;
  std::unique_ptr<core::events::OutboxRelay> relay;
};

World::World() : parts_(std::make_unique<Parts>()) {
  auto& p = *parts_;
  core::log::init(core::log::Level::off);
  std::filesystem::create_directories(p.dir);
  p.database = core::db::open_database("sqlite:" + (p.dir / "scenario.db").string());
  p.platform = std::make_unique<core::Platform>(core::Platform{*p.database,
                                                               p.bus,
                                                               p.outbox_signal,
                                                               p.clock,
                                                               p.tokens,
                                                               p.metrics,
                                                               p.settings,
                                                               &p.key,
                                                               {{"keys", {p.key.public_jwk()}}}});
  for (const auto* descriptor : app::registry()) p.platform->modules.emplace_back(descriptor->name);
  // As the composition root does it: in dependency order, then migrations, routes, consumers, start.
  for (const auto* descriptor : app::registry()) p.modules.push_back(descriptor->make(*p.platform, p.apis));
  core::db::apply_migrations(*p.database, "core", core::http::Idempotency::migrations());
  std::vector<std::string> outboxes;
  for (const auto& module : p.modules) {
    core::db::apply_migrations(*p.database, module->name(), module->migrations());
    module->add_routes(p.router);
    module->subscribe(p.bus);
    outboxes.emplace_back(module->name());
  }
  for (const auto& module : p.modules) module->start();
  p.bus.start();
  p.relay = std::make_unique<core::events::OutboxRelay>(*p.database, outboxes, p.bus, p.clock, p.outbox_signal);
  p.relay->start();
  p.idempotency = std::make_unique<core::http::Idempotency>(*p.database, p.tokens, p.clock, std::chrono::hours(24),
                                                            core::http::Idempotency::Quotas{});
  p.pipeline = std::make_unique<core::http::Pipeline>(
      p.router, p.http_metrics, [&p](core::http::Request& request, const core::http::Handler& handler) {
        return p.idempotency->handle(request, handler);
      });
}

World::~World() {
  auto& p = *parts_;
  p.relay->stop();
  p.bus.stop();
  for (auto it = p.modules.rbegin(); it != p.modules.rend(); ++it) (*it)->stop();
  p.pipeline.reset();
  p.modules.clear();
  p.database.reset();
  std::filesystem::remove_all(p.dir);
}

SteppedClock& World::clock() {
  return parts_->clock;
}

Reply World::call(const std::string& method, const std::string& target, const nlohmann::json& body,
                  const std::string& token, const std::vector<std::pair<std::string, std::string>>& headers) {
  core::http::Request request;
  request.method = method;
  request.target = target;
  const auto question = target.find('?');
  request.path = target.substr(0, question);
  request.query = question == std::string::npos ? "" : target.substr(question + 1);
  request.remote_address = "127.0.0.1";
  request.headers.add("Host", "scenario");
  if (!token.empty()) request.headers.add("Authorization", "Bearer " + token);
  for (const auto& [name, value] : headers) request.headers.add(name, value);
  if (body.is_string() && request.path == "/oauth/token") {
    request.headers.add("Content-Type", "application/x-www-form-urlencoded");
    request.body = body.get<std::string>();
  } else if (!body.is_null()) {
    request.headers.add("Content-Type", "application/json");
    request.body = body.dump();
  }
  const auto response = parts_->pipeline->handle(request);
  Reply reply{response.status, nullptr};
  if (!response.body.empty()) reply.body = nlohmann::json::parse(response.body, nullptr, false);
  return reply;
}

const std::string& World::operator_token() {
  if (!operator_token_) {
    const auto reply = call("POST", "/oauth/token",
                            "grant_type=client_credentials&client_id=" + std::string(kOperatorId) +
                                "&client_secret=" + std::string(kOperatorSecret));
    INFO(reply.body.dump());
    REQUIRE(reply.status == 200);
    operator_token_ = reply.body["access_token"].get<std::string>();
  }
  return *operator_token_;
}

Shop World::open_shop() {
  Shop shop;
  const auto zone = call("POST", "/api/v1/zones", {{"name", "Madrid"}, {"postal_prefixes", {"28"}}}, operator_token());
  INFO(zone.body.dump());
  REQUIRE(zone.status == 201);
  shop.zone_id = zone.body["id"];
  shop.sku = "SCN-" + core::new_id("p").substr(2, 8);
  const auto product =
      call("POST", "/api/v1/catalog/products",
           {{"sku", shop.sku}, {"name", "Paella"}, {"price", 1500}, {"currency", "EUR"}}, operator_token());
  INFO(product.body.dump());
  REQUIRE(product.status == 201);
  const std::string email = "courier-" + core::new_id("c").substr(2, 8) + "@example.com";
  const auto courier = call("POST", "/api/v1/couriers",
                            {{"name", "Ana"},
                             {"email", email},
                             {"password", "courier password"},
                             {"zone_id", shop.zone_id},
                             {"capacity", 50}},
                            operator_token());
  INFO(courier.body.dump());
  REQUIRE(courier.status == 201);
  const auto login =
      call("POST", "/oauth/token", "grant_type=password&username=" + email + "&password=courier%20password");
  INFO(login.body.dump());
  REQUIRE(login.status == 200);
  shop.courier_token = login.body["access_token"];
  return shop;
}

Customer World::customer(const std::string& postal_code) {
  Customer customer;
  const std::string email = "customer-" + core::new_id("c").substr(2, 8) + "@example.com";
  const std::string password = "a long scenario password";
  const auto registered =
      call("POST", "/api/v1/customers", {{"email", email}, {"password", password}, {"name", "Scenario Customer"}});
  INFO(registered.body.dump());
  REQUIRE(registered.status == 201);
  customer.id = registered.body["id"];
  const auto login = call("POST", "/oauth/token",
                          "grant_type=password&username=" + email + "&password=a%20long%20scenario%20password");
  INFO(login.body.dump());
  REQUIRE(login.status == 200);
  customer.token = login.body["access_token"];
  const auto address = call("POST", "/api/v1/customers/" + customer.id + "/addresses",
                            {{"label", "Home"},
                             {"line1", "Calle Mayor 1"},
                             {"city", "Madrid"},
                             {"postal_code", postal_code},
                             {"country", "ES"}},
                            customer.token);
  INFO(address.body.dump());
  REQUIRE(address.status == 201);
  customer.address_id = address.body["id"];
  return customer;
}

nlohmann::json World::place_order(const Customer& customer, const std::string& sku, const std::string& payment_method) {
  const auto placed = call("POST", "/api/v1/orders",
                           {{"items", {{{"sku", sku}, {"quantity", 2}}}},
                            {"address_id", customer.address_id},
                            {"payment_method", payment_method}},
                           customer.token, {{"Idempotency-Key", core::new_id("key")}});
  INFO(placed.body.dump());
  REQUIRE(placed.status == 201);
  return placed.body;
}

nlohmann::json World::order(const Customer& customer, const std::string& order_id) {
  const auto reply = call("GET", "/api/v1/orders/" + order_id, nullptr, customer.token);
  INFO(reply.body.dump());
  REQUIRE(reply.status == 200);
  return reply.body;
}

nlohmann::json World::payment(const Customer& customer, const std::string& payment_id) {
  const auto reply = call("GET", "/api/v1/payments/" + payment_id, nullptr, customer.token);
  INFO(reply.body.dump());
  REQUIRE(reply.status == 200);
  return reply.body;
}

nlohmann::json World::order_becomes(const Customer& customer, const std::string& order_id, const std::string& status,
                                    std::chrono::milliseconds within) {
  return eventually(
      [&]() -> std::optional<nlohmann::json> {
        auto current = order(customer, order_id);
        if (current["status"] == status) return current;
        return std::nullopt;
      },
      "order " + order_id + " to become " + status, within);
}

nlohmann::json World::payment_becomes(const Customer& customer, const std::string& payment_id,
                                      const std::string& status) {
  return eventually(
      [&]() -> std::optional<nlohmann::json> {
        auto current = payment(customer, payment_id);
        if (current["status"] == status) return current;
        return std::nullopt;
      },
      "payment " + payment_id + " to become " + status);
}

void World::courier_reports(const Shop& shop, const std::string& delivery_id, const std::string& status,
                            const std::string& note) {
  nlohmann::json body = {{"status", status}};
  if (!note.empty()) body["note"] = note;
  const auto reply = call("POST", "/api/v1/deliveries/" + delivery_id + "/events", body, shop.courier_token);
  INFO(reply.body.dump());
  REQUIRE(reply.status == 201);
}

nlohmann::json World::confirmed_order(const Shop& shop, const Customer& customer) {
  const auto placed = place_order(customer, shop.sku);
  return order_becomes(customer, placed["id"], "confirmed");
}

nlohmann::json World::deliver(const Shop& shop, const Customer& customer, const nlohmann::json& order) {
  courier_reports(shop, order["delivery_id"], "picked_up");
  courier_reports(shop, order["delivery_id"], "delivered");
  order_becomes(customer, order["id"], "delivered");
  return payment_becomes(customer, order["payment_id"], "captured");
}

nlohmann::json World::eventually(const std::function<std::optional<nlohmann::json>()>& probe, const std::string& what,
                                 std::chrono::milliseconds within) {
  const auto give_up = std::chrono::steady_clock::now() + within;
  for (;;) {
    if (auto value = probe()) return *value;
    if (std::chrono::steady_clock::now() >= give_up) FAIL("timed out waiting for " << what);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

bool World::consistent(std::string& report) {
  const std::string command = "/usr/bin/python3 " DELIVERYHUB_SOURCE_DIR
                              "/tools/invariants/check_invariants.py sqlite:" +
                              (parts_->dir / "scenario.db").string() + " 2>&1";
  report.clear();
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buffer[512];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) report += buffer;
  return pclose(pipe) == 0;
}

void World::finish() {
  // Quiet means every saga finished and every outbox relayed: the checker requires both.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  std::string report;
  while (!consistent(report)) {
    if (std::chrono::steady_clock::now() >= give_up) FAIL("the invariant checker still finds:\n" << report);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

core::db::Database& World::database() {
  return *parts_->database;
}

}  // namespace deliveryhub::scenario
