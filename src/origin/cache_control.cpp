#include "origin/cache_control.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <string>

namespace scalecache {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::optional<int64_t> seconds(std::string_view value) {
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
  int64_t out = 0;
  auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), out);
  if (ec != std::errc() || ptr != value.data() + value.size() || out < 0) return std::nullopt;
  return std::min<int64_t>(out, INT32_MAX);
}

}  // namespace

OriginCachePolicy parse_cache_control(std::string_view header) {
  OriginCachePolicy policy;
  std::optional<int64_t> max_age, s_maxage;
  while (!header.empty()) {
    const auto comma = header.find(',');
    std::string_view directive = trim(header.substr(0, comma));
    header = comma == std::string_view::npos ? std::string_view{} : header.substr(comma + 1);
    const auto eq = directive.find('=');
    std::string name(trim(directive.substr(0, eq)));
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    const std::string_view value = eq == std::string_view::npos ? std::string_view{} : trim(directive.substr(eq + 1));
    if (name == "no-store") {
      policy.no_store = true;
    } else if (name == "private") {
      policy.is_private = true;  // qualified (private="f") too: the conservative reading §5.2.2.7 allows
    } else if (name == "no-cache") {
      policy.no_cache = true;
    } else if (name == "max-age") {
      max_age = seconds(value);
    } else if (name == "s-maxage") {
      s_maxage = seconds(value);
    } else if (name == "stale-while-revalidate") {
      policy.stale_while_revalidate_s = seconds(value);
    } else if (name == "stale-if-error") {
      policy.stale_if_error_s = seconds(value);
    }
  }
  policy.max_age_s = s_maxage ? s_maxage : max_age;
  return policy;
}

}  // namespace scalecache
