#pragma once

#include <string>

namespace scalecache {

// A random 128-bit value in hex: lease tokens and instance ids.
std::string random_token();

}  // namespace scalecache
