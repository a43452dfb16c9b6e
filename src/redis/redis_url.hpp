#pragma once
// redis://[[user]:password@]host[:port][/db] → the parts hiredis needs.

#include <string>

namespace scalecache {

struct RedisAddress {
  std::string host;
  int port = 6379;
  std::string password;  // percent-decoded; empty: no AUTH
  int db = 0;
};

// Throws std::invalid_argument naming what is wrong (never echoing the password).
RedisAddress parse_redis_url(const std::string& url);

}  // namespace scalecache
