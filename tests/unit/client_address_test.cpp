#include "core/http/client_address.hpp"

#include <catch2/catch.hpp>
#include <stdexcept>

using deliveryhub::core::http::TrustedProxies;

TEST_CASE("without trusted proxies the peer is the client, whatever X-Forwarded-For says") {
  const TrustedProxies none;
  CHECK(none.client_address("127.0.0.1", "203.0.113.9") == "127.0.0.1");
  CHECK_FALSE(none.trusts("127.0.0.1"));
}

TEST_CASE("a trusted peer's X-Forwarded-For names the client") {
  const TrustedProxies gateway({"127.0.0.1"});
  CHECK(gateway.client_address("127.0.0.1", "203.0.113.9") == "203.0.113.9");
  CHECK(gateway.client_address("127.0.0.1", " 203.0.113.9 ") == "203.0.113.9");
  CHECK(gateway.client_address("127.0.0.1", "") == "127.0.0.1");
  SECTION("an untrusted peer's header is ignored") {
    CHECK(gateway.client_address("198.51.100.7", "203.0.113.9") == "198.51.100.7");
  }
}

TEST_CASE("the walk stops at the first untrusted hop from the right: the client cannot spoof past it") {
  const TrustedProxies proxies({"10.0.0.0/8", "127.0.0.1"});
  // The client wrote "1.2.3.4" itself; 203.0.113.9 is who connected to our first proxy.
  CHECK(proxies.client_address("127.0.0.1", "1.2.3.4, 203.0.113.9, 10.1.2.3") == "203.0.113.9");
  // Every hop trusted: the leftmost one is the best we know.
  CHECK(proxies.client_address("127.0.0.1", "10.9.9.9,10.1.2.3") == "10.9.9.9");
}

TEST_CASE("a malformed hop stops the walk at the hop before it") {
  const TrustedProxies gateway({"127.0.0.1"});
  CHECK(gateway.client_address("127.0.0.1", "203.0.113.9, \"><script>") == "127.0.0.1");
  CHECK(gateway.client_address("127.0.0.1", "unknown") == "127.0.0.1");
  CHECK(gateway.client_address("127.0.0.1", "203.0.113.9,,") == "127.0.0.1");
}

TEST_CASE("networks match by prefix, IPv4 and IPv6") {
  const TrustedProxies proxies({"192.168.0.0/16", "fd00::/8", "::1"});
  CHECK(proxies.trusts("192.168.44.1"));
  CHECK_FALSE(proxies.trusts("192.169.0.1"));
  CHECK(proxies.trusts("fd12:3456::1"));
  CHECK_FALSE(proxies.trusts("fe80::1"));
  CHECK(proxies.trusts("::1"));
  CHECK_FALSE(proxies.trusts("not an address"));
  CHECK(proxies.client_address("::1", "2001:db8::7") == "2001:db8::7");
  CHECK(TrustedProxies({"0.0.0.0/0"}).trusts("8.8.8.8"));
  CHECK(TrustedProxies({"10.0.0.0/7"}).trusts("11.255.0.1"));
  CHECK_FALSE(TrustedProxies({"10.0.0.0/7"}).trusts("12.0.0.1"));
}

TEST_CASE("what is neither an address nor a network is refused") {
  for (const char* bad : {"", "gateway", "10.0.0.0/33", "10.0.0.0/", "10.0.0.0/x", "fd00::/129", "1.2.3.4/-1"}) {
    INFO(bad);
    CHECK_THROWS_AS(TrustedProxies({bad}), std::invalid_argument);
  }
}
