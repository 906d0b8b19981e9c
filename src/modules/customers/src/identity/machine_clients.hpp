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
  /// For role service: the modules whose calls this client makes (ADR 0022). Its tokens carry
  /// them as scopes `module:<name>`, and each internal route admits only the modules that call it.
  std::vector<std::string> acts_for;

  /// The token's `scope`: "module:orders module:incidents", empty when it acts for none.
  std::string scope() const;
};

/// Machine clients from configuration: "ID:SECRET:operator", or "ID:SECRET:service:MODULE[+MODULE]"
/// for a process hosting those modules that calls other modules. Thread-safe after construction.
class MachineClients {
 public:
  /// `modules`: every module of the binary, those a service client may act for (a typo fails at
  /// start-up, not as a 403 later). Throws std::invalid_argument naming the bad entry (never
  /// echoing a secret).
  MachineClients(const std::vector<std::string>& specs, const std::vector<std::string>& modules);
  /// The client when id and secret match (constant-time on the secret), else nullopt.
  std::optional<MachineClient> authenticate(std::string_view id, std::string_view secret) const;

 private:
  std::vector<MachineClient> clients_;
};

}  // namespace deliveryhub::customers
