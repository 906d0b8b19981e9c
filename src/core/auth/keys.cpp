#include "core/auth/keys.hpp"

#include "core/util/base64url.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <sodium.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>

namespace deliveryhub::core::auth {
namespace {

using PkeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using BioPtr = std::unique_ptr<BIO, decltype(&BIO_free)>;

std::string bio_to_string(BIO* bio) {
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(length));
}

std::string public_pem_of(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()), BIO_free);
  if (!PEM_write_bio_PUBKEY(bio.get(), key)) throw std::runtime_error("cannot write public key");
  return bio_to_string(bio.get());
}

// The uncompressed point 0x04 || X || Y of a P-256 key.
std::string public_point_of(EVP_PKEY* key) {
  unsigned char buffer[65];
  std::size_t length = 0;
  if (!EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, buffer, sizeof buffer, &length) || length != 65 ||
      buffer[0] != 0x04) {
    throw std::runtime_error("the key is not an uncompressed P-256 point");
  }
  return std::string(reinterpret_cast<char*>(buffer), length);
}

void require_p256(EVP_PKEY* key) {
  char group[64] = {};
  std::size_t length = 0;
  if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC ||
      !EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &length) ||
      std::string_view(group) != "prime256v1") {
    throw std::runtime_error("the signing key must be an EC P-256 (prime256v1) key");
  }
}

std::string sha256(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return std::string(reinterpret_cast<char*>(digest), sizeof digest);
}

}  // namespace

SigningKey SigningKey::from_private_pem(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
  if (!key) throw std::runtime_error("not a PEM private key");
  require_p256(key.get());
  SigningKey result;
  result.private_pem_ = pem;
  result.public_pem_ = public_pem_of(key.get());
  const std::string point = public_point_of(key.get());
  const std::string x = base64url_encode(std::string_view(point).substr(1, 32));
  const std::string y = base64url_encode(std::string_view(point).substr(33, 32));
  // RFC 7638: the thumbprint hashes the required members in lexicographic order, no spaces.
  result.kid_ = base64url_encode(sha256(R"({"crv":"P-256","kty":"EC","x":")" + x + R"(","y":")" + y + R"("})"));
  result.jwk_ = {{"kty", "EC"},        {"crv", "P-256"}, {"x", x},      {"y", y},
                 {"kid", result.kid_}, {"alg", "ES256"}, {"use", "sig"}};
  return result;
}

SigningKey SigningKey::generate() {
  PkeyPtr key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  if (!key) throw std::runtime_error("cannot generate a P-256 key");
  BioPtr bio(BIO_new(BIO_s_mem()), BIO_free);
  if (!PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr)) {
    throw std::runtime_error("cannot write private key");
  }
  return from_private_pem(bio_to_string(bio.get()));
}

SigningKey SigningKey::load(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read JWT signing key '" + path.string() + "'");
  std::stringstream buffer;
  buffer << in.rdbuf();
  try {
    return from_private_pem(buffer.str());
  } catch (const std::exception& e) {
    throw std::runtime_error("JWT signing key '" + path.string() + "': " + e.what());
  }
}

SigningKey SigningKey::load_or_create(const std::filesystem::path& path, bool& created) {
  created = false;
  if (std::filesystem::exists(path)) return load(path);
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  SigningKey key = generate();
  const auto old_mask = ::umask(077);
  std::ofstream out(path);
  ::umask(old_mask);
  out << key.private_pem();
  if (!out) throw std::runtime_error("cannot write JWT signing key '" + path.string() + "'");
  created = true;
  return key;
}

const PublicKey* KeySet::find(std::string_view kid) const {
  auto it = keys_.find(kid);
  return it == keys_.end() ? nullptr : &it->second;
}

KeySet KeySet::from_jwks(const nlohmann::json& jwks) {
  if (!jwks.is_object() || !jwks.contains("keys") || !jwks["keys"].is_array()) {
    throw std::runtime_error("a JWKS must be an object with a 'keys' array");
  }
  KeySet set;
  for (const auto& jwk : jwks["keys"]) {
    if (!jwk.is_object() || jwk.value("kty", "") != "EC" || jwk.value("crv", "") != "P-256" || !jwk.contains("kid") ||
        !jwk["kid"].is_string() || !jwk.contains("x") || !jwk.contains("y") || !jwk["x"].is_string() ||
        !jwk["y"].is_string()) {
      continue;
    }
    // RFC 8725 §3.1/§3.5: a key declared for anything but ES256 signatures is not one to verify with.
    if ((jwk.contains("use") && jwk["use"] != "sig") || (jwk.contains("alg") && jwk["alg"] != "ES256")) continue;
    if (jwk.contains("key_ops")) {
      const auto& ops = jwk["key_ops"];
      if (!ops.is_array() || std::find(ops.begin(), ops.end(), "verify") == ops.end()) continue;
    }
    auto x = base64url_decode(jwk["x"].get<std::string>());
    auto y = base64url_decode(jwk["y"].get<std::string>());
    if (!x || !y || x->size() != 32 || y->size() != 32) continue;
    const std::string point = "\x04" + *x + *y;
    std::unique_ptr<OSSL_PARAM_BLD, decltype(&OSSL_PARAM_BLD_free)> builder(OSSL_PARAM_BLD_new(), OSSL_PARAM_BLD_free);
    OSSL_PARAM_BLD_push_utf8_string(builder.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0);
    OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size());
    std::unique_ptr<OSSL_PARAM, decltype(&OSSL_PARAM_free)> params(OSSL_PARAM_BLD_to_param(builder.get()),
                                                                   OSSL_PARAM_free);
    std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> context(
        EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr), EVP_PKEY_CTX_free);
    EVP_PKEY* raw = nullptr;
    if (!context || EVP_PKEY_fromdata_init(context.get()) <= 0 ||
        EVP_PKEY_fromdata(context.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) <= 0) {
      continue;  // not a point on the curve
    }
    PkeyPtr key(raw, EVP_PKEY_free);
    set.add({jwk["kid"].get<std::string>(), "ES256", public_pem_of(key.get())});
  }
  return set;
}

}  // namespace deliveryhub::core::auth
