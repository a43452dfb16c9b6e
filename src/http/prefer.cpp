#include "http/prefer.hpp"

#include <cctype>
#include <charconv>

namespace scalecache {
namespace {

// Longer waits than this say nothing a client could mean (and would overflow
// the deadline arithmetic); the cache's own wait bounds every request anyway.
constexpr int64_t kMaxWaitSeconds = 86400;

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

}  // namespace

std::string Preferences::applied() const {
  std::string out = respond_async ? "respond-async" : "";
  if (wait_seconds) out += (out.empty() ? "wait=" : ", wait=") + std::to_string(*wait_seconds);
  return out;
}

Preferences parse_prefer(std::optional<std::string_view> header) {
  Preferences prefs;
  if (!header) return prefs;
  std::string_view rest = *header;
  while (!rest.empty()) {
    const std::size_t comma = rest.find(',');
    // A preference's parameters (after ';') are not used by these two.
    std::string_view item = rest.substr(0, comma);
    item = trim(item.substr(0, item.find(';')));
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    const std::size_t eq = item.find('=');
    const std::string_view name = trim(item.substr(0, eq));
    if (iequals(name, "respond-async") && eq == std::string_view::npos) {
      prefs.respond_async = true;
    } else if (iequals(name, "wait")) {
      std::string_view value = eq == std::string_view::npos ? std::string_view{} : trim(item.substr(eq + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
      int64_t seconds = -1;
      const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
      if (value.empty() || ec != std::errc() || end != value.data() + value.size() || seconds < 0 ||
          seconds > kMaxWaitSeconds) {
        prefs.error = "Prefer: wait must be a number of seconds from 0 to " + std::to_string(kMaxWaitSeconds);
        return prefs;
      }
      prefs.wait_seconds = seconds;
    }
  }
  return prefs;
}

}  // namespace scalecache
