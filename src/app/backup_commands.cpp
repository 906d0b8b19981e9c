#include "backup_commands.hpp"

#include "core/db/sqlite_backup.hpp"

#include <nlohmann/json.hpp>
#include <ostream>
#include <stdexcept>

namespace deliveryhub::app {

int run_backup_command(const core::config::Settings& settings, std::ostream& out, std::ostream& err) {
  const std::string& command = settings.command;
  constexpr std::string_view kSqlite = "sqlite:";
  if (settings.database.rfind(kSqlite, 0) != 0) {
    err << "deliveryhub: " << command << ": only the embedded SQLite database (--database sqlite:PATH); "
        << "a PostgreSQL database is backed up with PostgreSQL's own tools, not by deliveryhub\n";
    return 2;
  }
  const std::string database = settings.database.substr(kSqlite.size());
  try {
    const auto report = command == "backup" ? core::db::backup_sqlite(database, settings.backup_to)
                                            : core::db::restore_sqlite(settings.restore_from, database);
    nlohmann::json line = {{command == "backup" ? "backup" : "restored", report.path},
                           {"from", command == "backup" ? database : settings.restore_from},
                           {"bytes", report.bytes},
                           {"seconds", report.seconds},
                           {"integrity", "ok"},
                           {"schema", report.schema}};
    out << line.dump() << "\n";
    return 0;
  } catch (const std::exception& error) {
    err << "deliveryhub: " << command << ": " << error.what() << "\n";
    return 1;
  }
}

}  // namespace deliveryhub::app
