#pragma once
#include "core/db/migrations.hpp"

#include <vector>

namespace deliveryhub::customers {
std::vector<core::db::Migration> migrations();
}
