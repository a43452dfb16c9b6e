#pragma once
// Which argument of a command is the key that decides its slot. Covers the
// commands scalecache sends; a command without a key (PUBLISH: classic
// pub/sub reaches every node of a cluster) may go to any node.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace scalecache {

// The key of `command`, or nullopt when it has none.
std::optional<std::string_view> command_key(const std::vector<std::string>& command);

}  // namespace scalecache
