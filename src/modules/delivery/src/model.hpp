#pragma once
// The delivery module's own records besides Delivery (api.hpp): zones and couriers.
#include "core/util/clock.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace deliveryhub::delivery {

struct Zone {
  std::string id;  // zon_…
  std::string name;
  std::vector<std::string> postal_prefixes;
  core::TimePoint created_at;
};

enum class CourierStatus { available, busy, offline };

struct Courier {
  std::string id;          // cou_…
  std::string account_id;  // the login, in customers
  std::string name;
  std::string email;
  std::string zone_id;
  CourierStatus status = CourierStatus::available;
  std::int64_t capacity = 1;
  std::int64_t active_deliveries = 0;  // assigned or picked up now
  std::int64_t version = 1;
  core::TimePoint created_at;
  core::TimePoint updated_at;
};

std::string_view to_string(CourierStatus status);

}  // namespace deliveryhub::delivery
