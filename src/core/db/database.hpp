#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

namespace deliveryhub::core::db {

/// A SQL value. Text carries strings and JSON; integers carry times (Unix ms), money, versions.
using Value = std::variant<std::monostate, std::int64_t, double, std::string>;
using Params = std::vector<Value>;

/// A parameter that is NULL when `value` is empty.
template <class T>
Value nullable(const std::optional<T>& value) {
  return value ? Value{*value} : Value{std::monostate{}};
}

/// One result row; columns by position, in the order of the SELECT list.
class Row {
 public:
  explicit Row(std::vector<Value> values) : values_(std::move(values)) {}
  bool is_null(std::size_t column) const;
  std::int64_t integer(std::size_t column) const;
  const std::string& text(std::size_t column) const;
  std::optional<std::string> optional_text(std::size_t column) const;
  std::optional<std::int64_t> optional_integer(std::size_t column) const;
  std::size_t size() const { return values_.size(); }

 private:
  std::vector<Value> values_;
};
using Rows = std::vector<Row>;

/// A statement broke a UNIQUE or PRIMARY KEY constraint.
class UniqueViolation : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Any other database failure. Not a client error: it becomes a 500 (or 503) at the boundary.
class DatabaseError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A failure that trying again later may cure: a lost serialization conflict, a dropped
/// connection, no free connection in time. Nothing of the transaction was committed. 503.
class TransientError : public DatabaseError {
 public:
  using DatabaseError::DatabaseError;
};

/// A statement waited longer than the connection's lock_timeout (5 s) for a lock that a long
/// transaction holds (a migration, a report, an operator's session). 503 like any transient
/// failure, but not run again in place: another 5-s wait would most likely end the same way.
class LockTimeout : public TransientError {
 public:
  using TransientError::TransientError;
};

/// Sleeps before retry number `attempt` + 1 of work that lost a conflict: a random time (full
/// jitter) under a ceiling that doubles with each attempt, 4 ms at the first, 200 ms at most — so
/// the transactions that collided do not collide again at once.
void pause_before_retry(int attempt);

/// An open transaction. SQL uses $1, $2 … placeholders on every backend.
/// Not thread-safe: it belongs to the thread running the transaction.
class Transaction {
 public:
  virtual ~Transaction() = default;
  /// Runs one statement; returns the number of rows it changed.
  virtual std::int64_t execute(std::string_view sql, const Params& params = {}) = 0;
  virtual Rows query(std::string_view sql, const Params& params = {}) = 0;
  std::optional<Row> query_one(std::string_view sql, const Params& params = {});

  /// Runs `callback` after this transaction commits (never if it rolls back).
  void after_commit(std::function<void()> callback) { after_commit_.push_back(std::move(callback)); }
  /// For backends: runs and clears the after-commit callbacks.
  void run_after_commit();
  /// For backends that roll back part of a transaction (a savepoint): how many callbacks are
  /// registered, and dropping those registered after that count.
  std::size_t after_commit_count() const { return after_commit_.size(); }
  void drop_after_commit_from(std::size_t count) { after_commit_.resize(count); }

 private:
  std::vector<std::function<void()>> after_commit_;
};

/// What a database has done since it opened, for metrics and benchmarks (per placed order: how
/// many commits, statements and WAL pages it costs).
struct DatabaseCounters {
  std::uint64_t commits = 0;     // write transactions committed to the store; a group commit counts once
  std::uint64_t writes = 0;      // write_transaction calls and units of work (a group holds several)
  std::uint64_t statements = 0;  // statements run, reads and writes, transaction control included
  std::uint64_t wal_frames = 0;  // SQLite: pages appended to the write-ahead log; PostgreSQL: 0
};

/// A database: the one place that knows the backend. Thread-safe.
class Database {
 public:
  virtual ~Database() = default;

  /// A snapshot of the counters; each is exact, the four are not read atomically together.
  DatabaseCounters counters() const {
    return {counted_.commits.load(std::memory_order_relaxed), counted_.writes.load(std::memory_order_relaxed),
            counted_.statements.load(std::memory_order_relaxed), counted_.wal_frames.load(std::memory_order_relaxed)};
  }

