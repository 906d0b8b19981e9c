#pragma once
// What this binary is: served by GET /version, printed by --version and at start-up.

namespace deliveryhub::core::build {

/// The project's version, e.g. "0.1.0".
const char* version();
/// The commit it was built from (short hash), or "unknown" outside git.
const char* git_commit();
/// The CMake build type, e.g. "Release".
const char* type();

}  // namespace deliveryhub::core::build
