#pragma once
// Who may purge (DELETE /data/{key}, DELETE /tags/{tag}): whoever presents the
// admin token when one is configured; nobody when none is, unless
// admin.allow_unauthenticated_purge opens purging to anyone explicitly.

#include <string>
#include <string_view>

#include "config/config.hpp"

namespace scalecache {

class PurgeAccess {
 public:
  enum class Verdict {
    Allowed,
    Unauthorized,  // a token is configured and the request lacks it: 401
    Disabled,      // no token and not explicitly opened: 403
  };

  static PurgeAccess from(const AdminConfig& admin);

  // `presented`: the request's bearer token, empty when it has none.
  Verdict check(std::string_view presented) const;

  // True when anyone who reaches the port may purge.
  bool open() const { return token_.empty() && allow_unauthenticated_; }

  // Says at start what purging needs; a warning when it needs nothing.
  void log_at_start() const;

 private:
  std::string token_;
  bool allow_unauthenticated_ = false;
};

}  // namespace scalecache
