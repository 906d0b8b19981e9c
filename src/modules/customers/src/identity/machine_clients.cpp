#include "identity/machine_clients.hpp"

#include <sodium.h>

#include <stdexcept>

namespace deliveryhub::customers {

MachineClients::MachineClients(const std::vector<std::string>& specs) {
  for (const auto& spec : specs) {
    const auto first = spec.find(':');
    const auto last = spec.rfind(':');
    if (first == std::string::npos || first == last || first == 0 || last + 1 == spec.size()) {
      throw std::invalid_argument("a machine client must be ID:SECRET:ROLE[+ROLE] (entry " +
                                  std::to_string(clients_.size() + 1) + ")");
    }
    MachineClient client{spec.substr(0, first), spec.substr(first + 1, last - first - 1), {}};
    if (client.secret.size() < 16) {
      throw std::invalid_argument("machine client '" + client.id + "' needs a secret of at least 16 characters");
    }
    std::string roles = spec.substr(last + 1);
    std::size_t start = 0;
    while (start <= roles.size()) {
      auto plus = roles.find('+', start);
      auto role = roles.substr(start, plus == std::string::npos ? std::string::npos : plus - start);
      if (role != "service" && role != "operator") {
        throw std::invalid_argument("machine client '" + client.id + "': role must be service or operator, got '" +
                                    role + "'");
      }
      client.roles.push_back(role);
      if (plus == std::string::npos) break;
      start = plus + 1;
    }
    clients_.push_back(std::move(client));
  }
}

std::optional<MachineClient> MachineClients::authenticate(std::string_view id, std::string_view secret) const {
  for (const auto& client : clients_) {
    if (client.id != id) continue;
    if (client.secret.size() == secret.size() &&
        sodium_memcmp(client.secret.data(), secret.data(), secret.size()) == 0) {
      return client;
    }
    return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace deliveryhub::customers
