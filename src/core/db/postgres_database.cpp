#include "core/db/postgres_database.hpp"

#include "core/log/log.hpp"

#include <charconv>
#include <chrono>
#include <pqxx/pqxx>
#include <regex>
#include <unordered_map>

namespace deliveryhub::core::db {

namespace {

// Type OIDs of pg_type that map to integers and reals.
constexpr pqxx::oid kBool = 16, kInt8 = 20, kInt2 = 21, kInt4 = 23, kFloat4 = 700, kFloat8 = 701, kNumeric = 1700;

Value to_value(const pqxx::field& field, pqxx::oid type) {
  if (field.is_null()) return std::monostate{};
  const std::string_view text(field.c_str(), field.size());
  switch (type) {
    case kBool:
      return std::int64_t{text == "t" ? 1 : 0};
    case kInt2:
    case kInt4:
    case kInt8: {
      std::int64_t number = 0;
      std::from_chars(text.data(), text.data() + text.size(), number);
      return number;
    }
    case kNumeric:
      if (text.find_first_of(".eE") == std::string_view::npos) {  // e.g. SUM() of BIGINT
        std::int64_t number = 0;
        std::from_chars(text.data(), text.data() + text.size(), number);
        return number;
      }
      [[fallthrough]];
    case kFloat4:
    case kFloat8:
      return std::stod(std::string(text));
    default:
      return std::string(text);
  }
}

// Rethrows the current pqxx error as this layer's exception types.
[[noreturn]] void rethrow_as_database_error() {
  try {
    throw;
  } catch (const pqxx::unique_violation& e) {
    throw UniqueViolation(e.what());
  } catch (const pqxx::serialization_failure& e) {
    throw TransientError(std::string("serialization conflict: ") + e.what());
  } catch (const pqxx::deadlock_detected& e) {
    throw TransientError(std::string("deadlock: ") + e.what());
  } catch (const pqxx::broken_connection& e) {
    throw TransientError(std::string("connection lost: ") + e.what());
  } catch (const pqxx::in_doubt_error& e) {
    throw DatabaseError(std::string("commit in doubt: ") + e.what());
  } catch (const pqxx::sql_error& e) {
    if (e.sqlstate() == "40001" || e.sqlstate() == "40P01") throw TransientError(e.what());
    if (e.sqlstate() == "55P03") throw LockTimeout(std::string("lock wait timed out: ") + e.what());
    // The server is shutting down or starting (a restart, a failover): try again later.
    if (e.sqlstate() == "57P01" || e.sqlstate() == "57P02" || e.sqlstate() == "57P03") {
      throw TransientError(std::string("server unavailable: ") + e.what());
    }
    throw DatabaseError(e.what());
  } catch (const pqxx::failure& e) {
    throw DatabaseError(e.what());
  }
}

}  // namespace

class PostgresConnection {
 public:
  PostgresConnection(const std::string& url, const std::string& search_path) : connection_(url) {
    pqxx::nontransaction setup(connection_);
    setup.exec("SET search_path TO " + search_path);
    setup.exec("SET lock_timeout = '5s'");
  }

  pqxx::connection& raw() { return connection_; }
  bool is_open() const { return connection_.is_open(); }

  // The name of `sql` prepared on this connection, preparing it on first use.
  const std::string& prepared(std::string_view sql) {
    auto found = statements_.find(std::string(sql));
    if (found != statements_.end()) return found->second;
    std::string name = "s" + std::to_string(statements_.size() + 1);
    connection_.prepare(name, std::string(sql));
    return statements_.emplace(std::string(sql), std::move(name)).first->second;
  }

 private:
  pqxx::connection connection_;
  std::unordered_map<std::string, std::string> statements_;
};

class PostgresDatabase::Lease {
 public:
  Lease(PostgresDatabase& db, std::unique_ptr<PostgresConnection> connection)
      : db_(&db), connection_(std::move(connection)) {}
  Lease(Lease&& other) noexcept = default;
  Lease& operator=(Lease&&) = delete;
  ~Lease() {
    if (db_ != nullptr && connection_) db_->give_back(std::move(connection_));
  }
  PostgresConnection& operator*() const { return *connection_; }
  PostgresConnection* operator->() const { return connection_.get(); }

 private:
  PostgresDatabase* db_;
  std::unique_ptr<PostgresConnection> connection_;
};

namespace {

class PostgresTransaction final : public Transaction {
 public:
  // Counts each statement it sends in `statements`, and the BEGIN that opened it unless `tx`
  // sends none (a pqxx::nontransaction: every statement commits by itself).
  PostgresTransaction(PostgresConnection& connection, pqxx::transaction_base& tx,
                      std::atomic<std::uint64_t>& statements, bool began = true)
      : connection_(connection), tx_(tx), statements_(statements) {
    if (began) statements_.fetch_add(1, std::memory_order_relaxed);
  }
  // The COMMIT that ends it.
  void count_commit() { statements_.fetch_add(1, std::memory_order_relaxed); }

