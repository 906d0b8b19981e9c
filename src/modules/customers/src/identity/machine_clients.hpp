#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace deliveryhub::customers {

struct MachineClient {
  std::string id;
  std::string secret;
  std::vector<std::string> roles;
};

/// Machine clients from configuration ("ID:SECRET:ROLE[+ROLE]" each). Thread-safe after
/// construction.
class MachineClients {
 public:
  /// Throws std::invalid_argument naming the bad entry (never echoing a secret).
  explicit MachineClients(const std::vector<std::string>& specs);
  /// The client when id and secret match (constant-time on the secret), else nullopt.
  std::optional<MachineClient> authenticate(std::string_view id, std::string_view secret) const;

 private:
  std::vector<MachineClient> clients_;
};

}  // namespace deliveryhub::customers
