#include "core/auth/jwks_source.hpp"

#include "core/http/fetch.hpp"
#include "core/log/log.hpp"

#include <stdexcept>

namespace deliveryhub::core::auth {

KeySet fetch_jwks(const std::string& url, std::chrono::milliseconds timeout) {
  const auto result = http::fetch(url, timeout);
  if (result.status != 200) {
    throw std::runtime_error("JWKS " + url + " answered HTTP " + std::to_string(result.status));
  }
  const auto jwks = nlohmann::json::parse(result.body, nullptr, false);
  if (jwks.is_discarded()) throw std::runtime_error("JWKS " + url + " is not JSON");
  auto keys = KeySet::from_jwks(jwks);
  if (keys.size() == 0) throw std::runtime_error("JWKS " + url + " has no EC P-256 keys");
  return keys;
}

JwksRefresher::JwksRefresher(std::string url, TokenValidator& validator, std::chrono::seconds interval)
    : url_(std::move(url)), validator_(validator), interval_(interval) {}

JwksRefresher::~JwksRefresher() {
  stop();
}

void JwksRefresher::start() {
  thread_ = std::thread([this] {
    std::unique_lock lock(mutex_);
    while (!wake_.wait_for(lock, interval_, [this] { return stopping_; })) {
      lock.unlock();
      try {
        validator_.set_keys(fetch_jwks(url_, std::chrono::seconds(10)));
        log::debug("external JWKS refreshed", {{"url", url_}});
      } catch (const std::exception& e) {
        log::warn("external JWKS refresh failed; keeping the keys we have", {{"url", url_}, {"error", e.what()}});
      }
      lock.lock();
    }
  });
}

void JwksRefresher::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace deliveryhub::core::auth
