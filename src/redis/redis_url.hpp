#pragma once
// redis://[[user]:password@]host[:port][/db] → the parts hiredis needs,
// and host:port lists (cluster seeds, sentinels) → addresses.

#include <string>
#include <vector>

namespace scalecache {

struct RedisAddress {
  std::string host;
  int port = 6379;
  std::string username;  // percent-decoded ACL user; empty: AUTH with the password alone
  std::string password;  // percent-decoded; empty: no AUTH
  int db = 0;
};

// Throws std::invalid_argument naming what is wrong (never echoing the password).
RedisAddress parse_redis_url(const std::string& url);

// "host:port,host:port" (blanks around entries allowed; [v6]:port for IPv6
// literals) → addresses; throws std::invalid_argument naming the bad entry.
std::vector<RedisAddress> parse_redis_nodes(const std::string& list);

// host:port, as logs and metrics name a node (never the password).
std::string endpoint_of(const RedisAddress& address);

}  // namespace scalecache
