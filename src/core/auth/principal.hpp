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
  std::vector<std::string> roles;   // customer | courier | operator | service
  std::string client_id;            // set for client_credentials tokens
  std::int64_t issued_at = 0;       // the token's iat (Unix seconds); 0 when it has none
  std::vector<std::string> scopes;  // the token's `scope`, split on spaces (RFC 9068 §2.2.3)

  bool has_role(std::string_view role) const { return std::find(roles.begin(), roles.end(), role) != roles.end(); }
  /// A machine client's token names the modules it calls for as scopes `module:<name>` (ADR 0022).
  bool acts_for(std::string_view module) const {
    return std::any_of(scopes.begin(), scopes.end(), [module](const std::string& scope) {
      return scope.size() == module.size() + 7 && scope.starts_with("module:") && scope.ends_with(module);
    });
  }
};

}  // namespace deliveryhub::core::auth