  std::int64_t execute(std::string_view sql, const Params& params) override {
    return static_cast<std::int64_t>(run(sql, params).affected_rows());
  }

  Rows query(std::string_view sql, const Params& params) override {
    const pqxx::result result = run(sql, params);
    Rows rows;
    rows.reserve(result.size());
    const auto columns = result.columns();
    std::vector<pqxx::oid> types(columns);
    for (pqxx::row_size_type c = 0; c < columns; ++c) types[c] = result.column_type(c);
    for (const auto& row : result) {
      std::vector<Value> values;
      values.reserve(columns);
      for (pqxx::row_size_type c = 0; c < columns; ++c) values.push_back(to_value(row[c], types[c]));
      rows.emplace_back(std::move(values));
    }
    return rows;
  }

  void exec_plain(const std::string& sql) {
    statements_.fetch_add(1, std::memory_order_relaxed);
    try {
      tx_.exec(sql);
    } catch (const pqxx::failure&) {
      rethrow_as_database_error();
    }
  }

 private:
  pqxx::result run(std::string_view sql, const Params& params) {
    statements_.fetch_add(1, std::memory_order_relaxed);
    std::vector<std::string> texts;
    texts.reserve(params.size());
    std::vector<const char*> values;  // nullptr: SQL NULL
    values.reserve(params.size());
    for (const auto& param : params) {
      if (std::holds_alternative<std::monostate>(param)) {
        texts.emplace_back();
      } else if (const auto* number = std::get_if<std::int64_t>(&param)) {
        texts.push_back(std::to_string(*number));
      } else if (const auto* real = std::get_if<double>(&param)) {
        char buffer[32];
        const auto end = std::to_chars(buffer, buffer + sizeof buffer, *real).ptr;
        texts.emplace_back(buffer, end);
      } else {
        texts.push_back(std::get<std::string>(param));
      }
    }
    for (std::size_t i = 0; i < params.size(); ++i) {
      values.push_back(std::holds_alternative<std::monostate>(params[i]) ? nullptr : texts[i].c_str());
    }
    try {
      return tx_.exec_prepared(connection_.prepared(sql), pqxx::prepare::make_dynamic_params(values));
    } catch (const pqxx::failure&) {
      rethrow_as_database_error();
    }
  }

  PostgresConnection& connection_;
  pqxx::transaction_base& tx_;
  std::atomic<std::uint64_t>& statements_;
};

using WriteTx = pqxx::transaction<pqxx::serializable, pqxx::read_write>;
using ReadTx = pqxx::transaction<pqxx::repeatable_read, pqxx::read_only>;
// Schema changes read what other processes committed while they waited for the lock: each
// statement of a READ COMMITTED transaction sees every commit before it (a SERIALIZABLE one would
// keep the snapshot its first statement, the lock itself, took before the wait).
using SchemaTx = pqxx::transaction<pqxx::read_committed, pqxx::read_write>;
// The advisory lock every deliveryhub process takes to change the schema (any constant, shared).
constexpr std::string_view kSchemaLockKey = "7291456208711560641";

// `url` for ping()'s connection, which must not hang on a host that stopped answering: libpq's
// connect timeout, and TCP keepalives and a user timeout that break a connection whose peer is gone.
std::string ping_url(const std::string& url) {
  return url + (url.find('?') == std::string::npos ? "?" : "&") +
         "connect_timeout=2&keepalives_idle=2&keepalives_interval=1&keepalives_count=2&tcp_user_timeout=3000";
}

// This thread's unit of work, if one is open.
struct PgUnitOfWork {
  const PostgresDatabase* owner = nullptr;
  std::optional<PostgresDatabase::Lease> lease;  // from the first write
  std::unique_ptr<WriteTx> raw;
  std::unique_ptr<PostgresTransaction> tx;
  std::uint64_t savepoints = 0;
};
thread_local PgUnitOfWork* t_unit = nullptr;

// Opens the unit of work's one write transaction, on `lease`, at its first write or its commit.
void begin_unit_transaction(PgUnitOfWork& unit, PostgresDatabase::Lease lease, std::atomic<std::uint64_t>& statements) {
  unit.lease.emplace(std::move(lease));
  try {
    unit.raw = std::make_unique<WriteTx>((*unit.lease)->raw());
  } catch (const pqxx::failure&) {
    rethrow_as_database_error();
  }
  unit.tx = std::make_unique<PostgresTransaction>(**unit.lease, *unit.raw, statements);
}

// Whether a lone write that failed so is run again: conflicts and lost connections, not a lock
// wait that already took lock_timeout.
bool is_transient(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const LockTimeout&) {
    return false;
  } catch (const TransientError&) {
    return true;
  } catch (...) {
    return false;
  }
}

}  // namespace

