#pragma once
// Settings a module owns (ADR 0024): declared in its descriptor, read from the command line, the
// environment and the config file like every other setting, and handed to the module by name.
#include <chrono>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace deliveryhub::core::config {

/// One setting: `--<flag>`, the environment variable `env`, and the config-file key `<flag>`.
struct ModuleSetting {
  enum class Kind {
    seconds,  // a duration in whole seconds, within [min, max]
    count,    // a whole number within [min, max]
    list,     // repeatable flag; the environment variable separates items with spaces
  };
  std::string_view flag;
  std::string_view env;
  Kind kind = Kind::count;
  std::string_view help;
  std::int64_t default_value = 0;  // seconds and count
  std::int64_t min = 0;
  std::int64_t max = 0;
};

/// The parsed values of every module's settings, by flag.
class ModuleValues {
 public:
  void set_number(std::string_view flag, std::int64_t value) { numbers_.insert_or_assign(std::string(flag), value); }
  void set_list(std::string_view flag, std::vector<std::string> items) {
    lists_.insert_or_assign(std::string(flag), std::move(items));
  }
  /// The value of a declared setting. Throws std::logic_error for a flag no module declared.
  std::int64_t number(std::string_view flag) const {
    const auto it = numbers_.find(flag);
    if (it == numbers_.end()) throw std::logic_error("no module declares the setting --" + std::string(flag));
    return it->second;
  }
  std::chrono::seconds seconds(std::string_view flag) const { return std::chrono::seconds(number(flag)); }
  const std::vector<std::string>& list(std::string_view flag) const {
    const auto it = lists_.find(flag);
    if (it == lists_.end()) throw std::logic_error("no module declares the setting --" + std::string(flag));
    return it->second;
  }

 private:
  std::map<std::string, std::int64_t, std::less<>> numbers_;
  std::map<std::string, std::vector<std::string>, std::less<>> lists_;
};

/// Every setting at its default, as a process started without flags would have them.
inline ModuleValues defaults_of(const std::vector<ModuleSetting>& settings) {
  ModuleValues values;
  for (const auto& setting : settings) {
    if (setting.kind == ModuleSetting::Kind::list) {
      values.set_list(setting.flag, {});
    } else {
      values.set_number(setting.flag, setting.default_value);
    }
  }
  return values;
}

}  // namespace deliveryhub::core::config
