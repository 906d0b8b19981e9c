#pragma once
#include "core/db/migrations.hpp"

#include <vector>

namespace deliveryhub::payments {
std::vector<core::db::Migration> migrations();
}
