#include "core/http/router.hpp"

#include <stdexcept>

namespace deliveryhub::core::http {
namespace {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> segments;
  if (path.empty() || path.front() != '/') return segments;
  path.remove_prefix(1);
  while (true) {
    auto slash = path.find('/');
    segments.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return segments;
}

bool is_parameter(std::string_view segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

// Number of literal segments that matched: more literals means a more specific route.
int match_segments(const std::vector<std::string>& pattern, const std::vector<std::string_view>& path,
                   PathParams* params) {
  if (pattern.size() != path.size()) return -1;
  int literals = 0;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (is_parameter(pattern[i])) {
      if (path[i].empty()) return -1;
      if (params) params->emplace_back(pattern[i].substr(1, pattern[i].size() - 2), path[i]);
    } else if (pattern[i] == path[i]) {
      ++literals;
    } else {
      return -1;
    }
  }
  return literals;
}

}  // namespace

void Router::add(std::string method, std::string pattern, Handler handler) {
  std::vector<std::string> segments;
  for (auto segment : split_path(pattern)) segments.emplace_back(segment);
  if (segments.empty()) throw std::invalid_argument("route pattern must start with '/': " + pattern);
  for (const auto& route : routes_) {
    if (route.method == method && route.pattern == pattern) {
      throw std::invalid_argument("duplicate route " + method + " " + pattern);
    }
  }
  routes_.push_back({std::move(method), std::move(pattern), std::move(segments), std::move(handler)});
}

Router::Match Router::match(std::string_view method, std::string_view path) const {
  const auto segments = split_path(path);
  Match result;
  int best = -1;
  int best_any_method = -1;
  const Route* best_route = nullptr;
  for (const auto& route : routes_) {
    int score = match_segments(route.segments, segments, nullptr);
    if (score < 0) continue;
    if (score > best_any_method) best_any_method = score;
    if (route.method == method && score > best) {
      best = score;
      best_route = &route;
    }
  }
  if (best_route && best == best_any_method) {
    result.outcome = Match::Outcome::found;
    result.handler = &best_route->handler;
    result.pattern = best_route->pattern;
    match_segments(best_route->segments, segments, &result.params);
    return result;
  }
  if (best_any_method < 0) return result;
  // The most specific pattern(s) for this path exist, but not for this method.
  for (const auto& route : routes_) {
    if (match_segments(route.segments, segments, nullptr) != best_any_method) continue;
    if (result.allow.find(route.method) != std::string::npos) continue;
    if (!result.allow.empty()) result.allow += ", ";
    result.allow += route.method;
    result.pattern = route.pattern;
  }
  result.outcome = Match::Outcome::method_not_allowed;
  return result;
}

std::vector<std::pair<std::string, std::string>> Router::routes() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& route : routes_) out.emplace_back(route.method, route.pattern);
  return out;
}

}  // namespace deliveryhub::core::http
