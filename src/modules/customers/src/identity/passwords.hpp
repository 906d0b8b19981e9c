#pragma once
#include <string>
#include <string_view>

namespace deliveryhub::customers {

/// argon2id password hashing (libsodium) with OWASP's parameters: 19 MiB, 2 passes, 1 lane.
/// Thread-safe.
class PasswordHasher {
 public:
  PasswordHasher();
  /// The encoded hash ($argon2id$v=19$m=19456,t=2,p=1$…) of `password`.
  std::string hash(std::string_view password) const;
  /// True when `password` matches `encoded`.
  bool verify(std::string_view password, const std::string& encoded) const;
  /// Spends the same time as verify() against a real hash, for unknown accounts, so that an
  /// unknown email and a wrong password cannot be told apart by timing.
  void verify_dummy(std::string_view password) const;

 private:
  std::string dummy_hash_;
};

}  // namespace deliveryhub::customers
