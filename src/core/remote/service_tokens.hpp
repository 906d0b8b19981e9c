#pragma once
#include <chrono>
#include <mutex>
#include <string>

namespace deliveryhub::core::remote {

/// This process's service token for calls to other modules: OAuth2 client_credentials at
/// `token_url` (customers' /oauth/token) with HTTP Basic client authentication, cached until a
/// minute before it expires and fetched again then. Thread-safe; a fetch blocks other callers.
class ServiceTokens {
 public:
  ServiceTokens(std::string token_url, const std::string& client_id, const std::string& client_secret);

  /// The current token; throws core::Error(unavailable) when none can be had.
  std::string token();

 private:
  std::string token_url_;
  std::string authorization_;  // "Basic …"
  std::mutex mutex_;
  std::string token_;
  std::chrono::steady_clock::time_point refresh_at_{};
};

}  // namespace deliveryhub::core::remote
