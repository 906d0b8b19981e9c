#pragma once
#include "core/db/database.hpp"
#include "core/db/sqlite_backup.hpp"
#include "core/sync/affine_pool.hpp"
#include "core/sync/counted_mutex.hpp"

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace deliveryhub::core::db {

class SqliteConnection;

/// SQLite in WAL mode: one writer connection (writers take turns behind a mutex) and a pool of
/// reader connections that read concurrently with the writer, each thread preferring one of its
/// own (sync::AffinePool: no lock shared by every read). Statements are prepared once per
/// connection and cached. The WAL is checkpointed by a thread of its own (PASSIVE, once a commit
/// leaves kCheckpointPages or more in it, and every second), never by a committing writer: SQLite's
/// automatic checkpoint would run inside the writer's turn and hold up every queued write.
class SqliteDatabase final : public Database {
 public:
  SqliteDatabase(const std::string& path, const DatabaseOptions& options);
  ~SqliteDatabase() override;

  void write_transaction(const std::function<void(Transaction&)>& work) override;
  void read_transaction(const std::function<void(Transaction&)>& work) override;
  void execute_script(Transaction& tx, std::string_view sql) override;
  std::string_view backend() const override { return "sqlite"; }
  bool prefers_joined_writes() const override { return true; }
  bool ping() override;
  void begin_unit_of_work() override;
  void commit_unit_of_work(const std::function<void(Transaction&)>& last) override;
  void abandon_unit_of_work() noexcept override;

  /// One write waiting for its group commit.
  struct QueuedWrite;

  /// WAL pages after a commit that wake the checkpointer (SQLite's own default threshold).
  static constexpr int kCheckpointPages = 1000;
  /// Called by the writer connection's WAL hook after each commit (under the writer's turn), with
  /// the WAL's size in pages.
  void note_wal_pages(int pages);

 private:
  // Held shared while this is open (first made, last dropped): a restore refuses meanwhile.
  std::unique_ptr<SqliteServeLock> serve_lock_;
  // Runs `batch` in one transaction, each in a savepoint, and commits; records each one's error.
  // The caller holds writer_mutex_.
  void commit_group(const std::vector<QueuedWrite*>& batch);

  std::unique_ptr<SqliteConnection> writer_;
  sync::CountedMutex writer_mutex_{"sqlite.writer"};
  int wal_pages_ = 0;  // the WAL's size after the last commit; the writer's (under writer_mutex_)
  // Group commit: writes queue here; one thread at a time leads a batch of all queued, then hands
  // the lead to a write queued meanwhile (QueuedWrite::turn). Both under queue_mutex_.
  sync::CountedMutex queue_mutex_{"sqlite.commit_queue"};
  std::vector<QueuedWrite*> queue_;
  bool leading_ = false;
  std::vector<std::unique_ptr<SqliteConnection>> readers_;
  std::unique_ptr<sync::AffinePool<SqliteConnection>> idle_readers_;  // lends readers_
  // The checkpointer: its own connection and thread, woken by the writer's WAL hook.
  void checkpoint_loop();
  std::unique_ptr<SqliteConnection> checkpointer_connection_;
  std::mutex checkpoint_mutex_;
  std::condition_variable checkpoint_wanted_;
  bool checkpoint_due_ = false;
  bool stopping_ = false;
  std::thread checkpointer_;
};

/// Rewrites $N placeholders to SQLite's ?N, leaving string literals alone. Exposed for tests.
std::string rewrite_placeholders(std::string_view sql);

}  // namespace deliveryhub::core::db
