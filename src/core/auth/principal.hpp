#pragma once
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace deliveryhub::core::auth {

/// Who is calling, as proven by a validated access token.
struct Principal {
  std::string subject;  // cus_… for customers, acc_… for couriers and operators, the client id for machines
  std::vector<std::string> roles;  // customer | courier | operator | service
  std::string client_id;           // set for client_credentials tokens
  std::int64_t issued_at = 0;      // the token's iat (Unix seconds); 0 when it has none

  bool has_role(std::string_view role) const { return std::find(roles.begin(), roles.end(), role) != roles.end(); }
};

}  // namespace deliveryhub::core::auth
