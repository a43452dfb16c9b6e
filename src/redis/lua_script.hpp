#pragma once
// A Lua script run by its SHA-1 (EVALSHA), so a command carries 40 bytes
// instead of the script and Redis skips hashing it on every call. Redis keeps
// scripts per server: RedisStore loads every script it is given on each
// connection it opens for commands, and drops a connection that answers
// NOSCRIPT (after a SCRIPT FLUSH), so the next one loads them again.

#include <string>

namespace scalecache {

struct LuaScript {
  explicit LuaScript(std::string source_text);

  std::string source;
  std::string sha1;  // lower-case hex, as EVALSHA takes it
};

}  // namespace scalecache
