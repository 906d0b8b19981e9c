#include "core/auth/jws.hpp"

#include "core/auth/keys.hpp"
#include "core/util/base64url.hpp"

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <memory>
#include <stdexcept>

namespace deliveryhub::core::auth {
namespace {

using PkeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using BioPtr = std::unique_ptr<BIO, decltype(&BIO_free)>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;
using SigPtr = std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)>;

PkeyPtr read_key(const std::string& pem, bool is_private) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  EVP_PKEY* key = is_private ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr)
                             : PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr);
  return PkeyPtr(key, EVP_PKEY_free);
}

}  // namespace

std::string sign_es256(std::string_view header_json, std::string_view payload_json, const std::string& private_pem) {
  const std::string signing_input = base64url_encode(header_json) + "." + base64url_encode(payload_json);
  auto key = read_key(private_pem, true);
  if (!key) throw std::runtime_error("cannot read the signing key");
  MdCtxPtr context(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  std::size_t der_length = 0;
  if (!context || EVP_DigestSignInit(context.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
      EVP_DigestSign(context.get(), nullptr, &der_length, reinterpret_cast<const unsigned char*>(signing_input.data()),
                     signing_input.size()) != 1) {
    throw std::runtime_error("cannot sign the token");
  }
  std::string der(der_length, '\0');
  if (EVP_DigestSign(context.get(), reinterpret_cast<unsigned char*>(der.data()), &der_length,
                     reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size()) != 1) {
    throw std::runtime_error("cannot sign the token");
  }
  // OpenSSL writes DER (SEQUENCE of r, s); JWS wants r and s as two 32-byte big-endian numbers.
  const auto* cursor = reinterpret_cast<const unsigned char*>(der.data());
  SigPtr signature(d2i_ECDSA_SIG(nullptr, &cursor, static_cast<long>(der_length)), ECDSA_SIG_free);
  if (!signature) throw std::runtime_error("cannot decode the ECDSA signature");
  unsigned char raw[64];
  if (BN_bn2binpad(ECDSA_SIG_get0_r(signature.get()), raw, 32) != 32 ||
      BN_bn2binpad(ECDSA_SIG_get0_s(signature.get()), raw + 32, 32) != 32) {
    throw std::runtime_error("cannot encode the ECDSA signature");
  }
  return signing_input + "." + base64url_encode(std::string_view(reinterpret_cast<char*>(raw), sizeof raw));
}

bool verify_es256(std::string_view signing_input, std::string_view signature, const std::string& public_pem) {
  if (signature.size() != 64) return false;
  auto key = read_key(public_pem, false);
  if (!key) return false;
  SigPtr sig(ECDSA_SIG_new(), ECDSA_SIG_free);
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(signature.data()), 32, nullptr);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(signature.data()) + 32, 32, nullptr);
  if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return false;
  }
  unsigned char* der = nullptr;
  const int der_length = i2d_ECDSA_SIG(sig.get(), &der);
  if (der_length <= 0) return false;
  std::unique_ptr<unsigned char, void (*)(unsigned char*)> der_owner(der, [](unsigned char* p) { OPENSSL_free(p); });
  MdCtxPtr context(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  return context && EVP_DigestVerifyInit(context.get(), nullptr, EVP_sha256(), nullptr, key.get()) == 1 &&
         EVP_DigestVerify(context.get(), der, static_cast<std::size_t>(der_length),
                          reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size()) == 1;
}

}  // namespace deliveryhub::core::auth
