#pragma once
#include "core/db/migrations.hpp"

#include <vector>

namespace deliveryhub::incidents {

std::vector<core::db::Migration> migrations();

}  // namespace deliveryhub::incidents
