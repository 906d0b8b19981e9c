#include "core/http/idempotency.hpp"

#include "core/errors.hpp"
#include "core/http/problem.hpp"
#include "core/log/log.hpp"

#include <openssl/evp.h>

namespace deliveryhub::core::http {
namespace {

constexpr std::string_view kHeader = "Idempotency-Key";
constexpr int kUnitOfWorkAttempts = 5;
// The response headers a replay repeats; the others are per response (X-Request-Id, Date…).
constexpr std::string_view kReplayedHeaders[] = {"Content-Type", "Location", "ETag"};

std::string sha256_hex(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(text.data(), text.size(), digest, &length, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("SHA-256 failed");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0xF]);
  }
  return out;
}

// What may be stored for replay. Anonymous callers (no valid token: scoped by client address)
// get only their successes stored, so nobody can park error replies in the database; an error
// reply larger than kMaxStoredError is not stored (validation replies are capped well below).
constexpr std::size_t kMaxStoredError = 16 * 1024;

bool storable(const Response& response, bool anonymous) {
  const int status = response.status;
  if (status >= 500) return false;
  if (status < 300) return true;
  if (anonymous || response.body.size() > kMaxStoredError) return false;
  return status != 401 && status != 403 && status != 408 && status != 429;
}

// Marks (scope, key) as running in this process for its lifetime.
class InFlight {
 public:
  InFlight(std::mutex& mutex, std::set<std::string>& running, std::string id)
      : mutex_(mutex), running_(running), id_(std::move(id)) {
    std::lock_guard lock(mutex_);
    taken_ = !running_.insert(id_).second;
  }
  ~InFlight() {
    if (taken_) return;
    std::lock_guard lock(mutex_);
    running_.erase(id_);
  }
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;
  bool taken() const { return taken_; }

 private:
  std::mutex& mutex_;
  std::set<std::string>& running_;
  std::string id_;
  bool taken_ = false;
};

}  // namespace

struct Idempotency::Stored {
  std::string fingerprint;
  int status = 0;
  nlohmann::json headers;
  std::string body;
};

std::optional<std::string> parse_idempotency_key(std::string_view value) {
  std::string key;
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
    const auto inner = value.substr(1, value.size() - 2);
    for (std::size_t i = 0; i < inner.size(); ++i) {
      if (inner[i] == '"') return std::nullopt;
      if (inner[i] == '\\') {
        if (++i == inner.size() || (inner[i] != '"' && inner[i] != '\\')) return std::nullopt;
      }
      key.push_back(inner[i]);
    }
  } else {
    key = std::string(value);
  }
  if (key.empty() || key.size() > 255) return std::nullopt;
  for (const char c : key) {
    if (c < 0x21 || c > 0x7E) return std::nullopt;
  }
  return key;
}

Idempotency::Idempotency(db::Database& db, const auth::TokenValidator& tokens, const Clock& clock,
                         std::chrono::hours retention, Quotas quotas)
    : db_(db), tokens_(tokens), clock_(clock), retention_(retention), quotas_(quotas) {}

std::vector<db::Migration> Idempotency::migrations() {
  return {{1, "idempotency keys",
           "CREATE TABLE core_idempotency ("
           " scope TEXT NOT NULL,"
           " key TEXT NOT NULL,"
           " fingerprint TEXT NOT NULL,"
           " status INTEGER NOT NULL,"
           " headers TEXT NOT NULL,"
           " body TEXT NOT NULL,"
           " created_at BIGINT NOT NULL,"
           " expires_at BIGINT NOT NULL,"
           " PRIMARY KEY (scope, key));"
           "CREATE INDEX core_idempotency_expiry ON core_idempotency (expires_at);"}};
}

std::optional<Idempotency::Stored> Idempotency::lookup(const std::string& scope, const std::string& key) {
  return db_.read([&](db::Transaction& tx) -> std::optional<Stored> {
    auto row = tx.query_one(
        "SELECT fingerprint, status, headers, body FROM core_idempotency WHERE scope = $1 AND key = $2 AND "
        "expires_at > $3",
        {scope, key, to_unix_ms(clock_.now())});
    if (!row) return std::nullopt;
    return Stored{row->text(0), static_cast<int>(row->integer(1)), nlohmann::json::parse(row->text(2)), row->text(3)};
  });
}

void Idempotency::require_room(const std::string& scope, bool anonymous) {
  const std::int64_t quota = anonymous ? quotas_.per_address : quotas_.per_caller;
  const auto held = db_.read([&](db::Transaction& tx) {
    // Counts at most quota rows: the cost stays bounded however many a caller holds.
    return tx
        .query_one(
            "SELECT COUNT(*) FROM (SELECT 1 FROM core_idempotency WHERE scope = $1 AND "
            "expires_at > $2 LIMIT $3) AS held",
            {scope, to_unix_ms(clock_.now()), quota})
        ->integer(0);
  });
  if (held < quota) return;
  const auto retry_after = std::chrono::duration_cast<std::chrono::seconds>(retention_).count();
  throw Error(ErrorKind::too_many_requests, "This caller holds " + std::to_string(quota) +
                                                " Idempotency-Keys already; repeat the request without a key, or later")
      .with_header("Retry-After", std::to_string(retry_after));
}

