#include "core/http/client_address.hpp"

#include <boost/asio/ip/address.hpp>
#include <charconv>
#include <optional>
#include <stdexcept>

namespace deliveryhub::core::http {
namespace {

constexpr unsigned kIpv4MappedBits = 96;

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

std::optional<std::array<unsigned char, 16>> parse_address(std::string_view text) {
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(std::string(text), ec);
  if (ec) return std::nullopt;
  if (address.is_v4()) return boost::asio::ip::make_address_v6(boost::asio::ip::v4_mapped, address.to_v4()).to_bytes();
  return address.to_v6().to_bytes();
}

// The address as asio writes it back (no client bytes reach the log as they came).
std::optional<std::string> canonical(std::string_view text) {
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(std::string(text), ec);
  if (ec) return std::nullopt;
  return address.to_string();
}

bool same_prefix(const std::array<unsigned char, 16>& a, const std::array<unsigned char, 16>& b, unsigned bits) {
  std::size_t i = 0;
  for (; bits >= 8; bits -= 8, ++i) {
    if (a[i] != b[i]) return false;
  }
  if (bits == 0) return true;
  const auto mask = static_cast<unsigned char>(0xFFU << (8U - bits));
  return (a[i] & mask) == (b[i] & mask);
}

}  // namespace

TrustedProxies::TrustedProxies(const std::vector<std::string>& networks) {
  for (const auto& spec : networks) {
    const auto slash = spec.find('/');
    const auto address = parse_address(std::string_view(spec).substr(0, slash));
    if (!address) throw std::invalid_argument("not an IP address or network: " + spec);
    const bool v4 = spec.find(':') == std::string::npos;
    unsigned prefix = 128;
    if (slash != std::string::npos) {
      const std::string_view digits = std::string_view(spec).substr(slash + 1);
      unsigned given = 0;
      const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), given);
      if (ec != std::errc{} || end != digits.data() + digits.size() || digits.empty() || given > (v4 ? 32U : 128U)) {
        throw std::invalid_argument("not an IP address or network: " + spec);
      }
      prefix = v4 ? kIpv4MappedBits + given : given;
    }
    networks_.push_back({*address, prefix});
  }
}

bool TrustedProxies::trusts(std::string_view address) const {
  if (networks_.empty()) return false;
  const auto bytes = parse_address(trim(address));
  if (!bytes) return false;
  for (const auto& network : networks_) {
    if (same_prefix(*bytes, network.bytes, network.prefix)) return true;
  }
  return false;
}

std::string TrustedProxies::client_address(std::string_view peer, std::string_view forwarded_for) const {
  std::string client(peer);
  if (!trusts(peer)) return client;
  while (!forwarded_for.empty()) {
    const auto comma = forwarded_for.rfind(',');
    const std::string_view hop =
        trim(comma == std::string_view::npos ? forwarded_for : forwarded_for.substr(comma + 1));
    forwarded_for = comma == std::string_view::npos ? std::string_view{} : forwarded_for.substr(0, comma);
    auto address = canonical(hop);
    if (!address) break;
    client = std::move(*address);
    if (!trusts(hop)) break;
  }
  return client;
}

}  // namespace deliveryhub::core::http
