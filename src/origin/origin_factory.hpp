#pragma once
// Builds the origin named by origin.kind.

#include <memory>

#include "config/config.hpp"
#include "origin/origin.hpp"

namespace scalecache {

std::unique_ptr<Origin> make_origin(const OriginConfig& config);

}  // namespace scalecache
