#include "redis/redis_connection.hpp"

#include <hiredis/hiredis.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "redis/redis_tls.hpp"

namespace scalecache {
timeval to_timeval(int64_t ms) {
  return timeval{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>((ms % 1000) * 1000)};
}

namespace {

// Runs one setup command; false (with `error` set) if it failed.
bool setup_command(redisContext* c, int argc, const char** argv, const size_t* lens, const std::string& what,
                   std::string& error) {
  std::unique_ptr<redisReply, decltype(&freeReplyObject)> reply(
      static_cast<redisReply*>(redisCommandArgv(c, argc, argv, lens)), &freeReplyObject);
  if (!reply || c->err != 0) {
    error = c->errstr;
    return false;
  }
  if (reply->type == REDIS_REPLY_ERROR) {
    // The server's text names the problem (WRONGPASS, ...) and never echoes the password.
    error = what + " refused: " + std::string(reply->str, reply->len);
    return false;
  }
  return true;
}

}  // namespace

redisContext* connect_redis(const RedisAddress& address, const std::string& fallback_password,
                            int64_t connect_timeout_ms, int64_t command_timeout_ms, std::string& error) {
  redisContext* c = redisConnectWithTimeout(address.host.c_str(), address.port, to_timeval(connect_timeout_ms));
  if (c == nullptr) {
    error = "out of memory";
    return nullptr;
  }
  if (c->err != 0) {
    error = c->errstr;
    redisFree(c);
    return nullptr;
  }
  redisEnableKeepAlive(c);
  if (const RedisTls* tls = redis_tls()) {
    // hiredis made the TCP connection (resolution, timeout); the TLS tunnel
    // takes that socket over and hiredis speaks through the tunnel instead.
    const int tcp = dup(c->fd);
    redisFree(c);
    if (tcp < 0) {
      error = std::strerror(errno);
      return nullptr;
    }
    const int local = tls->tunnel(tcp, address.host, connect_timeout_ms, error);
    if (local < 0) return nullptr;
    c = redisConnectFd(local);
    if (c == nullptr || c->err != 0) {
      error = c != nullptr ? c->errstr : "out of memory";
      if (c != nullptr) redisFree(c);
      return nullptr;
    }
  }
  redisSetTimeout(c, to_timeval(command_timeout_ms));
  const std::string& password = address.password.empty() ? fallback_password : address.password;
  if (!password.empty()) {
    // AUTH user password for an ACL user, AUTH password for the default user.
    const bool acl_user = !address.username.empty();
    const char* argv[] = {"AUTH", acl_user ? address.username.c_str() : password.c_str(), password.c_str()};
    const size_t lens[] = {4, acl_user ? address.username.size() : password.size(), password.size()};
    if (!setup_command(c, acl_user ? 3 : 2, argv, lens, "AUTH", error)) {
      redisFree(c);
      return nullptr;
    }
  }
  if (address.db != 0) {
    const std::string db = std::to_string(address.db);
    const char* argv[] = {"SELECT", db.c_str()};
    const size_t lens[] = {6, db.size()};
    if (!setup_command(c, 2, argv, lens, "SELECT", error)) {
      redisFree(c);
      return nullptr;
    }
  }
  return c;
}

bool is_master(redisContext* c, std::string& error) {
  const std::unique_ptr<redisReply, decltype(&freeReplyObject)> reply(static_cast<redisReply*>(redisCommand(c, "ROLE")),
                                                                      &freeReplyObject);
  if (!reply || c->err != 0) {
    error = c->errstr;
    return false;
  }
  const bool answered =
      reply->type == REDIS_REPLY_ARRAY && reply->elements > 0 && reply->element[0]->type == REDIS_REPLY_STRING;
  const std::string role = answered ? std::string(reply->element[0]->str, reply->element[0]->len) : "unknown";
  if (role == "master") return true;
  error = "ROLE is " + role + ", not master: not written to";
  return false;
}

}  // namespace scalecache
