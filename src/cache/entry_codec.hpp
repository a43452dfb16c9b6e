#pragma once
// The byte layout of an entry stored in Redis. Versioned, so replicas of
// different releases sharing one Redis treat unknown layouts as a miss
// rather than serving garbage. Integers are little-endian.
//
//   "SC" | version 1 (1) | flags (1: bit 0 negative) | stored_at_ms (8)
//   | fresh_until_ms (8) | compute_ms (4) | stale_while_revalidate_s (4)
//   | stale_if_error_s (4) | etag (8) | data (the rest)

#include <optional>
#include <string>
#include <string_view>

#include "cache/entry.hpp"

namespace scalecache {

std::string encode_entry(const Entry& entry);

// nullopt for anything that is not a well-formed current-version entry.
std::optional<Entry> decode_entry(std::string_view bytes);

// The ETag value of some data: a 64-bit FNV-1a hash (stable across builds,
// so every replica computes the same tag for the same bytes).
uint64_t content_hash(std::string_view data);

}  // namespace scalecache
