#pragma once
// `scalecache worker`: the process that computes the jobs serving replicas
// queue (origin.kind: queue). It reads worker.* for itself, origin.* for
// the real origin (worker.origin_kind), redis.* and cache.* as the serving
// replicas do, so the fills it stores are the ones they would have stored.

#include <string>

#include "config/config.hpp"

namespace scalecache {

// What the loader cannot check because it does not know the process is a
// worker (a worker needs Redis, ...): one line for the user, empty when fine.
std::string worker_config_error(const Config& config);

// Runs until SIGTERM/SIGINT; the exit code (0 after a clean stop, 2 for worker_config_error).
int run_worker(const Config& config);

}  // namespace scalecache
