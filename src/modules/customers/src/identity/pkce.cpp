#include "identity/pkce.hpp"

#include "identity/token_issuer.hpp"

#include <openssl/crypto.h>

#include <algorithm>

namespace deliveryhub::customers {
namespace {

bool unreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

}  // namespace

bool valid_code_verifier(std::string_view verifier) {
  return verifier.size() >= 43 && verifier.size() <= 128 && std::all_of(verifier.begin(), verifier.end(), unreserved);
}

bool valid_code_challenge(std::string_view challenge) {
  // base64url of 32 bytes, unpadded: 43 characters of the base64url alphabet.
  return challenge.size() == 43 &&
         std::all_of(challenge.begin(), challenge.end(), [](char c) { return unreserved(c) && c != '.' && c != '~'; });
}

bool code_verifier_matches(std::string_view verifier, std::string_view challenge) {
  if (!valid_code_verifier(verifier) || !valid_code_challenge(challenge)) return false;
  const auto computed = sha256_base64url(verifier);
  return computed.size() == challenge.size() && CRYPTO_memcmp(computed.data(), challenge.data(), computed.size()) == 0;
}

}  // namespace deliveryhub::customers
