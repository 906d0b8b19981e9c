#pragma once
#include <string_view>

namespace deliveryhub::customers {

/// RFC 7636: a code_verifier is 43 to 128 characters of [A-Za-z0-9-._~]; with S256 (the only
/// method this server accepts) the code_challenge is base64url(SHA-256(verifier)), 43 characters.
bool valid_code_verifier(std::string_view verifier);
bool valid_code_challenge(std::string_view challenge);

/// Whether `verifier` is the one `challenge` was made from (S256), in constant time.
bool code_verifier_matches(std::string_view verifier, std::string_view challenge);

}  // namespace deliveryhub::customers
