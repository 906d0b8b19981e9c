#pragma once
// A module's declaration of itself: the one place its name, the modules it calls, the events it
// publishes and consumes, its public routes and its settings are written (ADR 0024). The
// composition root walks these in dependency order; `deliveryhub modules --json` prints them and
// the Kubernetes manifests, the gateway's routes and the split shape's scripts are made from that.
#include "core/config/module_setting.hpp"
#include "core/module/module.hpp"

#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <typeindex>
#include <vector>

namespace deliveryhub::core::remote {
class HttpChannel;
}

namespace deliveryhub::core {

/// The APIs a process's modules reach each other through, by module name: the in-process
/// implementation of a module run here, or a client of one served elsewhere. Filled while the
/// composition root builds the modules in dependency order; a module takes what it calls.
class ApiDirectory {
 public:
  /// `api` is `module`'s API here; it must outlive the directory's users.
  template <class Api>
  void provide(std::string_view module, Api& api) {
    entries_.insert_or_assign(std::string(module), Entry{std::type_index(typeid(Api)), &api});
  }
  /// The same, owned by the directory (a remote client).
  template <class Api>
  void adopt(std::string_view module, std::unique_ptr<Api> api) {
    Api& ref = *api;
    owned_.push_back(std::shared_ptr<void>(std::move(api)));
    provide(module, ref);
  }
  /// `module`'s API. Throws std::logic_error when none was provided, or one of another type: the
  /// descriptor's `calls` and the composition root disagree, a bug, never a setting.
  template <class Api>
  Api& get(std::string_view module) const {
    const auto it = entries_.find(module);
    if (it == entries_.end() || it->second.type != std::type_index(typeid(Api))) {
      throw std::logic_error("no API of module '" + std::string(module) + "' of the expected type here");
    }
    return *static_cast<Api*>(it->second.api);
  }
  bool has(std::string_view module) const { return entries_.find(module) != entries_.end(); }

 private:
  struct Entry {
    std::type_index type;
    void* api;
  };
  std::map<std::string, Entry, std::less<>> entries_;
  std::vector<std::shared_ptr<void>> owned_;
};

/// Work a module asks of processes that do not run it but reach it remotely (customers: keep
/// learning of suspensions). Started after the modules, stopped before them.
class BackgroundWork {
 public:
  virtual ~BackgroundWork() = default;
  virtual void start() = 0;
  virtual void stop() = 0;
};

struct ModuleDescriptor {
  std::string_view name;
  /// One line: what the module owns.
  std::string_view summary;
  /// The modules whose api.hpp this one uses (in-process or over HTTP). Acyclic.
  std::vector<std::string_view> calls;
  /// The event types it publishes (its events.hpp) and those of other modules it consumes.
  std::vector<std::string_view> publishes;
  std::vector<std::string_view> consumes;
  /// Public path prefixes it serves: what the gateway and the Ingress send to its process.
  std::vector<std::string_view> routes;
  /// It signs access tokens and serves the token endpoint and the JWKS: every other process
  /// fetches keys, service tokens and suspensions from it. Exactly one module does.
  bool issues_tokens = false;
  /// Its own settings: flags, environment twins and config-file keys (core/config/module_setting.hpp).
  std::vector<config::ModuleSetting> settings;

  /// Builds the module from `apis` (which holds every module in `calls`) and provides its API.
  std::function<std::unique_ptr<Module>(Platform&, ApiDirectory&)> make;
  /// Provides a client of the module served elsewhere; empty when no module calls it.
  std::function<void(remote::HttpChannel&, ApiDirectory&)> provide_remote;
  /// What a process that reaches it remotely must run; empty when nothing.
  std::function<std::unique_ptr<BackgroundWork>(Platform&, ApiDirectory&)> when_remote;
};

/// For a descriptor's `make`: provides `module`'s API to `apis` under `name`, then hands the
/// module over. `ModuleT` has `Api& api()`.
template <class Api, class ModuleT>
std::unique_ptr<Module> provided(ApiDirectory& apis, std::string_view name, std::unique_ptr<ModuleT> module) {
  apis.provide<Api>(name, module->api());
  return module;
}

/// A descriptor's `provide_remote` for the client `make_remote` builds over a channel.
template <class Api>
std::function<void(remote::HttpChannel&, ApiDirectory&)> remote_client(
    std::string_view name, std::unique_ptr<Api> (*make_remote)(remote::HttpChannel&)) {
  return [name, make_remote](remote::HttpChannel& channel, ApiDirectory& apis) {
    apis.adopt<Api>(name, make_remote(channel));
  };
}

}  // namespace deliveryhub::core
