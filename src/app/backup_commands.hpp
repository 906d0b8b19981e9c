#pragma once
#include "core/config/settings.hpp"

#include <iosfwd>

namespace deliveryhub::app {

/// `deliveryhub backup --to PATH` and `deliveryhub restore --from PATH` for the SQLite database
/// of --database (core/db/sqlite_backup.hpp). Print one JSON object of what was written and
/// return 0, or print `deliveryhub: backup: …` to `err` and return 1 (2 for a PostgreSQL URL:
/// that database is backed up with PostgreSQL's own tools).
int run_backup_command(const core::config::Settings& settings, std::ostream& out, std::ostream& err);

}  // namespace deliveryhub::app
