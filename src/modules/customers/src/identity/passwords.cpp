#include "identity/passwords.hpp"

#include <sodium.h>

#include <stdexcept>

namespace deliveryhub::customers {
namespace {
constexpr unsigned long long kOpsLimit = 2;
constexpr std::size_t kMemLimit = 19UL * 1024 * 1024;
}  // namespace

PasswordHasher::PasswordHasher() {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
  dummy_hash_ = hash("dummy password that never matches anything");
}

std::string PasswordHasher::hash(std::string_view password) const {
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), kOpsLimit, kMemLimit,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    throw std::runtime_error("password hashing ran out of memory");
  }
  return out;
}

bool PasswordHasher::verify(std::string_view password, const std::string& encoded) const {
  return crypto_pwhash_str_verify(encoded.c_str(), password.data(), password.size()) == 0;
}

void PasswordHasher::verify_dummy(std::string_view password) const {
  (void)verify(password, dummy_hash_);
}

}  // namespace deliveryhub::customers
