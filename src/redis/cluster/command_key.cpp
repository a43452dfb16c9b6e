#include "redis/cluster/command_key.hpp"

#include <strings.h>

namespace scalecache {
namespace {

bool is(const std::string& word, const char* name) { return strcasecmp(word.c_str(), name) == 0; }

}  // namespace

std::optional<std::string_view> command_key(const std::vector<std::string>& command) {
  if (command.size() < 2) return std::nullopt;
  const std::string& name = command[0];
  if (is(name, "PUBLISH") || is(name, "PING") || is(name, "ASKING") || is(name, "SCRIPT")) return std::nullopt;
  // EVAL/EVALSHA script numkeys key...: the first key (a script's keys all share one slot).
  if (is(name, "EVALSHA") || is(name, "EVAL")) {
    if (command.size() < 4 || command[2] == "0") return std::nullopt;
    return command[3];
  }
  return command[1];
}

}  // namespace scalecache
