#include "core/db/sqlite_database.hpp"

#include "core/log/log.hpp"

#include <sqlite3.h>

#include <unordered_map>
#include <utility>

namespace deliveryhub::core::db {

std::string rewrite_placeholders(std::string_view sql) {
  std::string out;
  out.reserve(sql.size());
  char quote = 0;
  for (std::size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (quote) {
      if (c == quote) quote = 0;
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '$' && i + 1 < sql.size() && sql[i + 1] >= '0' && sql[i + 1] <= '9') {
      out.push_back('?');
      continue;
    }
    out.push_back(c);
  }
  return out;
}

class SqliteConnection {
 public:
  static constexpr int kPageSize = 2048;

  // Counts every statement it runs in `statements`, which must outlive it.
  SqliteConnection(const std::string& path, bool read_only, int busy_timeout_ms, std::atomic<std::uint64_t>& statements)
      : statements_run_(statements) {
    const int flags =
        (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
      std::string message = db_ ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      throw DatabaseError("cannot open SQLite database '" + path + "': " + message);
    }
    sqlite3_busy_timeout(db_, busy_timeout_ms);
    sqlite3_extended_result_codes(db_, 1);
    if (!read_only) {
      // Takes effect only when this creates the database (ADR 0027): each commit writes every
      // page it touched to the WAL, and small rows changed all over the B-trees make most of a
      // 4 KiB page dead weight there.
      exec("PRAGMA page_size=" + std::to_string(kPageSize));
      exec("PRAGMA journal_mode=WAL");
    }
    exec("PRAGMA foreign_keys=ON");
    exec("PRAGMA synchronous=NORMAL");
  }
  ~SqliteConnection() {
    for (auto& [sql, statement] : statements_) sqlite3_finalize(statement);
    sqlite3_close(db_);
  }
  SqliteConnection(const SqliteConnection&) = delete;
  SqliteConnection& operator=(const SqliteConnection&) = delete;

  sqlite3* handle() { return db_; }

  // Runs transaction control (BEGIN, COMMIT, SAVEPOINT …) as a statement prepared once.
  void control(std::string_view sql) { run(sql, {}, nullptr); }

  void exec(const std::string& sql) {
    statements_run_.fetch_add(1, std::memory_order_relaxed);
    char* error = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
      std::string message = error ? error : "unknown error";
      sqlite3_free(error);
      throw DatabaseError("SQLite: " + message);
    }
  }

  // Runs a prepared statement, collecting rows when `rows` is given.
  std::int64_t run(std::string_view sql, const Params& params, Rows* rows) {
    statements_run_.fetch_add(1, std::memory_order_relaxed);
    sqlite3_stmt* statement = prepare(sql);
    struct Reset {
      sqlite3_stmt* s;
      ~Reset() {
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
      }
    } reset{statement};
    const int expected = sqlite3_bind_parameter_count(statement);
    if (expected != static_cast<int>(params.size())) {
      throw DatabaseError("statement expects " + std::to_string(expected) + " parameters, got " +
                          std::to_string(params.size()) + ": " + std::string(sql));
    }
    for (std::size_t i = 0; i < params.size(); ++i) bind(statement, static_cast<int>(i + 1), params[i]);
    while (true) {
      const int rc = sqlite3_step(statement);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) fail(rc);
      if (!rows) continue;
      const int columns = sqlite3_column_count(statement);
      std::vector<Value> values;
      values.reserve(static_cast<std::size_t>(columns));
      for (int c = 0; c < columns; ++c) values.push_back(column(statement, c));
      rows->emplace_back(std::move(values));
    }
    return sqlite3_changes64(db_);
  }

 private:
  sqlite3_stmt* prepare(std::string_view sql) {
    auto found = statements_.find(std::string(sql));
    if (found != statements_.end()) return found->second;
    const std::string rewritten = rewrite_placeholders(sql);
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v3(db_, rewritten.c_str(), static_cast<int>(rewritten.size()), SQLITE_PREPARE_PERSISTENT,
                           &statement, nullptr) != SQLITE_OK) {
      throw DatabaseError(std::string("SQLite prepare: ") + sqlite3_errmsg(db_) + " in: " + std::string(sql));
    }
    statements_.emplace(std::string(sql), statement);
    return statement;
  }

  void bind(sqlite3_stmt* statement, int index, const Value& value) {
    int rc = SQLITE_OK;
    if (std::holds_alternative<std::monostate>(value)) {
      rc = sqlite3_bind_null(statement, index);
    } else if (const auto* number = std::get_if<std::int64_t>(&value)) {
      rc = sqlite3_bind_int64(statement, index, *number);
    } else if (const auto* real = std::get_if<double>(&value)) {
      rc = sqlite3_bind_double(statement, index, *real);
    } else {
      const auto& text = std::get<std::string>(value);
      rc = sqlite3_bind_text64(statement, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
    }
    if (rc != SQLITE_OK) fail(rc);
  }

  static Value column(sqlite3_stmt* statement, int c) {
    switch (sqlite3_column_type(statement, c)) {
      case SQLITE_INTEGER:
        return static_cast<std::int64_t>(sqlite3_column_int64(statement, c));
      case SQLITE_FLOAT:
        return sqlite3_column_double(statement, c);
      case SQLITE_NULL:
        return std::monostate{};
      default: {
        const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(statement, c));
        return std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(statement, c)));
      }
    }
  }

  [[noreturn]] void fail(int rc) {
    std::string message = sqlite3_errmsg(db_);
    if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) throw UniqueViolation(message);
    throw DatabaseError("SQLite: " + message);
  }

  sqlite3* db_ = nullptr;
  std::unordered_map<std::string, sqlite3_stmt*> statements_;
  std::atomic<std::uint64_t>& statements_run_;
};