Response Idempotency::replay(const Stored& stored, const std::string& fingerprint) const {
  if (stored.fingerprint != fingerprint) {
    throw Error(ErrorKind::unprocessable,
                "This Idempotency-Key was used with a different request; use a new key for a new request");
  }
  Response response;
  response.status = stored.status;
  for (const auto& [name, value] : stored.headers.items()) response.headers.add(name, value.get<std::string>());
  response.headers.add("Idempotent-Replayed", "true");
  response.body = stored.body;
  return response;
}

void Idempotency::store(db::Transaction& tx, const std::string& scope, const std::string& key,
                        const std::string& fingerprint, const Response& response) {
  nlohmann::json headers = nlohmann::json::object();
  for (const auto name : kReplayedHeaders) {
    if (auto value = response.headers.find(name)) headers[std::string(name)] = std::string(*value);
  }
  const auto now = clock_.now();
  const auto expires = now + retention_;
  // Only an expired row may be taken over; a live one means another process stored it first.
  const auto changed = tx.execute(
      "INSERT INTO core_idempotency (scope, key, fingerprint, status, headers, body, created_at, expires_at) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (scope, key) DO UPDATE SET "
      "fingerprint = excluded.fingerprint, status = excluded.status, headers = excluded.headers, "
      "body = excluded.body, created_at = excluded.created_at, expires_at = excluded.expires_at "
      "WHERE core_idempotency.expires_at <= excluded.created_at",
      {scope, key, fingerprint, static_cast<std::int64_t>(response.status), headers.dump(), response.body,
       to_unix_ms(now), to_unix_ms(expires)});
  if (changed == 0) throw db::UniqueViolation("idempotency key stored by another process");
}

void Idempotency::purge_expired() {
  const auto now = to_unix_ms(clock_.now());
  auto last = last_purge_ms_.load();
  if (now - last < 10 * 60 * 1000 || !last_purge_ms_.compare_exchange_strong(last, now)) return;
  const auto removed = db_.write(
      [&](db::Transaction& tx) { return tx.execute("DELETE FROM core_idempotency WHERE expires_at <= $1", {now}); });
  if (removed > 0) log::info("expired idempotency keys removed", {{"count", removed}});
}

Response Idempotency::handle(Request& request, const Handler& handler) {
  if (request.method != "POST" || !request.path.starts_with("/api/")) return handler(request);
  std::optional<std::string_view> value;
  for (const auto& [name, field] : request.headers.fields()) {
    if (!iequals(name, kHeader)) continue;
    if (value) throw Error(ErrorKind::bad_request, "Send one Idempotency-Key field, not several");
    value = field;
  }
  if (!value) return handler(request);
  const auto key = parse_idempotency_key(*value);
  if (!key) {
    throw Error(ErrorKind::bad_request, "Idempotency-Key must be 1 to 255 visible ASCII characters",
                {{"Idempotency-Key", "must be 1 to 255 visible ASCII characters"}});
  }
  // A caller with a valid token owns its keys; any other (no token, or one that is not valid:
  // the handler answers 401 where one is needed) shares a scope with its address only.
  std::string scope = "anonymous@" + request.remote_address;
  bool anonymous = true;
  if (!request.header("Authorization").empty()) {
    try {
      scope = tokens_.authenticate(request).subject;
      anonymous = false;
    } catch (const Error&) {
    }
  }
  const auto fingerprint = sha256_hex(request.method + "\n" + request.target + "\n" + request.body);

  InFlight running(in_flight_mutex_, in_flight_, scope + "\n" + *key);
  if (running.taken()) {
    throw Error(ErrorKind::conflict, "A request with this Idempotency-Key is still in progress; repeat it later")
        .with_header("Retry-After", "1");
  }
  if (auto stored = lookup(scope, *key)) return replay(*stored, fingerprint);
  require_room(scope, anonymous);

  std::optional<Error> failure;
  Response response;
  // A unit of work that loses a serialization conflict (PostgreSQL) committed nothing: the
  // handler runs again from the start, as the client would, after a growing random pause, a few
  // times before the 503.
  for (int attempt = 1;; ++attempt) {
    failure.reset();
    try {
      db::UnitOfWork unit(db_);
      try {
        response = handler(request);
      } catch (const Error& error) {
        failure = error;  // the unit of work rolls back: nothing the handler did stays
      }
      if (!failure) {
        unit.commit([&](db::Transaction& tx) {
          if (storable(response, anonymous)) store(tx, scope, *key, fingerprint, response);
        });
      }
      break;
    } catch (const db::UniqueViolation&) {
      // Another process committed this key between our lookup and our commit: its answer stands.
      if (auto stored = lookup(scope, *key)) return replay(*stored, fingerprint);
      throw;
    } catch (const db::TransientError&) {
      if (attempt >= kUnitOfWorkAttempts) throw;
      // Not at once: run back to back, the units of work that collided collided again (under load
      // in the split shape, 503s on keyed POSTs; bench/RESULTS.md, the Locust run of 2026-12-05).
      db::pause_before_retry(attempt);
    }
  }
  if (failure) {
    response = problem_response(*failure, request.request_id);
    if (storable(response, anonymous)) {
      try {
        db_.write([&](db::Transaction& tx) { store(tx, scope, *key, fingerprint, response); });
      } catch (const db::UniqueViolation&) {
        if (auto stored = lookup(scope, *key)) return replay(*stored, fingerprint);
      }
    }
  }
  purge_expired();
  return response;
}

}  // namespace deliveryhub::core::http
