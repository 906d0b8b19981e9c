#include "remote_client.hpp"

#include "core/errors.hpp"
#include "wire.hpp"

#include <cctype>

namespace deliveryhub::orders {
namespace {

// Query-string escaping: everything but RFC 3986's unreserved characters is %XX.
std::string percent_encoded(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out;
}

const nlohmann::json& field_of(const nlohmann::json& answer, const char* name) {
  if (!answer.is_object() || !answer.contains(name)) {
    throw core::Error(core::ErrorKind::internal, std::string("orders answered without a ") + name + " field");
  }
  return answer[name];
}

}  // namespace

std::optional<Order> RemoteOrders::find_order(std::string_view order_id) {
  const auto answer = channel_.call({"GET", "/internal/v1/orders/" + percent_encoded(order_id), std::nullopt, true});
  const auto& order = field_of(answer, "order");
  if (order.is_null()) return std::nullopt;
  return order_from_json(order);
}

}  // namespace deliveryhub::orders