namespace {

class SqliteTransaction final : public Transaction {
 public:
  explicit SqliteTransaction(SqliteConnection& connection) : connection_(connection) {}
  std::int64_t execute(std::string_view sql, const Params& params) override {
    return connection_.run(sql, params, nullptr);
  }
  Rows query(std::string_view sql, const Params& params) override {
    Rows rows;
    connection_.run(sql, params, &rows);
    return rows;
  }

 private:
  SqliteConnection& connection_;
};

// A read-only transaction on a reader connection.
void run_read_transaction(SqliteConnection& connection, const std::function<void(Transaction&)>& work) {
  connection.control("BEGIN");
  SqliteTransaction tx(connection);
  try {
    work(tx);
    connection.control("COMMIT");
  } catch (...) {
    try {
      connection.control("ROLLBACK");
    } catch (...) {  // the original error matters more
    }
    throw;
  }
  tx.run_after_commit();
}

// This thread's unit of work (UnitOfWork), if one is open.
struct UnitOfWorkState {
  const SqliteDatabase* owner = nullptr;
  std::unique_lock<sync::CountedMutex> writer;  // taken at the first write
  std::unique_ptr<SqliteTransaction> tx;        // open from the first write
};
thread_local UnitOfWorkState* t_unit_of_work = nullptr;

}  // namespace

SqliteDatabase::SqliteDatabase(const std::string& path, const DatabaseOptions& options) {
  if (path != ":memory:" && path.rfind("file:", 0) != 0) {
    try {
      serve_lock_ = std::make_unique<SqliteServeLock>(path, SqliteServeLock::Mode::shared);
    } catch (const std::runtime_error& error) {
      throw DatabaseError(error.what());
    }
  }
  writer_ = std::make_unique<SqliteConnection>(path, false, options.busy_timeout_ms, counted_.statements);
  const std::size_t readers = options.read_connections == 0 ? 1 : options.read_connections;
  std::vector<SqliteConnection*> lent;
  for (std::size_t i = 0; i < readers; ++i) {
    readers_.push_back(std::make_unique<SqliteConnection>(path, true, options.busy_timeout_ms, counted_.statements));
    lent.push_back(readers_.back().get());
  }
  idle_readers_ = std::make_unique<sync::AffinePool<SqliteConnection>>(std::move(lent), "sqlite.readers");
  // Commits no longer checkpoint; the checkpointer does, on its own connection.
  writer_->exec("PRAGMA wal_autocheckpoint=0");
  checkpointer_connection_ =
      std::make_unique<SqliteConnection>(path, false, options.busy_timeout_ms, counted_.statements);
  checkpointer_connection_->exec("PRAGMA wal_autocheckpoint=0");
  sqlite3_wal_hook(
      writer_->handle(),
      [](void* self, sqlite3*, const char*, int pages) {
        static_cast<SqliteDatabase*>(self)->note_wal_pages(pages);
        return SQLITE_OK;
      },
      this);
  checkpointer_ = std::thread([this] { checkpoint_loop(); });
}

