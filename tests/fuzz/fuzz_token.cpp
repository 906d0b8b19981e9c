// JWT validation: arbitrary bytes as a bearer token. Never crash; anything but a token signed
// by our key is refused with core::Error(unauthorized).
#include "core/auth/keys.hpp"
#include "core/auth/token_validator.hpp"
#include "core/errors.hpp"

#include <cstdlib>

using namespace deliveryhub::core;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static auth::SigningKey key = auth::SigningKey::generate();
  static auth::TokenValidator validator = [] {
    auth::KeySet keys;
    keys.add({key.kid(), "ES256", key.public_pem()});
    return auth::TokenValidator({"deliveryhub", "deliveryhub-api"}, keys);
  }();
  try {
    validator.validate(std::string_view(reinterpret_cast<const char*>(data), size));
    std::abort();  // a forged token was accepted: the fuzzer cannot sign with our key
  } catch (const Error& error) {
    if (error.kind() != ErrorKind::unauthorized) std::abort();
  }
  return 0;
}
