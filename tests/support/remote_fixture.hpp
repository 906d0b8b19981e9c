#pragma once
// For contract tests of a module's API: a real server on 127.0.0.1 hosting the module's internal
// routes, a validator that trusts a test signing key, and an HttpChannel to the server that
// sends `bearer` (a service token unless a test changes it).
#include "core/auth/jws.hpp"
#include "core/auth/keys.hpp"
#include "core/auth/token_validator.hpp"
#include "core/http/pipeline.hpp"
#include "core/http/router.hpp"
#include "core/http/server.hpp"
#include "core/metrics/metrics.hpp"
#include "core/remote/http_channel.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace deliveryhub::testing {

class RemoteFixture {
 public:
  /// `add_routes` adds the module's internal routes, checking tokens with the given validator.
  explicit RemoteFixture(const std::function<void(core::http::Router&, const core::auth::TokenValidator&)>& add_routes,
                         const std::string& remote_name) {
    add_routes(router_, tokens);
    pipeline_ = std::make_unique<core::http::Pipeline>(router_, http_metrics_);
    core::http::ServerOptions options;
    options.port = 0;
    server_ = std::make_unique<core::http::Server>(options, *pipeline_);
    const auto port = server_->start();
    bearer = service_token();
    channel =
        std::make_unique<core::remote::HttpChannel>(remote_name, "http://127.0.0.1:" + std::to_string(port),
                                                    core::remote::ChannelOptions{}, metrics, [this] { return bearer; });
  }
  ~RemoteFixture() { server_->stop(); }
  RemoteFixture(const RemoteFixture&) = delete;
  RemoteFixture& operator=(const RemoteFixture&) = delete;

  /// A machine client's token acting for every module that calls another (ADR 0022).
  std::string service_token() const {
    return token("svc-test", {"service"}, "module:payments module:delivery module:orders module:incidents");
  }
  /// A machine client's token acting for `module` only.
  std::string service_token_for(const std::string& module) const {
    return token("svc-" + module, {"service"}, "module:" + module);
  }

  /// An access token of the test issuer for `subject` with `roles` (and `scope` when not empty).
  std::string token(const std::string& subject, const std::vector<std::string>& roles,
                    const std::string& scope = "") const {
    const auto now =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    const nlohmann::json header{{"alg", "ES256"}, {"typ", "at+jwt"}, {"kid", key_.kid()}};
    nlohmann::json claims{{"iss", "dh-test"}, {"aud", "dh-api"}, {"sub", subject}, {"exp", now + 600},
                          {"nbf", now - 1},   {"iat", now},      {"roles", roles}};
    if (!scope.empty()) claims["scope"] = scope;
    return core::auth::sign_es256(header.dump(), claims.dump(), key_.private_pem());
  }

 private:
  core::auth::KeySet keys() const {
    core::auth::KeySet set;
    set.add({key_.kid(), "ES256", key_.public_pem()});
    return set;
  }
  core::auth::SigningKey key_ = core::auth::SigningKey::generate();

 public:
  core::metrics::Metrics metrics;
  core::auth::TokenValidator tokens{{"dh-test", "dh-api"}, keys()};
  std::string bearer;
  std::unique_ptr<core::remote::HttpChannel> channel;

 private:
  core::metrics::HttpMetrics http_metrics_{metrics};
  core::http::Router router_;
  std::unique_ptr<core::http::Pipeline> pipeline_;
  std::unique_ptr<core::http::Server> server_;
};

}  // namespace deliveryhub::testing