SqliteDatabase::~SqliteDatabase() {
  {
    std::lock_guard lock(checkpoint_mutex_);
    stopping_ = true;
  }
  checkpoint_wanted_.notify_one();
  checkpointer_.join();
  sqlite3_wal_hook(writer_->handle(), nullptr, nullptr);
}  // the last connection to close checkpoints what is left

void SqliteDatabase::note_wal_pages(int pages) {
  // The WAL grows by this commit's frames, or starts over (after a checkpoint) with them.
  count(counted_.wal_frames, static_cast<std::uint64_t>(pages >= wal_pages_ ? pages - wal_pages_ : pages));
  wal_pages_ = pages;
  if (pages < kCheckpointPages) return;
  {
    std::lock_guard lock(checkpoint_mutex_);
    checkpoint_due_ = true;
  }
  checkpoint_wanted_.notify_one();
}

void SqliteDatabase::checkpoint_loop() {
  std::unique_lock lock(checkpoint_mutex_);
  while (!stopping_) {
    checkpoint_wanted_.wait_for(lock, std::chrono::seconds(1), [this] { return checkpoint_due_ || stopping_; });
    if (stopping_) break;
    const bool due = std::exchange(checkpoint_due_, false);
    lock.unlock();
    // Two passes. The first copies the bulk of the WAL while writers go on (PASSIVE never waits
    // for, or blocks, the writer or readers). Under a steady stream of commits it can never copy
    // the whole WAL, which only starts over from its beginning once a checkpoint has; so the
    // second pass takes the writers' turn and copies the few frames committed meanwhile.
    // Returns whether frames are left that this pass could not copy.
    const auto passive = [this] {
      int wal_pages = 0;
      int copied = 0;
      const int rc = sqlite3_wal_checkpoint_v2(checkpointer_connection_->handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                               &wal_pages, &copied);
      if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
        log::warn("SQLite checkpoint failed", {{"error", sqlite3_errmsg(checkpointer_connection_->handle())}});
        return false;
      }
      return rc == SQLITE_BUSY || copied < wal_pages;
    };
    // On the idle tick writers wait only if the first pass left frames. When commits woke the
    // checkpointer, always: a pass can finish "everything" as of its start while writers append,
    // and the WAL then never starts over (the unit test's WAL grew to 51 MB that way).
    if (passive() || due) {
      std::lock_guard writer(writer_mutex_);
      passive();
    }
    lock.lock();
  }
}

struct SqliteDatabase::QueuedWrite {
  const std::function<void(Transaction&)>* work;
  log::Context context;  // the submitting thread's, for the work's log lines
  std::exception_ptr error;
  bool done = false;              // set before `turn` is released: committed (or `error`)
  std::binary_semaphore turn{0};  // released once: done, or this write leads the next batch
};

void SqliteDatabase::commit_group(const std::vector<QueuedWrite*>& batch) {
  try {
    writer_->control("BEGIN IMMEDIATE");
  } catch (...) {
    for (auto* write : batch) write->error = std::current_exception();
    return;
  }
  SqliteTransaction tx(*writer_);
  for (auto* write : batch) {
    const auto callbacks = tx.after_commit_count();
    log::ScopedContext context(write->context);
    try {
      // One name for every write: they run one after another, never nested in each other.
      writer_->control("SAVEPOINT group_write");
      (*write->work)(tx);
      writer_->control("RELEASE group_write");
    } catch (...) {
      write->error = std::current_exception();
      tx.drop_after_commit_from(callbacks);
      try {
        writer_->control("ROLLBACK TO group_write");
        writer_->control("RELEASE group_write");
      } catch (...) {  // the transaction is gone: COMMIT below fails and says so to everyone
      }
    }
  }
  try {
    writer_->control("COMMIT");
    count(counted_.commits);
  } catch (...) {
    const auto failure = std::current_exception();
    for (auto* write : batch) {
      if (!write->error) write->error = failure;
    }
    try {
      writer_->control("ROLLBACK");
    } catch (...) {
    }
    return;
  }
  try {
    tx.run_after_commit();
  } catch (const std::exception& e) {  // the writes are committed; a failed wake-up must not undo that
    log::error("after-commit callback failed", {{"error", e.what()}});
  }
}

