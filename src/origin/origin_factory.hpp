#pragma once
// Builds the origin named by origin.kind.

#include <memory>
#include <string>

#include "config/config.hpp"
#include "origin/origin.hpp"

namespace scalecache {

// `tag_header`: the http origin header listing tags (cache.tag_header).
std::unique_ptr<Origin> make_origin(const OriginConfig& config, const std::string& tag_header);

}  // namespace scalecache
