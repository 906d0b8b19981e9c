#pragma once
#include "core/auth/token_validator.hpp"
#include "core/db/database.hpp"
#include "core/db/migrations.hpp"
#include "core/http/message.hpp"
#include "core/http/router.hpp"
#include "core/util/clock.hpp"

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <string>

namespace deliveryhub::core::http {

/// How many live keys one scope may hold (see Idempotency).
struct IdempotencyQuotas {
  std::int64_t per_caller = 10000;  // live keys of one authenticated caller
  std::int64_t per_address = 100;   // live keys of one address without a valid token
};

/// `Idempotency-Key` on POST /api/… (docs/openapi.yaml, ADR 0009). With a key, the handler runs inside a
/// db::UnitOfWork, and the response is stored in the same transaction as the effects it
/// reports: both commit or neither does. A repeat with the same key and the same request (method,
/// target, body) gets the first response byte for byte, with `Idempotent-Replayed: true`; the
/// same key with another request → 422; a repeat while the first runs in this process → 409 with
/// Retry-After. Keys are scoped to the caller (the token's subject; without a valid token, the
/// client's address) and kept `retention`. Responses 401, 403, 408, 429 and 5xx are not stored (a
/// retry may do better); for callers without a valid token only 2xx replies are, and no error reply
/// over 16 KiB is. A caller holding `Quotas` live keys gets 429 for a new one, nothing done.
/// Requests without the header pass straight through. Thread-safe.
class Idempotency {
 public:
  using Quotas = IdempotencyQuotas;
  Idempotency(db::Database& db, const auth::TokenValidator& tokens, const Clock& clock, std::chrono::hours retention,
              Quotas quotas = {});

  /// The table of stored responses; applied as the "core" module's migrations.
  static std::vector<db::Migration> migrations();

  /// Runs `handler` for `request` under the rules above. Throws core::Error for a malformed key
  /// (400), a key in use (409) or reused for another request (422).
  Response handle(Request& request, const Handler& handler);

 private:
  struct Stored;
  std::optional<Stored> lookup(const std::string& scope, const std::string& key);
  Response replay(const Stored& stored, const std::string& fingerprint) const;
  /// Throws 429 when `scope` holds its quota of live keys.
  void require_room(const std::string& scope, bool anonymous);
  void store(db::Transaction& tx, const std::string& scope, const std::string& key, const std::string& fingerprint,
             const Response& response);
  void purge_expired();

  db::Database& db_;
  const auth::TokenValidator& tokens_;
  const Clock& clock_;
  std::chrono::hours retention_;
  Quotas quotas_;
  std::mutex in_flight_mutex_;
  std::set<std::string> in_flight_;
  std::atomic<std::int64_t> last_purge_ms_{0};
};

/// The key of an `Idempotency-Key` field value: a token, or an sf-string whose quotes are removed;
/// 1–255 visible ASCII characters. nullopt when it is not one.
std::optional<std::string> parse_idempotency_key(std::string_view value);

}  // namespace deliveryhub::core::http
