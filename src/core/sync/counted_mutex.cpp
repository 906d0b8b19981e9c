#include "core/sync/counted_mutex.hpp"

#include <memory>

namespace deliveryhub::core::sync {
namespace {

struct Registry {
  std::mutex mutex;  // taken when a lock is constructed and at scrapes, never per acquisition
  std::map<std::string, std::unique_ptr<LockCounter>, std::less<>> counters;
};

Registry& registry() {
  static auto* instance = new Registry;  // never destroyed: locks in static objects outlive main
  return *instance;
}

}  // namespace

LockCounter& LockCounter::named(std::string_view name) {
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  auto found = r.counters.find(name);
  if (found == r.counters.end()) found = r.counters.emplace(std::string(name), std::make_unique<LockCounter>()).first;
  return *found->second;
}

std::map<std::string, LockWaits> lock_waits() {
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  std::map<std::string, LockWaits> out;
  for (const auto& [name, counter] : r.counters) out.emplace(name, counter->read());
  return out;
}

}  // namespace deliveryhub::core::sync
