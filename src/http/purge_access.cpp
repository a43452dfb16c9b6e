#include "http/purge_access.hpp"

#include <openssl/crypto.h>

#include "util/log.hpp"

namespace scalecache {

namespace {

// Compares in time independent of where the strings differ, so the token
// can't be guessed byte by byte from response times.
bool token_matches(std::string_view presented, std::string_view expected) {
  if (presented.size() != expected.size()) return false;
  return CRYPTO_memcmp(presented.data(), expected.data(), expected.size()) == 0;
}

}  // namespace

PurgeAccess PurgeAccess::from(const AdminConfig& admin) {
  PurgeAccess access;
  access.token_ = admin.token;
  access.allow_unauthenticated_ = admin.allow_unauthenticated_purge;
  return access;
}

PurgeAccess::Verdict PurgeAccess::check(std::string_view presented) const {
  if (!token_.empty()) return token_matches(presented, token_) ? Verdict::Allowed : Verdict::Unauthorized;
  return allow_unauthenticated_ ? Verdict::Allowed : Verdict::Disabled;
}

void PurgeAccess::log_at_start() const {
  if (open()) {
    log::warn(
        "admin.allow_unauthenticated_purge is true and admin.token is empty: anyone who reaches the port "
        "can purge any key or tag");
  } else if (token_.empty()) {
    log::info("purging is disabled: set admin.token to allow DELETE /data/{key} and DELETE /tags/{tag}");
  } else if (allow_unauthenticated_) {
    log::info("admin.allow_unauthenticated_purge is ignored: admin.token is set, purges need it");
  }
}

}  // namespace scalecache
