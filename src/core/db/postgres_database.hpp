#pragma once
#include "core/db/database.hpp"
#include "core/sync/counted_mutex.hpp"

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace deliveryhub::core::db {

class PostgresConnection;

/// PostgreSQL through libpqxx: a fixed pool of connections, statements prepared once per
/// connection. Write transactions are SERIALIZABLE, so code written for SQLite's one writer keeps
/// its guarantees across threads and processes; a write that loses a serialization conflict is
/// run again (up to `kWriteAttempts` times, after a short jittered pause) when it is a lone write_transaction, and
/// fails with TransientConflict inside a UnitOfWork (the caller's request is not half-applied). Reads are REPEATABLE
/// READ, READ ONLY snapshots. Each module's tables live in a schema named after the module; the connections'
/// search_path lists the schemas of this process's modules.
class PostgresDatabase final : public Database {
 public:
  static constexpr int kWriteAttempts = 10;

  PostgresDatabase(const std::string& url, const DatabaseOptions& options);
  ~PostgresDatabase() override;

  void write_transaction(const std::function<void(Transaction&)>& work) override;
  void read_transaction(const std::function<void(Transaction&)>& work) override;
  void execute_script(Transaction& tx, std::string_view sql) override;
  void enter_module_schema(Transaction& tx, std::string_view module) override;
  void schema_change(const std::function<void(Transaction&)>& work) override;
  std::string_view backend() const override { return "postgresql"; }
  bool ping() override;
  void begin_unit_of_work() override;
  void commit_unit_of_work(const std::function<void(Transaction&)>& last) override;
  void abandon_unit_of_work() noexcept override;

  /// A connection taken from the pool; returned on destruction.
  class Lease;

 private:
  void run_single_statement(const std::function<void(Transaction&)>& work) override;
  Lease acquire();
  void give_back(std::unique_ptr<PostgresConnection> connection);

  std::string url_;
  std::string search_path_;
  std::vector<std::unique_ptr<PostgresConnection>> idle_;
  std::size_t open_ = 0;  // connections made and not dropped
  std::size_t pool_size_;
  sync::CountedMutex pool_mutex_{"postgres.pool"};
  std::condition_variable_any returned_;
  std::mutex ping_mutex_;  // ping()'s own connection, outside the pool
  std::unique_ptr<PostgresConnection> ping_connection_;
};

/// SQLite DDL → PostgreSQL DDL: `INTEGER PRIMARY KEY AUTOINCREMENT` becomes an identity column.
/// The migrations are written once, in the subset both understand; this is the one difference.
std::string postgres_ddl(std::string_view sqlite_ddl);

/// The `postgresql://…` URL without its password, for logs.
std::string redact_url(std::string_view url);

}  // namespace deliveryhub::core::db
