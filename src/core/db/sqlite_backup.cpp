#include "core/db/sqlite_backup.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <thread>

namespace deliveryhub::core::db {
namespace {

namespace fs = std::filesystem;

struct Closer {
  void operator()(sqlite3* db) const { sqlite3_close(db); }
};
using Handle = std::unique_ptr<sqlite3, Closer>;

Handle open(const std::string& name, int flags) {
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(name.c_str(), &db, flags, nullptr);
  Handle handle(db);
  if (rc != SQLITE_OK) {
    throw std::runtime_error("cannot open " + name + ": " + (db ? sqlite3_errmsg(db) : "out of memory"));
  }
  sqlite3_busy_timeout(db, 10000);
  return handle;
}

void exec(sqlite3* db, const std::string& sql) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    std::string message = error ? error : sqlite3_errmsg(db);
    sqlite3_free(error);
    throw std::runtime_error(sql + ": " + message);
  }
}

// Flushes a file (or a folder's entries) to the disk.
void sync_path(const fs::path& path, bool directory) {
  const int fd = ::open(path.c_str(), directory ? O_RDONLY | O_DIRECTORY : O_RDONLY);
  if (fd < 0) throw std::runtime_error("cannot open " + path.string() + " to sync it: " + std::strerror(errno));
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) throw std::runtime_error("cannot sync " + path.string() + ": " + std::strerror(errno));
}

fs::path parent_of(const fs::path& path) {
  return path.has_parent_path() ? path.parent_path() : fs::path(".");
}

std::string utc_stamp() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y%m%dT%H%M%SZ", &utc);
  return text;
}

}  // namespace

SqliteCopyReport check_sqlite_copy(const std::string& path) {
  if (!fs::is_regular_file(path)) throw std::runtime_error("no file at " + path);
  // immutable: nobody writes a copy, so SQLite needs no -shm or lock beside it.
  const auto db = open("file:" + path + "?immutable=1", SQLITE_OPEN_READONLY | SQLITE_OPEN_URI);
  SqliteCopyReport report;
  report.path = path;
  report.bytes = fs::file_size(path);
  sqlite3_stmt* raw = nullptr;
  auto query = [&](const char* sql) {
    if (sqlite3_prepare_v2(db.get(), sql, -1, &raw, nullptr) != SQLITE_OK) {
      throw std::runtime_error(path + " is not a deliveryhub database: " + sqlite3_errmsg(db.get()));
    }
    return std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)>(raw, sqlite3_finalize);
  };
  {
    auto check = query("PRAGMA integrity_check");
    std::string answer;
    while (sqlite3_step(check.get()) == SQLITE_ROW) {
      const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(check.get(), 0));
      answer += (answer.empty() ? "" : "; ") + std::string(text ? text : "");
    }
    if (answer != "ok") throw std::runtime_error(path + " fails its integrity check: " + answer.substr(0, 500));
  }
  auto versions = query("SELECT module, MAX(version) FROM schema_migrations GROUP BY module ORDER BY module");
  int rc;
  while ((rc = sqlite3_step(versions.get())) == SQLITE_ROW) {
    const auto* module = reinterpret_cast<const char*>(sqlite3_column_text(versions.get(), 0));
    report.schema[module ? module : ""] = sqlite3_column_int(versions.get(), 1);
  }
  if (rc != SQLITE_DONE || report.schema.empty()) {
    throw std::runtime_error(path + " is not a deliveryhub database: no migrations recorded");
  }
  return report;
}

SqliteCopyReport backup_sqlite(const std::string& source, const std::string& target) {
  const auto started = std::chrono::steady_clock::now();
  if (!fs::is_regular_file(source)) throw std::runtime_error("no database at " + source);
  if (fs::exists(target)) throw std::runtime_error(target + " exists; a backup never overwrites one");
  const fs::path partial = target + ".partial";
  fs::create_directories(parent_of(partial));
  fs::remove(partial);  // what a backup interrupted before left
  {
    // Read-write (never created): a read-only connection cannot open a WAL database whose -shm
    // is missing, as when no server runs. The backup API only reads from it.
    const auto from = open(source, SQLITE_OPEN_READWRITE);
    const auto to = open(partial.string(), SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    sqlite3_backup* copy = sqlite3_backup_init(to.get(), "main", from.get(), "main");
    if (copy == nullptr) throw std::runtime_error("cannot start the backup: " + std::string(sqlite3_errmsg(to.get())));
    int rc;
    // -1: every page in one step, under one read transaction on the source — a snapshot that
    // writers going on meanwhile (WAL) cannot change. BUSY only while another connection holds
    // an exclusive lock (a checkpoint truncating the WAL): wait and go on.
    for (int tries = 0; (rc = sqlite3_backup_step(copy, -1)) == SQLITE_BUSY || rc == SQLITE_LOCKED; ++tries) {
      if (tries == 200) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    sqlite3_backup_finish(copy);
    if (rc != SQLITE_DONE) {
      fs::remove(partial);
      throw std::runtime_error("the backup did not finish: " + std::string(sqlite3_errstr(rc)));
    }
    exec(to.get(), "PRAGMA journal_mode=DELETE");  // one self-contained file, no -wal beside it
  }
  sync_path(partial, false);
  SqliteCopyReport report;
  try {
    report = check_sqlite_copy(partial.string());
  } catch (...) {
    fs::remove(partial);
    throw;
  }
  if (fs::exists(target)) {
    fs::remove(partial);
    throw std::runtime_error(target + " appeared during the backup; a backup never overwrites one");
  }
  fs::rename(partial, target);
  sync_path(parent_of(target), true);
  report.path = target;
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return report;
}

SqliteCopyReport restore_sqlite(const std::string& backup, const std::string& database) {
  const auto started = std::chrono::steady_clock::now();
  const auto checked = check_sqlite_copy(backup);
  const SqliteServeLock lock(database, SqliteServeLock::Mode::exclusive);
  const fs::path restoring = database + ".restoring";
  fs::remove(restoring);
  fs::copy_file(backup, restoring);
  sync_path(restoring, false);
  const std::string kept = ".before-restore-" + utc_stamp();
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    const fs::path file = database + suffix;
    if (fs::exists(file)) fs::rename(file, database + kept + suffix);
  }
  fs::rename(restoring, database);
  sync_path(parent_of(database), true);
  auto report = check_sqlite_copy(database);
  if (report.schema != checked.schema) throw std::runtime_error("the restored database differs from the backup");
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return report;
}

SqliteServeLock::SqliteServeLock(const std::string& database, Mode mode) {
  const std::string path = database + ".lock";
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
  if (::flock(fd_, (mode == Mode::shared ? LOCK_SH : LOCK_EX) | LOCK_NB) != 0) {
    const int error = errno;
    ::close(fd_);
    fd_ = -1;
    if (error == EWOULDBLOCK) {
      throw std::runtime_error(mode == Mode::shared
                                   ? database + " is being restored; start again when the restore has finished"
                                   : "a deliveryhub process is using " + database + "; stop it before restoring");
    }
    throw std::runtime_error("cannot lock " + path + ": " + std::strerror(error));
  }
}

SqliteServeLock::~SqliteServeLock() {
  if (fd_ >= 0) ::close(fd_);  // closing drops the flock
}

}  // namespace deliveryhub::core::db
