#pragma once
#include <chrono>
#include <string>

namespace deliveryhub::core::http {

struct FetchResult {
  int status = 0;
  std::string body;
};

/// GETs `url` (http:// or https://; https verifies the server's certificate and host name against
/// the system's CA store) within `timeout`, following no redirects, reading at most 1 MiB.
/// Blocking; for start-up and background refreshes, never on a request path.
/// Throws std::runtime_error naming the URL and the reason on a bad URL, network or TLS error,
/// or time-out.
FetchResult fetch(const std::string& url, std::chrono::milliseconds timeout);

/// POSTs `form` (application/x-www-form-urlencoded) to `url` with an Authorization header when
/// `authorization` is not empty; otherwise as fetch().
FetchResult post_form(const std::string& url, const std::string& form, const std::string& authorization,
                      std::chrono::milliseconds timeout);

}  // namespace deliveryhub::core::http
