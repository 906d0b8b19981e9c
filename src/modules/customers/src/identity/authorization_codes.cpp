#include "identity/authorization_codes.hpp"

#include "identity/token_issuer.hpp"

namespace deliveryhub::customers {

std::string issue_authorization_code(core::db::Transaction& tx, const CodeGrant& grant, std::int64_t now_ms) {
  const auto secret = new_refresh_secret();  // 256 random bits, and their hash
  const auto lifetime_ms = std::chrono::duration_cast<std::chrono::milliseconds>(kAuthorizationCodeLifetime).count();
  tx.execute(
      "INSERT INTO customers_authorization_codes (code_hash, client_id, redirect_uri, code_challenge, account_id, "
      "created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
      {secret.hash, grant.client_id, grant.redirect_uri, grant.code_challenge, grant.account_id, now_ms,
       now_ms + lifetime_ms});
  return secret.token;
}

std::size_t prune_authorization_codes(core::db::Transaction& tx, std::int64_t before_ms, std::size_t limit) {
  return tx.execute(
      "DELETE FROM customers_authorization_codes WHERE code_hash IN (SELECT code_hash FROM "
      "customers_authorization_codes WHERE expires_at < $1 LIMIT $2)",
      {before_ms, static_cast<std::int64_t>(limit)});
}

}  // namespace deliveryhub::customers
