#include "remote_client.hpp"

#include "core/errors.hpp"
#include "core/http/message.hpp"
#include "wire.hpp"

namespace deliveryhub::orders {
namespace {

const nlohmann::json& field_of(const nlohmann::json& answer, const char* name) {
  if (!answer.is_object() || !answer.contains(name)) {
    throw core::Error(core::ErrorKind::internal, std::string("orders answered without a ") + name + " field");
  }
  return answer[name];
}

}  // namespace

std::optional<Order> RemoteOrders::find_order(std::string_view order_id) {
  const auto answer =
      channel_.call({"GET", "/internal/v1/orders/" + core::http::percent_encode(order_id), std::nullopt, true});
  const auto& order = field_of(answer, "order");
  if (order.is_null()) return std::nullopt;
  return order_from_json(order);
}

}  // namespace deliveryhub::orders
