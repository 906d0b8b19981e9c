#pragma once
// The incidents module's public interface: what went wrong with an order, and how it was made right.
#include "core/util/clock.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace deliveryhub::incidents {

enum class IncidentType { damaged, late, missing_item, not_delivered, other };
enum class IncidentStatus { open, in_progress, resolved, rejected };
enum class Resolution { refund, redeliver, none };

struct Comment {
  std::string id;  // cmt_…
  std::string author_id;
  std::string author_role;  // customer | operator
  std::string body;
  core::TimePoint at;
};

struct Incident {
  std::string id;  // inc_…
  std::string order_id;
  std::string customer_id;  // the order's customer
  IncidentType type = IncidentType::other;
  std::string description;
  IncidentStatus status = IncidentStatus::open;
  std::string opened_by;  // customer | operator | system
  std::optional<Resolution> resolution;
  std::optional<std::int64_t> refund_amount;    // with resolution refund
  std::optional<std::string> rejection_reason;  // when rejected
  std::vector<Comment> comments;
  core::TimePoint created_at;
  core::TimePoint updated_at;
  std::int64_t version = 1;
};

/// Thread-safe. Errors are core::Error.
class IncidentsApi {
 public:
  virtual ~IncidentsApi() = default;
  virtual std::optional<Incident> find_incident(std::string_view incident_id) = 0;
};

std::string_view to_string(IncidentType type);
std::string_view to_string(IncidentStatus status);
std::string_view to_string(Resolution resolution);

}  // namespace deliveryhub::incidents
