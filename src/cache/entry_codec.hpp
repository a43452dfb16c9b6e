#pragma once
// The byte layout of an entry stored in Redis. Versioned, so replicas of
// different releases sharing one Redis treat unknown layouts as a miss
// rather than serving garbage.
//
//   "SC" | version (1 byte) | stored_at_ms (8, LE) | fresh_until_ms (8, LE)
//   | compute_ms (4, LE) | data (the rest)

#include <optional>
#include <string>
#include <string_view>

#include "cache/entry.hpp"

namespace scalecache {

std::string encode_entry(const Entry& entry);

// nullopt for anything that is not a well-formed current-version entry.
std::optional<Entry> decode_entry(std::string_view bytes);

}  // namespace scalecache
