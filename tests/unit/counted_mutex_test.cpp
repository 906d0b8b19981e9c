// Named locks that count their waits, and their metrics.
#include "core/sync/counted_mutex.hpp"

#include "core/metrics/metrics.hpp"
#include "core/sync/lock_metrics.hpp"

#include <catch2/catch.hpp>
#include <condition_variable>
#include <thread>

using namespace deliveryhub::core;

namespace {
sync::LockWaits waits_of(const std::string& name) {
  const auto all = sync::lock_waits();
  const auto found = all.find(name);
  return found == all.end() ? sync::LockWaits{} : found->second;
}
}  // namespace

TEST_CASE("a counted mutex counts the acquisitions that found it held, and how long they waited") {
  sync::CountedMutex mutex("test.counted");
  const auto before = waits_of("test.counted");
  { std::lock_guard lock(mutex); }  // uncontended: nothing counted
  CHECK(waits_of("test.counted").contended == before.contended);

  std::unique_lock held(mutex);
  std::thread waiter([&] { std::lock_guard lock(mutex); });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  held.unlock();
  waiter.join();
  const auto after = waits_of("test.counted");
  CHECK(after.contended == before.contended + 1);
  CHECK(after.wait_ns - before.wait_ns >= 40'000'000);  // it waited about the 50 ms the lock was held
  CHECK(after.wait_ns - before.wait_ns < 5'000'000'000ULL);
}

TEST_CASE("locks of one name share their counter; a shared mutex counts shared and exclusive waits") {
  sync::CountedSharedMutex one("test.shared");
  sync::CountedSharedMutex two("test.shared");
  const auto before = waits_of("test.shared");
  {
    std::shared_lock reader(one);
    std::shared_lock another_reader(one);  // readers do not wait for readers
  }
  CHECK(waits_of("test.shared").contended == before.contended);
  std::unique_lock writer(one);
  std::thread reader([&] { std::shared_lock lock(one); });
  std::unique_lock other(two);
  std::thread writer_of_two([&] { std::unique_lock lock(two); });
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  writer.unlock();
  other.unlock();
  reader.join();
  writer_of_two.join();
  CHECK(waits_of("test.shared").contended == before.contended + 2);
}

TEST_CASE("a counted mutex works with condition_variable_any") {
  sync::CountedMutex mutex("test.condition");
  std::condition_variable_any ready;
  bool flag = false;
  std::thread setter([&] {
    std::lock_guard lock(mutex);
    flag = true;
    ready.notify_one();
  });
  std::unique_lock lock(mutex);
  ready.wait(lock, [&] { return flag; });
  CHECK(flag);
  lock.unlock();
  setter.join();
}

TEST_CASE("lock waits are exported as counters by lock name at each scrape") {
  metrics::Metrics metrics;
  sync::export_lock_metrics(metrics);
  sync::CountedMutex mutex("test.exported");
  std::unique_lock held(mutex);
  std::thread waiter([&] { std::lock_guard lock(mutex); });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  held.unlock();
  waiter.join();
  const auto text = metrics.serialize();
  CHECK(text.find("deliveryhub_lock_contended_total{lock=\"test.exported\"} 1") != std::string::npos);
  CHECK(text.find("deliveryhub_lock_wait_seconds_total{lock=\"test.exported\"}") != std::string::npos);
  // A second scrape with nothing new shows the same count, not twice it.
  CHECK(metrics.serialize().find("deliveryhub_lock_contended_total{lock=\"test.exported\"} 1") != std::string::npos);
}
