#pragma once
// Backups of the embedded SQLite database (issue 17): an online copy with SQLite's backup API, a
// check of any copy, a restore that refuses while a process uses the database, and the lock that
// lets it tell.

#include <cstdint>
#include <map>
#include <string>

namespace deliveryhub::core::db {

/// What a checked copy of a deliveryhub SQLite database holds.
struct SqliteCopyReport {
  std::string path;
  std::uintmax_t bytes = 0;
  double seconds = 0;                 // what the copy took; 0 for a check alone
  std::map<std::string, int> schema;  // module → the highest migration applied
};

/// Copies the database at `source` (in use or not) to `target` with SQLite's online backup API in
/// one step: a consistent snapshot, taken under a read transaction while the server's connections
/// go on writing (WAL). The copy is written to `target + ".partial"`, made self-contained (no
/// WAL), synced, checked with check_sqlite_copy, and only then renamed to `target`, which must
/// not exist. Throws std::runtime_error with the reason.
SqliteCopyReport backup_sqlite(const std::string& source, const std::string& target);

/// Opens `path` read-only as immutable and checks it: `PRAGMA integrity_check` answers ok and the
/// migrations table names what each module applied. Throws std::runtime_error otherwise.
SqliteCopyReport check_sqlite_copy(const std::string& path);

/// Replaces the database at `database` with the copy at `backup`, once the copy passed
/// check_sqlite_copy, and only while no process holds the database's SqliteServeLock (throws
/// otherwise, changing nothing). The replaced files (the database, its -wal and -shm) are kept as
/// `<name>.before-restore-<UTC stamp>` beside it; the result's `path` is the restored database.
SqliteCopyReport restore_sqlite(const std::string& backup, const std::string& database);

/// An advisory lock (flock) on `<database>.lock`. Every process that opens the database to serve
/// or migrate holds it shared for its lifetime; restore_sqlite takes it exclusive, so a restore
/// refuses while any of them runs and none starts during a restore. The kernel drops it with the
/// process: no stale lock after a crash. Throws std::runtime_error when it cannot be had.
class SqliteServeLock {
 public:
  enum class Mode { shared, exclusive };
  SqliteServeLock(const std::string& database, Mode mode);
  ~SqliteServeLock();
  SqliteServeLock(const SqliteServeLock&) = delete;
  SqliteServeLock& operator=(const SqliteServeLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace deliveryhub::core::db
