#pragma once
// Opening one hiredis connection the way every part of scalecache needs it:
// connect bounded by a timeout, every command bounded by another (hiredis
// 0.14 forgets both on reconnect, so each new context gets them), TCP
// keep-alive, TLS when redis.tls is on (redis_tls.hpp), AUTH (as the
// address's ACL user when it names one) and SELECT.

#include <sys/time.h>

#include <cstdint>
#include <string>

#include "redis/redis_url.hpp"

struct redisContext;

namespace scalecache {

// A millisecond bound as the socket options and hiredis take it.
timeval to_timeval(int64_t ms);

// nullptr on failure, with `error` saying why (never containing the password).
redisContext* connect_redis(const RedisAddress& address, const std::string& fallback_password,
                            int64_t connect_timeout_ms, int64_t command_timeout_ms, std::string& error);

}  // namespace scalecache

namespace scalecache {

// ROLE says master; false (with `error` saying what it is) otherwise, or when it could not be asked.
bool is_master(redisContext* c, std::string& error);

}  // namespace scalecache
