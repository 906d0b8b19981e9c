#pragma once
#include "core/db/migrations.hpp"

#include <vector>

namespace deliveryhub::orders {
std::vector<core::db::Migration> migrations();
}
