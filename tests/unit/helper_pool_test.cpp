#include "core/sync/helper_pool.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

using deliveryhub::core::sync::HelperPool;

namespace {

// Runs `count` items of `hold` each and reports how many ran at once at most.
int most_at_once(HelperPool& pool, std::size_t count, std::size_t parallelism, std::chrono::milliseconds hold) {
  std::atomic<int> running{0};
  std::atomic<int> most{0};
  pool.run(count, parallelism, [&](std::size_t) {
    const int now = ++running;
    int seen = most.load();
    while (now > seen && !most.compare_exchange_weak(seen, now)) {
    }
    std::this_thread::sleep_for(hold);
    --running;
  });
  return most;
}

}  // namespace

TEST_CASE("every item runs exactly once, on the caller and the helpers") {
  HelperPool pool(3);
  std::vector<std::atomic<int>> runs(1000);
  std::mutex threads_mutex;
  std::set<std::thread::id> threads;
  pool.run(runs.size(), 4, [&](std::size_t i) {
    ++runs[i];
    std::lock_guard lock(threads_mutex);
    threads.insert(std::this_thread::get_id());
  });
  for (const auto& count : runs) CHECK(count == 1);
  CHECK(threads.size() >= 1);
  CHECK(threads.size() <= 4);
}

TEST_CASE("no more than `parallelism` items run at once, and they do run side by side") {
  HelperPool pool(7);
  const int four = most_at_once(pool, 40, 4, std::chrono::milliseconds(20));
  CHECK(four <= 4);
  CHECK(four >= 3);  // 4 unless a helper stays asleep for most of the 200 ms
  CHECK(most_at_once(pool, 16, 1, std::chrono::milliseconds(2)) == 1);
  CHECK(most_at_once(pool, 2, 8, std::chrono::milliseconds(20)) == 2);  // never more than the items
}

TEST_CASE("the same threads serve job after job") {
  HelperPool pool(2);
  std::mutex threads_mutex;
  std::set<std::thread::id> threads;
  for (int job = 0; job < 200; ++job) {
    pool.run(3, 3, [&](std::size_t) {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
      std::lock_guard lock(threads_mutex);
      threads.insert(std::this_thread::get_id());
    });
  }
  CHECK(threads.size() <= 3);  // the caller and the two helpers, never a new thread
}

TEST_CASE("an item that throws: the others still run and run() rethrows the first error") {
  HelperPool pool(3);
  std::atomic<int> ran{0};
  CHECK_THROWS_WITH(pool.run(20, 4,
                             [&](std::size_t i) {
                               ++ran;
                               if (i == 5) throw std::runtime_error("item 5 failed");
                             }),
                    "item 5 failed");
  CHECK(ran == 20);
  // The pool is usable again afterwards.
  ran = 0;
  pool.run(10, 4, [&](std::size_t) { ++ran; });
  CHECK(ran == 10);
}

TEST_CASE("callers on several threads take turns") {
  HelperPool pool(2);
  std::atomic<int> total{0};
  std::vector<std::thread> callers;
  for (int c = 0; c < 4; ++c) {
    callers.emplace_back([&] {
      for (int job = 0; job < 50; ++job) pool.run(5, 3, [&](std::size_t) { ++total; });
    });
  }
  for (auto& caller : callers) caller.join();
  CHECK(total == 4 * 50 * 5);
}

TEST_CASE("a pool without helpers runs everything on the caller") {
  HelperPool pool(0);
  const auto caller = std::this_thread::get_id();
  bool elsewhere = false;
  pool.run(10, 8, [&](std::size_t) { elsewhere = elsewhere || std::this_thread::get_id() != caller; });
  CHECK_FALSE(elsewhere);
}
