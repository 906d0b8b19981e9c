#include "core/auth/token_validator.hpp"

#include "core/auth/jws.hpp"
#include "core/auth/keys.hpp"
#include "core/errors.hpp"
#include "core/util/base64url.hpp"

#include <openssl/hmac.h>

#include <catch2/catch.hpp>
#include <chrono>

using namespace deliveryhub::core;
using namespace deliveryhub::core::auth;

namespace {

std::int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

struct Fixture {
  SigningKey key = SigningKey::generate();
  TokenValidator validator{{"dh-test", "dh-api"}, make_keys()};

  KeySet make_keys() {
    KeySet keys;
    keys.add({key.kid(), "ES256", key.public_pem()});
    return keys;
  }
  nlohmann::json header() const { return {{"alg", "ES256"}, {"typ", "at+jwt"}, {"kid", key.kid()}}; }
  nlohmann::json claims() const {
    return {{"iss", "dh-test"},   {"aud", "dh-api"}, {"sub", "cus_1"},       {"exp", now_s() + 600},
            {"nbf", now_s() - 1}, {"iat", now_s()},  {"roles", {"customer"}}};
  }
  std::string token(const nlohmann::json& h, const nlohmann::json& c) const {
    return sign_es256(h.dump(), c.dump(), key.private_pem());
  }
};

// Asserts that `token` is refused with 401 and error="invalid_token".
void require_rejected(const TokenValidator& validator, const std::string& token) {
  try {
    validator.validate(token);
    FAIL("token accepted: " << token);
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::unauthorized);
    REQUIRE(e.headers().size() == 1);
    CHECK(e.headers()[0].second == R"(Bearer error="invalid_token")");
  }
}

}  // namespace

TEST_CASE("a valid ES256 access token yields its principal") {
  Fixture f;
  auto principal = f.validator.validate(f.token(f.header(), f.claims()));
  CHECK(principal.subject == "cus_1");
  CHECK(principal.has_role("customer"));
  CHECK_FALSE(principal.has_role("operator"));
  // Second time through the cache: same answer.
  CHECK(f.validator.validate(f.token(f.header(), f.claims())).subject == "cus_1");
}

TEST_CASE("alg none is refused") {
  Fixture f;
  auto h = f.header();
  h["alg"] = "none";
  require_rejected(f.validator, base64url_encode(h.dump()) + "." + base64url_encode(f.claims().dump()) + ".");
}

