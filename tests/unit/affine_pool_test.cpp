#include "core/sync/affine_pool.hpp"

#include <catch2/catch.hpp>
#include <set>
#include <thread>
#include <vector>

using deliveryhub::core::sync::AffinePool;
using deliveryhub::core::sync::lock_waits;

namespace {

struct Borrowed {
  std::atomic<int> holders{0};
  std::atomic<int> most_at_once{0};
};

std::vector<Borrowed*> pointers(std::vector<Borrowed>& objects) {
  std::vector<Borrowed*> result;
  for (auto& object : objects) result.push_back(&object);
  return result;
}

// Holds a lease for a moment, recording how many held the same object at once.
void borrow(AffinePool<Borrowed>& pool) {
  auto lease = pool.take();
  const int now = ++lease->holders;
  int most = lease->most_at_once.load();
  while (now > most && !lease->most_at_once.compare_exchange_weak(most, now)) {
  }
  std::this_thread::yield();
  --lease->holders;
}

}  // namespace

TEST_CASE("a thread gets the same object each time while it is free") {
  std::vector<Borrowed> objects(4);
  AffinePool<Borrowed> pool(pointers(objects), "test.affine_pool.same");
  Borrowed* first = nullptr;
  {
    auto lease = pool.take();
    first = &*lease;
  }
  for (int i = 0; i < 10; ++i) CHECK(&*pool.take() == first);
}

TEST_CASE("while a thread holds its object, it is given another, never the held one") {
  std::vector<Borrowed> objects(3);
  AffinePool<Borrowed> pool(pointers(objects), "test.affine_pool.nested");
  auto outer = pool.take();
  auto inner = pool.take();
  auto third = pool.take();
  std::set<Borrowed*> distinct{&*outer, &*inner, &*third};
  CHECK(distinct.size() == 3);
}

TEST_CASE("as many threads as objects each find one free without waiting") {
  std::vector<Borrowed> objects(4);
  AffinePool<Borrowed> pool(pointers(objects), "test.affine_pool.enough");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20'000; ++i) borrow(pool);
    });
  }
  for (auto& thread : threads) thread.join();
  for (auto& object : objects) CHECK(object.most_at_once <= 1);
}

TEST_CASE("more threads than objects: never two holders at once, and every waiter is woken") {
  std::vector<Borrowed> objects(2);
  AffinePool<Borrowed> pool(pointers(objects), "test.affine_pool.scarce");
  std::atomic<int> done{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 5'000; ++i) borrow(pool);
      ++done;
    });
  }
  for (auto& thread : threads) thread.join();  // a lost wake-up would hang here (ctest's timeout)
  CHECK(done == 8);
  for (auto& object : objects) CHECK(object.most_at_once == 1);
  CHECK(lock_waits()["test.affine_pool.scarce"].contended > 0);  // the waits were counted
}
