#pragma once
// `scalecache worker`: the process that computes the jobs serving replicas
// queue (origin.kind: queue). It reads worker.* for itself, origin.* for
// the real origin (worker.origin_kind), redis.* and cache.* as the serving
// replicas do, so the fills it stores are the ones they would have stored.

#include "config/config.hpp"

namespace scalecache {

// Runs until SIGTERM/SIGINT; the exit code (0 after a clean stop).
int run_worker(const Config& config);

}  // namespace scalecache
