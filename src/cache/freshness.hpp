#pragma once
// The policy deciding, for an entry and a moment, whether to serve it, serve
// it stale, refresh it early or treat it as gone. Pure functions: the whole
// entry life (docs/cache-semantics.md) is here and unit-tested.
//
//   stored ── fresh ──► fresh_until ── stale-while-revalidate ──► … stale-if-error ──► gone

#include <cstdint>
#include <string_view>

#include "cache/entry.hpp"

namespace scalecache {

enum class Freshness {
  Fresh,         // serve it
  Revalidate,    // past the TTL, inside stale-while-revalidate: serve it, refresh in the background
  StaleIfError,  // past that: fetch anew, but it may stand in for an origin error
  Gone,          // useless
};

Freshness classify(const EntryMeta& meta, int64_t now_ms);

// Until when a read may answer with the entry (fresh, or a positive entry
// inside stale-while-revalidate); after it a read is a miss. The shared
// tier's lookup script decides the same from the encoded entry.
int64_t servable_until_ms(const EntryMeta& meta);
// Until when the entry is worth keeping: the end of its longest stale window.
int64_t keep_until_ms(const EntryMeta& meta);
// The same as a duration from now (Redis PX).
int64_t retention_ms(const EntryMeta& meta, int64_t now_ms);

// XFetch (Vattani, Chierichetti, Lowenstein, PVLDB 2015): refresh a fresh
// entry when now - compute * beta * ln(u) >= fresh_until, u uniform in (0,1].
bool should_refresh_early(const EntryMeta& meta, int64_t now_ms, double beta, double u);

// TTL shortened by up to `jitter` of itself, by a stable hash of the key, so a
// burst of fills expires spread out, and every replica computes the same value.
int64_t jittered_ttl_ms(std::string_view key, int64_t ttl_ms, double jitter);

// Soft purge: the entry stops being fresh now but keeps its stale windows,
// so it can still stand in for an origin error. The one rule for L1 and L2.
void mark_stale(EntryMeta& meta, int64_t now_ms);

}  // namespace scalecache
