#pragma once
#include "core/db/migrations.hpp"

#include <vector>

namespace deliveryhub::delivery {
std::vector<core::db::Migration> migrations();
}