std::string postgres_ddl(std::string_view sqlite_ddl) {
  static const std::regex autoincrement(R"(INTEGER\s+PRIMARY\s+KEY\s+AUTOINCREMENT)", std::regex::icase);
  return std::regex_replace(std::string(sqlite_ddl), autoincrement,
                            "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY");
}

std::string redact_url(std::string_view url) {
  const auto scheme = url.find("://");
  const auto at = url.find('@');
  if (scheme == std::string_view::npos || at == std::string_view::npos || at < scheme) return std::string(url);
  const auto colon = url.find(':', scheme + 3);
  if (colon == std::string_view::npos || colon > at) return std::string(url);
  return std::string(url.substr(0, colon + 1)) + "***" + std::string(url.substr(at));
}

PostgresDatabase::PostgresDatabase(const std::string& url, const DatabaseOptions& options)
    : url_(url), pool_size_(options.pool_size == 0 ? 1 : options.pool_size) {
  // public first: what is created unqualified outside a module (schema_migrations) lands there.
  search_path_ = "public";
  for (const auto& schema : options.schemas) {
    for (char c : schema) {
      if (!((c >= 'a' && c <= 'z') || c == '_')) throw std::invalid_argument("bad schema name '" + schema + "'");
    }
    search_path_ += ", " + schema;
  }
  try {  // one connection now: a wrong URL or a server that is down fails at start-up, clearly
    idle_.push_back(std::make_unique<PostgresConnection>(url_, search_path_));
    open_ = 1;
  } catch (const std::exception& e) {
    throw DatabaseError("cannot connect to " + redact_url(url_) + ": " + e.what());
  }
}

PostgresDatabase::~PostgresDatabase() = default;

PostgresDatabase::Lease PostgresDatabase::acquire() {
  std::unique_lock lock(pool_mutex_);
  const bool got =
      returned_.wait_for(lock, std::chrono::seconds(5), [&] { return !idle_.empty() || open_ < pool_size_; });
  if (!got) throw TransientError("no database connection became free within 5 s");
  if (!idle_.empty()) {
    auto connection = std::move(idle_.back());
    idle_.pop_back();
    return Lease(*this, std::move(connection));
  }
  ++open_;
  lock.unlock();
  try {
    return Lease(*this, std::make_unique<PostgresConnection>(url_, search_path_));
  } catch (const std::exception& e) {
    {
      std::lock_guard relock(pool_mutex_);
      --open_;
    }
    returned_.notify_one();
    throw TransientError("cannot connect to " + redact_url(url_) + ": " + e.what());
  }
}

void PostgresDatabase::give_back(std::unique_ptr<PostgresConnection> connection) {
  {
    std::lock_guard lock(pool_mutex_);
    if (connection->is_open()) {
      idle_.push_back(std::move(connection));
    } else {
      --open_;  // broken: the next acquire opens a fresh one
    }
  }
  returned_.notify_one();
}

void PostgresDatabase::write_transaction(const std::function<void(Transaction&)>& work) {
  count(counted_.writes);
  if (auto* unit = t_unit; unit != nullptr && unit->owner == this) {
    if (!unit->tx) {
      begin_unit_transaction(*unit, acquire(), counted_.statements);
    }
    const std::string savepoint = "unit_of_work_" + std::to_string(++unit->savepoints);
    unit->tx->exec_plain("SAVEPOINT " + savepoint);
    const auto callbacks = unit->tx->after_commit_count();
    try {
      work(*unit->tx);
    } catch (...) {
      unit->tx->drop_after_commit_from(callbacks);
      try {
        unit->tx->exec_plain("ROLLBACK TO SAVEPOINT " + savepoint);
      } catch (...) {  // the transaction is gone; the commit will say so
      }
      throw;
    }
    unit->tx->exec_plain("RELEASE SAVEPOINT " + savepoint);
    return;
  }
  for (int attempt = 1;; ++attempt) {
    std::exception_ptr failure;
    {
      auto lease = acquire();
      try {
        WriteTx raw(lease->raw());
        PostgresTransaction tx(*lease, raw, counted_.statements);
        try {
          work(tx);
          tx.count_commit();
          raw.commit();
          count(counted_.commits);
        } catch (const pqxx::failure&) {
          rethrow_as_database_error();
        }
        tx.run_after_commit();
        return;
      } catch (const pqxx::failure&) {  // BEGIN itself failed
        try {
          rethrow_as_database_error();
        } catch (...) {
          failure = std::current_exception();
        }
      } catch (...) {
        failure = std::current_exception();
      }
    }
    if (!is_transient(failure) || attempt >= kWriteAttempts) std::rethrow_exception(failure);
    pause_before_retry(attempt);
  }
}