TEST_CASE("HS256 signed with the public key is refused") {
  Fixture f;
  auto h = f.header();
  h["alg"] = "HS256";
  const std::string input = base64url_encode(h.dump()) + "." + base64url_encode(f.claims().dump());
  unsigned char mac[32];
  unsigned int length = 0;
  HMAC(EVP_sha256(), f.key.public_pem().data(), static_cast<int>(f.key.public_pem().size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &length);
  require_rejected(f.validator, input + "." + base64url_encode(std::string_view(reinterpret_cast<char*>(mac), length)));
}

TEST_CASE("expired, not yet valid, wrong issuer or audience are refused") {
  Fixture f;
  auto expired = f.claims();
  expired["exp"] = now_s() - 120;  // beyond the 30 s leeway
  require_rejected(f.validator, f.token(f.header(), expired));
  auto early = f.claims();
  early["nbf"] = now_s() + 120;
  require_rejected(f.validator, f.token(f.header(), early));
  auto issuer = f.claims();
  issuer["iss"] = "someone-else";
  require_rejected(f.validator, f.token(f.header(), issuer));
  auto audience = f.claims();
  audience["aud"] = "other-api";
  require_rejected(f.validator, f.token(f.header(), audience));
  auto no_exp = f.claims();
  no_exp.erase("exp");
  require_rejected(f.validator, f.token(f.header(), no_exp));
}

TEST_CASE("within the leeway an expired token still passes") {
  Fixture f;
  auto claims = f.claims();
  claims["exp"] = now_s() - 5;
  CHECK(f.validator.validate(f.token(f.header(), claims)).subject == "cus_1");
}

TEST_CASE("unknown kid, wrong typ, tampered payload, other key are refused") {
  Fixture f;
  auto h = f.header();
  h["kid"] = "no-such-key";
  require_rejected(f.validator, f.token(h, f.claims()));
  auto typ = f.header();
  typ["typ"] = "JWT";
  require_rejected(f.validator, f.token(typ, f.claims()));

  const auto good = f.token(f.header(), f.claims());
  const auto first = good.find('.');
  const auto second = good.find('.', first + 1);
  auto tampered_claims = f.claims();
  tampered_claims["roles"] = {"operator"};
  const auto tampered = good.substr(0, first + 1) + base64url_encode(tampered_claims.dump()) + good.substr(second);
  require_rejected(f.validator, tampered);

  // Signed by a key the validator does not know, but claiming a known kid.
  SigningKey other = SigningKey::generate();
  require_rejected(f.validator, sign_es256(f.header().dump(), f.claims().dump(), other.private_pem()));
}

TEST_CASE("malformed tokens are refused") {
  Fixture f;
  for (const std::string& token : std::vector<std::string>{"", "abc", "a.b", "a.b.c.d", "!!!.???.***", "e30.e30.",
                                                           "e30.e30.AAAA", std::string(9000, 'a')}) {
    require_rejected(f.validator, token);
  }
}

TEST_CASE("Authorization header handling") {
  Fixture f;
  http::Request request;
  try {
    f.validator.authenticate(request);
    FAIL("no header accepted");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::unauthorized);
    CHECK(e.headers()[0].second == "Bearer");
  }
  request.headers.add("Authorization", "Basic abc");
  CHECK_THROWS_AS(f.validator.authenticate(request), Error);
  http::Request bearer;
  bearer.headers.add("Authorization", "Bearer " + f.token(f.header(), f.claims()));
  CHECK(f.validator.authenticate(bearer).subject == "cus_1");
}

TEST_CASE("JWKS round trip: a key read back from its JWK verifies its tokens") {
  Fixture f;
  auto keys = KeySet::from_jwks({{"keys", {f.key.public_jwk()}}});
  REQUIRE(keys.size() == 1);
  TokenValidator external({"dh-test", "dh-api"}, keys);
  CHECK(external.validate(f.token(f.header(), f.claims())).subject == "cus_1");
  CHECK_FALSE(f.key.public_jwk().contains("d"));
  CHECK_THROWS(KeySet::from_jwks(nlohmann::json::array()));
}

TEST_CASE("RFC 8725: a crit header is refused; keys declared for other uses are not trusted") {
  Fixture f;
  auto header = f.header();
  header["crit"] = {"exp"};
  require_rejected(f.validator, f.token(header, f.claims()));

  for (const auto& [member, value] : std::vector<std::pair<std::string, nlohmann::json>>{
           {"use", "enc"}, {"alg", "RS256"}, {"key_ops", {"encrypt"}}, {"key_ops", "verify"}}) {
    auto jwk = f.key.public_jwk();
    jwk[member] = value;
    CHECK(KeySet::from_jwks({{"keys", {jwk}}}).size() == 0);
  }
  auto declared = f.key.public_jwk();
  declared["use"] = "sig";
  declared["alg"] = "ES256";
  declared["key_ops"] = {"verify"};
  CHECK(KeySet::from_jwks({{"keys", {declared}}}).size() == 1);
}

TEST_CASE("a revoked subject's tokens issued until the revocation are refused, later ones pass") {
  Fixture f;
  auto claims = f.claims();
  const auto old_token = f.token(f.header(), claims);
  CHECK(f.validator.validate(old_token).subject == "cus_1");  // cached now: revocation must still apply
  f.validator.revoke_subject("cus_1", claims["iat"].get<std::int64_t>());
  require_rejected(f.validator, old_token);
  claims["iat"] = claims["iat"].get<std::int64_t>() + 1;
  CHECK(f.validator.validate(f.token(f.header(), claims)).subject == "cus_1");
  auto other = f.claims();
  other["sub"] = "cus_2";
  CHECK(f.validator.validate(f.token(f.header(), other)).subject == "cus_2");
}
