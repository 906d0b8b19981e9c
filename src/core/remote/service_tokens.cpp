#include "core/remote/service_tokens.hpp"

#include "core/errors.hpp"
#include "core/http/fetch.hpp"
#include "core/log/log.hpp"

#include <sodium.h>

#include <nlohmann/json.hpp>

namespace deliveryhub::core::remote {
namespace {

std::string base64(std::string_view in) {
  std::string out(sodium_base64_ENCODED_LEN(in.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(in.data()), in.size(),
                    sodium_base64_VARIANT_ORIGINAL);
  out.resize(std::char_traits<char>::length(out.c_str()));
  return out;
}

}  // namespace

ServiceTokens::ServiceTokens(std::string token_url, const std::string& client_id, const std::string& client_secret)
    : token_url_(std::move(token_url)), authorization_("Basic " + base64(client_id + ":" + client_secret)) {}

std::string ServiceTokens::token() {
  std::lock_guard lock(mutex_);
  const auto now = std::chrono::steady_clock::now();
  if (!token_.empty() && now < refresh_at_) return token_;
  try {
    const auto answer =
        http::post_form(token_url_, "grant_type=client_credentials", authorization_, std::chrono::milliseconds(2000));
    auto json = nlohmann::json::parse(answer.body, nullptr, false);
    if (answer.status != 200 || !json.is_object() || !json.contains("access_token") ||
        !json["access_token"].is_string()) {
      throw std::runtime_error("the token endpoint answered " + std::to_string(answer.status));
    }
    token_ = json["access_token"].get<std::string>();
    const auto lifetime = json.value("expires_in", std::int64_t{300});
    refresh_at_ = now + std::chrono::seconds(std::max<std::int64_t>(lifetime - 60, lifetime / 2));
    return token_;
  } catch (const std::exception& e) {
    log::warn("no service token", {{"token_url", token_url_}, {"error", e.what()}});
    throw Error(ErrorKind::unavailable, "No service token for calls to other modules").with_header("Retry-After", "1");
  }
}

}  // namespace deliveryhub::core::remote
