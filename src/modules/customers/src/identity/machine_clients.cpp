#include "identity/machine_clients.hpp"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <stdexcept>

namespace deliveryhub::customers {
namespace {

std::vector<std::string> split_on_plus(const std::string& text) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const auto plus = text.find('+', start);
    parts.push_back(text.substr(start, plus == std::string::npos ? std::string::npos : plus - start));
    if (plus == std::string::npos) return parts;
    start = plus + 1;
  }
}

bool is_role_list(const std::string& text) {
  const auto parts = split_on_plus(text);
  return std::all_of(parts.begin(), parts.end(), [](const auto& p) { return p == "service" || p == "operator"; });
}

}  // namespace

std::string MachineClient::scope() const {
  std::string text;
  for (const auto& module : acts_for) text += (text.empty() ? "module:" : " module:") + module;
  return text;
}

MachineClients::MachineClients(const std::vector<std::string>& specs, const std::vector<std::string>& modules) {
  for (const auto& spec : specs) {
    const std::string entry = "(entry " + std::to_string(clients_.size() + 1) + ")";
    const auto first = spec.find(':');
    auto last = spec.rfind(':');
    if (first == std::string::npos || first == last || first == 0 || last + 1 == spec.size()) {
      throw std::invalid_argument("a machine client must be ID:SECRET:operator or ID:SECRET:service:MODULE[+MODULE] " +
                                  entry);
    }
    MachineClient client{spec.substr(0, first), {}, {}, {}};
    std::string roles = spec.substr(last + 1);
    if (!is_role_list(roles)) {  // ID:SECRET:ROLES:MODULES (the secret may hold ':')
      const auto before = spec.rfind(':', last - 1);
      if (before != std::string::npos && before > first) {
        client.acts_for = split_on_plus(roles);
        roles = spec.substr(before + 1, last - before - 1);
        last = before;
      }
    }
    client.secret = spec.substr(first + 1, last - first - 1);
    if (client.secret.size() < 16) {
      throw std::invalid_argument("machine client '" + client.id + "' needs a secret of at least 16 characters");
    }
    for (auto& role : split_on_plus(roles)) {
      if (role != "service" && role != "operator") {
        // The value is not echoed: a mistyped spec may have split a secret holding ':' here.
        throw std::invalid_argument("machine client '" + client.id +
                                    "': the role must be service or operator (ID:SECRET:operator or "
                                    "ID:SECRET:service:MODULE[+MODULE])");
      }
      client.roles.push_back(std::move(role));
    }
    for (const auto& module : client.acts_for) {
      if (std::find(modules.begin(), modules.end(), module) == modules.end()) {
        std::string known;
        for (const auto& name : modules) known += (known.empty() ? "" : ", ") + name;
        throw std::invalid_argument("machine client '" + client.id + "': no module '" + module + "' (" + known + ")");
      }
    }
    const bool service = std::find(client.roles.begin(), client.roles.end(), "service") != client.roles.end();
    if (service && client.acts_for.empty()) {
      throw std::invalid_argument("machine client '" + client.id +
                                  "': role service must name the modules it calls for, e.g. ID:SECRET:service:orders");
    }
    if (!service && !client.acts_for.empty()) {
      throw std::invalid_argument("machine client '" + client.id + "': only role service acts for modules");
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
