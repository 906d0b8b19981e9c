#pragma once
#include "core/auth/keys.hpp"
#include "core/auth/token_validator.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace deliveryhub::core::auth {

/// Reads an external issuer's JWKS from its URL. Throws std::runtime_error when it cannot be
/// fetched, is not JSON, or holds no EC P-256 key.
KeySet fetch_jwks(const std::string& url, std::chrono::milliseconds timeout);

/// Keeps a validator's keys in step with an external issuer's JWKS URL: refetches every
/// `interval`; a failed refetch keeps the keys it had (and logs a warning). Thread-safe.
class JwksRefresher {
 public:
  JwksRefresher(std::string url, TokenValidator& validator, std::chrono::seconds interval);
  ~JwksRefresher();
  void start();
  void stop();

 private:
  std::string url_;
  TokenValidator& validator_;
  std::chrono::seconds interval_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace deliveryhub::core::auth
