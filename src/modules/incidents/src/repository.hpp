#pragma once
#include "core/db/database.hpp"
#include "incidents/api.hpp"

#include <optional>
#include <string>
#include <vector>

/// The incidents module's SQL. Every function runs in the caller's transaction.
namespace deliveryhub::incidents::repository {

/// False when `source_key` is set and an incident with that key exists (nothing inserted).
bool insert(core::db::Transaction& tx, const Incident& incident, const std::optional<std::string>& source_key);
std::optional<Incident> find(core::db::Transaction& tx, const std::string& id);
/// Writes status, resolution, refund_amount and rejection_reason if the version matches and bumps it.
bool update(core::db::Transaction& tx, const Incident& incident);
void add_comment(core::db::Transaction& tx, const std::string& incident_id, const Comment& comment);

struct Filter {
  std::optional<std::string> customer_id;
  std::optional<std::string> order_id;
  std::optional<std::string> status;
};
/// Newest first, ids below `before_id`.
std::vector<Incident> list(core::db::Transaction& tx, const Filter& filter, const std::optional<std::string>& before_id,
                           std::size_t limit);
std::int64_t count_unsettled(core::db::Transaction& tx);

struct Watched {
  std::string delivery_id;
  std::string order_id;
  std::string customer_id;
  core::TimePoint promised_by;
};
void watch(core::db::Transaction& tx, const Watched& delivery);
void unwatch(core::db::Transaction& tx, const std::string& delivery_id);
/// Deliveries still under way whose promise passed before `now`, oldest promise first.
std::vector<Watched> overdue(core::db::Transaction& tx, core::TimePoint now, std::size_t limit);

std::optional<IncidentType> type_from(std::string_view text);
std::optional<IncidentStatus> status_from(std::string_view text);
std::optional<Resolution> resolution_from(std::string_view text);

}  // namespace deliveryhub::incidents::repository
