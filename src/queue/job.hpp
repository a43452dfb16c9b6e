#pragma once
// One unit of work for the worker tier: compute `key` and fill it. A serving
// replica makes a job only while it holds the key's fleet lease, and hands
// the lease over with it: the worker's fill releases it, so there is one job
// per key in flight for the whole fleet.

#include <cstdint>
#include <string>

#include "cache/shared_tier.hpp"

namespace scalecache {

struct Job {
  std::string key;
  // Made by a client's miss (1) or a background refresh; only for logs.
  int64_t attempt = 1;
  // Wall clock: when the lease the job carries runs out unless a worker keeps
  // it. A job picked up later than this has been given up on by its waiters.
  int64_t deadline_ms = 0;
  std::string request_id;   // ties the serving replica's log lines to the worker's
  SharedTier::Lease lease;  // the fleet lease the job holds, and the purge generation it began at
  int64_t enqueued_ms = 0;
};

}  // namespace scalecache