void SqliteDatabase::write_transaction(const std::function<void(Transaction&)>& work) {
  count(counted_.writes);
  auto* unit = t_unit_of_work;
  if (unit == nullptr || unit->owner != this) {
    QueuedWrite me{&work, log::current(), nullptr, false};
    bool lead = false;
    {
      std::lock_guard lock(queue_mutex_);
      queue_.push_back(&me);
      lead = !std::exchange(leading_, true);
    }
    // A follower sleeps on its own semaphore, with no lock held: the leader wakes each write of
    // its batch once, and hands the lead to the first write queued meanwhile (no herd of
    // waiters retaking the queue's lock).
    if (!lead) me.turn.acquire();
    if (!me.done) {
      // Lead: wait for the writer's turn, then take every write queued by then (ours among
      // them) and commit them together — those queued while the writer was busy join too.
      std::unique_lock writer(writer_mutex_);
      std::vector<QueuedWrite*> batch;
      {
        std::lock_guard lock(queue_mutex_);
        batch = std::move(queue_);
        queue_.clear();
      }
      try {
        commit_group(batch);  // records each write's error; anything it lets escape fails them all
      } catch (...) {
        for (auto* write : batch) {
          if (!write->error) write->error = std::current_exception();
        }
      }
      writer.unlock();
      QueuedWrite* next = nullptr;
      {
        std::lock_guard lock(queue_mutex_);
        if (queue_.empty()) {
          leading_ = false;
        } else {
          next = queue_.front();
        }
      }
      for (auto* write : batch) {
        write->done = true;
        if (write != &me) write->turn.release();  // `write` may be gone once released
      }
      if (next != nullptr) next->turn.release();  // still queued and not done: it leads
    }
    if (me.error) std::rethrow_exception(me.error);
    return;
  }
  if (!unit->tx) {
    unit->writer = std::unique_lock(writer_mutex_);
    writer_->control("BEGIN IMMEDIATE");
    unit->tx = std::make_unique<SqliteTransaction>(*writer_);
  }
  // One name for all: a savepoint name means the innermost open one, and these nest properly.
  writer_->control("SAVEPOINT unit_of_work");
  const auto callbacks = unit->tx->after_commit_count();
  try {
    work(*unit->tx);
  } catch (...) {
    unit->tx->drop_after_commit_from(callbacks);  // what the undone writes asked for must not run
    try {
      writer_->control("ROLLBACK TO unit_of_work");
      writer_->control("RELEASE unit_of_work");
    } catch (...) {  // the original error matters more; commit will fail if the tx is gone
    }
    throw;
  }
  writer_->control("RELEASE unit_of_work");
}

void SqliteDatabase::begin_unit_of_work() {
  if (t_unit_of_work != nullptr) throw std::logic_error("a unit of work is already open on this thread");
  t_unit_of_work = new UnitOfWorkState{this, {}, nullptr};
}

void SqliteDatabase::commit_unit_of_work(const std::function<void(Transaction&)>& last) {
  std::unique_ptr<UnitOfWorkState> unit(t_unit_of_work);
  t_unit_of_work = nullptr;
  if (!unit || unit->owner != this) throw std::logic_error("no unit of work of this database is open");
  if (!unit->tx) {
    unit->writer = std::unique_lock(writer_mutex_);
    writer_->control("BEGIN IMMEDIATE");
    unit->tx = std::make_unique<SqliteTransaction>(*writer_);
  }
  try {
    last(*unit->tx);
    writer_->control("COMMIT");
    count(counted_.commits);
  } catch (...) {
    try {
      writer_->control("ROLLBACK");
    } catch (...) {
    }
    throw;
  }
  unit->writer.unlock();
  unit->tx->run_after_commit();
}

void SqliteDatabase::abandon_unit_of_work() noexcept {
  std::unique_ptr<UnitOfWorkState> unit(t_unit_of_work);
  t_unit_of_work = nullptr;
  if (unit && unit->tx) {
    try {
      writer_->control("ROLLBACK");
    } catch (...) {
    }
  }
}

void SqliteDatabase::read_transaction(const std::function<void(Transaction&)>& work) {
  if (auto* unit = t_unit_of_work; unit != nullptr && unit->owner == this && unit->tx) {
    work(*unit->tx);  // read this request's own writes
    return;
  }
  auto reader = idle_readers_->take();
  run_read_transaction(*reader, work);
}

void SqliteDatabase::execute_script(Transaction& tx, std::string_view sql) {
  (void)tx;  // the script runs on the writer connection, which `tx` holds
  writer_->exec(std::string(sql));
}

bool SqliteDatabase::ping() {
  try {
    read_transaction([](Transaction& tx) { tx.query("SELECT 1"); });
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace deliveryhub::core::db
