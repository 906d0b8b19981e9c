#pragma once
#include <array>
#include <string>
#include <string_view>
#include <vector>

namespace deliveryhub::core::http {

/// The proxies in front of this process whose X-Forwarded-For is believed (--trusted-proxy).
/// Behind a gateway every connection comes from the gateway, so without this the login throttle
/// would count all clients as one address and the access log would name only the gateway.
class TrustedProxies {
 public:
  TrustedProxies() = default;
  /// Addresses or networks: "127.0.0.1", "10.0.0.0/8", "::1", "fd00::/8".
  /// Throws std::invalid_argument naming the first one that is neither.
  explicit TrustedProxies(const std::vector<std::string>& networks);

  bool trusts(std::string_view address) const;

  /// The client's address. `peer` itself unless `peer` is trusted; then, walking
  /// X-Forwarded-For from its right end (the hop nearest to us), the first address that is not
  /// a trusted proxy. The header's left part is whatever the client wrote, so it is never
  /// believed past an untrusted hop; a malformed entry stops the walk at the hop before it.
  std::string client_address(std::string_view peer, std::string_view forwarded_for) const;

 private:
  struct Network {
    std::array<unsigned char, 16> bytes{};  // IPv4 as IPv4-mapped IPv6
    unsigned prefix = 0;                    // of the 128 bits
  };
  std::vector<Network> networks_;
};

}  // namespace deliveryhub::core::http
