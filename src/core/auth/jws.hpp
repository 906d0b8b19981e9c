#pragma once
#include <string>
#include <string_view>

namespace deliveryhub::core::auth {

/// JWS compact serialization with ES256 (RFC 7515, RFC 7518 §3.4), the crypto done by OpenSSL.
/// Written here because the JWT libraries Debian ships (cpp-jwt 1.4, libjwt 1.10) force
/// `typ: JWT`, while RFC 9068 access tokens say `typ: at+jwt` (ADR 0005).

/// Signs `header_json`.`payload_json` with a PEM EC P-256 private key; returns the token.
/// Throws std::runtime_error when the key cannot sign.
std::string sign_es256(std::string_view header_json, std::string_view payload_json, const std::string& private_pem);

/// True when `signature` (raw R||S, 64 bytes) is a valid ES256 signature of `signing_input`
/// ("<header>.<payload>" as sent) under the PEM public key.
bool verify_es256(std::string_view signing_input, std::string_view signature, const std::string& public_pem);

}  // namespace deliveryhub::core::auth