  /// Runs `work` in a read-write transaction: commits when it returns, rolls back when it throws
  /// (and rethrows). Writers are serialised on SQLite, where concurrent writes are committed
  /// together (group commit): each `work` in its own savepoint of one transaction, so one that
  /// throws undoes only itself, and this returns once the shared commit is durable.
  virtual void write_transaction(const std::function<void(Transaction&)>& work) = 0;
  /// Runs `work` in a read-only transaction (a consistent snapshot).
  virtual void read_transaction(const std::function<void(Transaction&)>& work) = 0;
  /// Runs `work`, which sends at most one statement (a second throws std::logic_error), as that
  /// statement alone. One statement is atomic and reads one snapshot by itself, so a backend
  /// sends no BEGIN or COMMIT around it where they cost round trips (PostgreSQL: one round trip
  /// instead of three). Inside this thread's unit of work, once it has written, it reads there.
  void single_statement_read(const std::function<void(Transaction&)>& work);
  /// Runs a script of several statements (migrations) inside the given transaction.
  virtual void execute_script(Transaction& tx, std::string_view sql) = 0;
  /// Makes what `tx` creates from now on belong to `module` (PostgreSQL: its schema). SQLite
  /// has one namespace, where the module prefix of every table name keeps modules apart.
  virtual void enter_module_schema(Transaction& tx, std::string_view module) {
    (void)tx;
    (void)module;
  }
  /// "sqlite" or "postgresql".
  virtual std::string_view backend() const = 0;
  /// Whether writes that could commit separately are better joined into one transaction (a
  /// UnitOfWork, one savepoint each). SQLite: yes — writers take turns anyway, so joining costs
  /// nobody concurrency and saves commits and WAL pages. PostgreSQL: no — a longer transaction
  /// holds its locks longer and a serialization failure would undo all of the joined writes.
  virtual bool prefers_joined_writes() const { return false; }
  /// Runs `work` as a change of the schema (migrations): alone among every process on this
  /// database — it first waits, up to kSchemaLockWait, until no other process changes the schema
  /// and holds them off until it commits — and reading what those committed before it.
  /// PostgreSQL: a READ COMMITTED transaction that starts with a transaction-scoped advisory lock.
  /// SQLite: a write transaction (writers take turns anyway).
  virtual void schema_change(const std::function<void(Transaction&)>& work) { write_transaction(work); }
  /// Whether the store answers now, for the health monitor behind /readyz. Never waits for a
  /// pooled connection (PostgreSQL: a connection of its own, 2-s connect and statement timeouts).
  virtual bool ping() = 0;

  /// For UnitOfWork: starts, commits (after running `last` in it) or abandons this thread's
  /// unit of work. Backends that cannot join transactions throw std::logic_error.
  virtual void begin_unit_of_work() = 0;
  virtual void commit_unit_of_work(const std::function<void(Transaction&)>& last) = 0;
  virtual void abandon_unit_of_work() noexcept = 0;

  template <class Work>
  auto write(Work&& work) -> std::invoke_result_t<Work, Transaction&> {
    return run(&Database::write_transaction, std::forward<Work>(work));
  }
  template <class Work>
  auto read(Work&& work) -> std::invoke_result_t<Work, Transaction&> {
    return run(&Database::read_transaction, std::forward<Work>(work));
  }
  template <class Work>
  auto read_statement(Work&& work) -> std::invoke_result_t<Work, Transaction&> {
    return run(&Database::single_statement_read, std::forward<Work>(work));
  }

 protected:
  /// Backends count here (relaxed: they are statistics, not synchronisation).
  struct Counting {
    std::atomic<std::uint64_t> commits{0};
    std::atomic<std::uint64_t> writes{0};
    std::atomic<std::uint64_t> statements{0};
    std::atomic<std::uint64_t> wal_frames{0};
  };
  static void count(std::atomic<std::uint64_t>& counter, std::uint64_t n = 1) {
    counter.fetch_add(n, std::memory_order_relaxed);
  }
  Counting counted_;
  /// single_statement_read without the one-statement check: by default a read transaction.
  virtual void run_single_statement(const std::function<void(Transaction&)>& work) { read_transaction(work); }

 private:
  template <class Work>
  auto run(void (Database::*kind)(const std::function<void(Transaction&)>&), Work&& work)
      -> std::invoke_result_t<Work, Transaction&> {
    using Result = std::invoke_result_t<Work, Transaction&>;
    if constexpr (std::is_void_v<Result>) {
      (this->*kind)([&](Transaction& tx) { work(tx); });
    } else {
      std::optional<Result> result;
      (this->*kind)([&](Transaction& tx) { result.emplace(work(tx)); });
      return std::move(*result);
    }
  }
};

/// One request's effects as one transaction. While it lives, every write_transaction of `db` on
/// this thread joins a single write transaction, begun at the first write, each write inside a
/// savepoint (one that throws undoes only itself); reads after the first write run in it too, so
/// they see the request's writes (reads before it use their own snapshots). Nothing is committed
/// until commit(), which runs `last` in the same transaction (e.g. storing the response of an
/// Idempotency-Key) and then the after-commit callbacks; destruction without commit() rolls
/// everything back. The writer stays taken from the first write to the end. Not nestable.
class UnitOfWork {
 public:
  explicit UnitOfWork(Database& db) : db_(db) { db_.begin_unit_of_work(); }
  ~UnitOfWork() {
    if (!done_) db_.abandon_unit_of_work();
  }
  UnitOfWork(const UnitOfWork&) = delete;
  UnitOfWork& operator=(const UnitOfWork&) = delete;

  /// Throws what `last` or the commit throws; everything is rolled back then.
  void commit(const std::function<void(Transaction&)>& last) {
    done_ = true;
    db_.commit_unit_of_work(last);
  }

 private:
  Database& db_;
  bool done_ = false;
};

/// How long schema_change waits for another process's schema change (migrations of a release
/// started by several pods and a Job at once) before failing.
inline constexpr int kSchemaLockWaitSeconds = 300;

struct DatabaseOptions {
  std::size_t read_connections = 4;  // SQLite
  int busy_timeout_ms = 5000;        // SQLite
  std::size_t pool_size = 8;         // PostgreSQL: connections at most
  std::vector<std::string> schemas;  // PostgreSQL: the modules' schemas this process uses
};

/// Opens "sqlite:PATH" (creating the file and its folder) or "postgresql://…" (a libpq URL).
/// Throws std::invalid_argument for an unsupported URL and DatabaseError when the store cannot
/// be opened or reached.
std::unique_ptr<Database> open_database(const std::string& url, const DatabaseOptions& options = {});

}  // namespace deliveryhub::core::db