void PostgresDatabase::read_transaction(const std::function<void(Transaction&)>& work) {
  if (auto* unit = t_unit; unit != nullptr && unit->owner == this && unit->tx) {
    work(*unit->tx);  // read this request's own writes
    return;
  }
  auto lease = acquire();
  try {
    ReadTx raw(lease->raw());
    PostgresTransaction tx(*lease, raw, counted_.statements);
    work(tx);
    tx.count_commit();
    raw.commit();
  } catch (const pqxx::failure&) {
    rethrow_as_database_error();
  }
}

void PostgresDatabase::run_single_statement(const std::function<void(Transaction&)>& work) {
  if (auto* unit = t_unit; unit != nullptr && unit->owner == this && unit->tx) {
    work(*unit->tx);
    return;
  }
  auto lease = acquire();
  try {
    pqxx::nontransaction raw(lease->raw());  // autocommit: no BEGIN, no COMMIT
    PostgresTransaction tx(*lease, raw, counted_.statements, false);
    work(tx);
  } catch (const pqxx::failure&) {
    rethrow_as_database_error();
  }
}

void PostgresDatabase::execute_script(Transaction& tx, std::string_view sql) {
  static_cast<PostgresTransaction&>(tx).exec_plain(postgres_ddl(sql));
}

void PostgresDatabase::enter_module_schema(Transaction& tx, std::string_view module) {
  for (char c : module) {
    if (!((c >= 'a' && c <= 'z') || c == '_')) throw std::invalid_argument("bad module name");
  }
  auto& pg = static_cast<PostgresTransaction&>(tx);
  pg.exec_plain("CREATE SCHEMA IF NOT EXISTS " + std::string(module));
  pg.exec_plain("SET LOCAL search_path TO " + std::string(module) + ", public");
}

void PostgresDatabase::schema_change(const std::function<void(Transaction&)>& work) {
  auto lease = acquire();
  try {
    SchemaTx raw(lease->raw());
    PostgresTransaction tx(*lease, raw, counted_.statements);
    // The connection's lock_timeout (5 s) is for the statements; the wait for another process's
    // migrations gets kSchemaLockWaitSeconds, then the migration's own DDL the usual 5 s.
    tx.exec_plain("SET LOCAL lock_timeout = '" + std::to_string(kSchemaLockWaitSeconds) + "s'");
    tx.exec_plain("SELECT pg_advisory_xact_lock(" + std::string(kSchemaLockKey) + ")");
    tx.exec_plain("SET LOCAL lock_timeout = '5s'");
    work(tx);
    tx.count_commit();
    raw.commit();
    count(counted_.commits);
    tx.run_after_commit();
  } catch (const pqxx::failure&) {
    rethrow_as_database_error();
  }
}

bool PostgresDatabase::ping() {
  std::lock_guard lock(ping_mutex_);
  try {
    if (!ping_connection_ || !ping_connection_->is_open()) {
      ping_connection_.reset();
      auto connection = std::make_unique<PostgresConnection>(ping_url(url_), search_path_);
      pqxx::nontransaction setup(connection->raw());
      setup.exec("SET statement_timeout = '2s'");
      ping_connection_ = std::move(connection);
    }
    pqxx::nontransaction check(ping_connection_->raw());
    check.exec("SELECT 1");
    return true;
  } catch (const std::exception&) {
    ping_connection_.reset();
    return false;
  }
}

void PostgresDatabase::begin_unit_of_work() {
  if (t_unit != nullptr) throw std::logic_error("a unit of work is already open on this thread");
  t_unit = new PgUnitOfWork{this, std::nullopt, nullptr, nullptr, 0};
}

void PostgresDatabase::commit_unit_of_work(const std::function<void(Transaction&)>& last) {
  std::unique_ptr<PgUnitOfWork> unit(t_unit);
  t_unit = nullptr;
  if (!unit || unit->owner != this) throw std::logic_error("no unit of work of this database is open");
  if (!unit->tx) {
    begin_unit_transaction(*unit, acquire(), counted_.statements);
  }
  try {
    last(*unit->tx);
    unit->tx->count_commit();
    unit->raw->commit();
    count(counted_.commits);
  } catch (const pqxx::failure&) {
    rethrow_as_database_error();
  }
  unit->tx->run_after_commit();
}

void PostgresDatabase::abandon_unit_of_work() noexcept {
  std::unique_ptr<PgUnitOfWork> unit(t_unit);
  t_unit = nullptr;
  if (unit && unit->raw) {
    try {
      unit->raw->abort();
    } catch (...) {
    }
  }
}

}  // namespace deliveryhub::core::db
