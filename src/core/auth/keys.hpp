#pragma once
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

namespace deliveryhub::core::auth {

/// A P-256 key pair for ES256 access tokens. `kid` is the RFC 7638 JWK thumbprint.
class SigningKey {
 public:
  /// Throws std::runtime_error when `pem` is not an EC P-256 private key.
  static SigningKey from_private_pem(const std::string& pem);
  static SigningKey generate();
  /// Reads the PEM at `path`; throws std::runtime_error with the reason when it cannot.
  static SigningKey load(const std::filesystem::path& path);
  /// Loads `path`, or creates a new key there (mode 0600) when the file does not exist.
  /// Sets `created` accordingly.
  static SigningKey load_or_create(const std::filesystem::path& path, bool& created);

  const std::string& private_pem() const { return private_pem_; }
  const std::string& public_pem() const { return public_pem_; }
  const std::string& kid() const { return kid_; }
  /// The public JWK: {kty, crv, x, y, kid, alg, use}.
  const nlohmann::json& public_jwk() const { return jwk_; }

 private:
  std::string private_pem_;
  std::string public_pem_;
  std::string kid_;
  nlohmann::json jwk_;
};

/// Public keys that may sign access tokens, by kid.
struct PublicKey {
  std::string kid;
  std::string alg;  // only ES256 is accepted
  std::string pem;
};

class KeySet {
 public:
  void add(PublicKey key) { keys_[key.kid] = std::move(key); }
  const PublicKey* find(std::string_view kid) const;
  /// Reads a JWKS document, keeping the EC P-256 keys (other keys are skipped).
  /// Throws std::runtime_error when the document is not a JWKS.
  static KeySet from_jwks(const nlohmann::json& jwks);
  std::size_t size() const { return keys_.size(); }

 private:
  std::map<std::string, PublicKey, std::less<>> keys_;
};

}  // namespace deliveryhub::core::auth
