#include "core/auth/token_cache.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <thread>
#include <vector>

using deliveryhub::core::auth::Principal;
using deliveryhub::core::auth::TokenCache;

namespace {

Principal principal_of(std::string subject) {
  Principal principal;
  principal.subject = std::move(subject);
  principal.roles = {"customer"};
  return principal;
}

constexpr std::int64_t kNow = 1'800'000'000;

}  // namespace

TEST_CASE("a cached token is found until its expiry plus the leeway, then not") {
  TokenCache cache(100);
  cache.insert("token-a", principal_of("cus_a"), kNow + 60, cache.generation(), kNow, 30);
  REQUIRE(cache.find("token-a", kNow, 30));
  CHECK(cache.find("token-a", kNow, 30)->subject == "cus_a");
  CHECK(cache.find("token-a", kNow + 90, 30));  // at expiry + leeway
  CHECK_FALSE(cache.find("token-a", kNow + 91, 30));
  CHECK_FALSE(cache.find("token-b", kNow, 30));
}

TEST_CASE("an answer verified before clear() is not remembered after it") {
  TokenCache cache(100);
  const auto before = cache.generation();
  cache.insert("token-a", principal_of("cus_a"), kNow + 60, before, kNow, 30);
  cache.clear();
  CHECK_FALSE(cache.find("token-a", kNow, 30));
  // A verification that read the generation before the keys changed finishes late.
  cache.insert("token-b", principal_of("cus_b"), kNow + 60, before, kNow, 30);
  CHECK_FALSE(cache.find("token-b", kNow, 30));
  cache.insert("token-b", principal_of("cus_b"), kNow + 60, cache.generation(), kNow, 30);
  CHECK(cache.find("token-b", kNow, 30));
}

TEST_CASE("the cache stays within its capacity, dropping expired tokens first") {
  TokenCache cache(16);  // one token per shard
  const auto generation = cache.generation();
  for (int i = 0; i < 1000; ++i) {
    cache.insert("token-" + std::to_string(i), principal_of("cus"), kNow + 60, generation, kNow, 0);
  }
  int found = 0;
  for (int i = 0; i < 1000; ++i) found += cache.find("token-" + std::to_string(i), kNow, 0) ? 1 : 0;
  CHECK(found > 0);
  CHECK(found <= 16);
  // The last one inserted is always there: a full shard makes room for it.
  CHECK(cache.find("token-999", kNow, 0));
}

TEST_CASE("threads finding, inserting and clearing at once see only what was inserted") {
  TokenCache cache(1000);
  std::atomic<bool> wrong{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5000; ++i) {
        const auto token = "token-" + std::to_string((t * 7919 + i) % 300);
        if (auto found = cache.find(token, kNow, 0); found && found->subject != "cus-" + token) wrong = true;
        cache.insert(token, principal_of("cus-" + token), kNow + 60, cache.generation(), kNow, 0);
        if (t == 0 && i % 500 == 0) cache.clear();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK_FALSE(wrong);
}
