#include "redis/cluster/redirect.hpp"

#include <charconv>

namespace scalecache {
namespace {

bool parse_int(std::string_view text, int& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

// "MOVED 3999 127.0.0.1:6381": slot, then host:port (the host may be an IPv6 literal, so the last colon splits).
std::optional<Redirect> parse_target(Redirect::Kind kind, std::string_view rest) {
  const auto space = rest.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  Redirect redirect{kind, -1, {}};
  const std::string_view where = rest.substr(space + 1);
  const auto colon = where.rfind(':');
  if (!parse_int(rest.substr(0, space), redirect.slot) || colon == std::string_view::npos ||
      !parse_int(where.substr(colon + 1), redirect.target.port)) {
    return std::nullopt;
  }
  redirect.target.host = std::string(where.substr(0, colon));
  if (redirect.target.host.size() > 2 && redirect.target.host.front() == '[') {
    redirect.target.host = redirect.target.host.substr(1, redirect.target.host.size() - 2);
  }
  return redirect;
}

}  // namespace

std::optional<Redirect> parse_redirect(std::string_view error_text) {
  if (error_text.starts_with("MOVED ")) return parse_target(Redirect::Kind::Moved, error_text.substr(6));
  if (error_text.starts_with("ASK ")) return parse_target(Redirect::Kind::Ask, error_text.substr(4));
  if (error_text.starts_with("TRYAGAIN")) return Redirect{Redirect::Kind::TryAgain, -1, {}};
  if (error_text.starts_with("CLUSTERDOWN")) return Redirect{Redirect::Kind::ClusterDown, -1, {}};
  return std::nullopt;
}

}  // namespace scalecache
