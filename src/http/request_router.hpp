#pragma once
// The HTTP protocol layer: maps method + path to an action, turns results
// into status codes, headers and JSON bodies. One router serves every reactor
// thread: routing is a few string comparisons with no shared mutable state
// (Pistache 0.0.5's Rest::Router is unsafe across threads).

#include <memory>
#include <string>

#include <pistache/http.h>

#include "cache/tiered_cache.hpp"
#include "http/connection_transport.hpp"
#include "http/purge_access.hpp"
#include "lifecycle/lifecycle.hpp"
#include "metrics/metrics.hpp"
#include "util/timer.hpp"

namespace scalecache {

struct RouterContext {
  TieredCache& cache;
  Metrics& metrics;
  Lifecycle& lifecycle;
  std::size_t max_key_bytes;
  PurgeAccess purge_access;
  Timer& timer;                 // ends waits bounded by Prefer: wait=N
  int64_t retry_after_seconds;  // queue.retry_after_seconds: 503 (overloaded) and 202
};

class RequestRouter : public HttpApplication {
 public:
  explicit RequestRouter(std::shared_ptr<RouterContext> context) : context_(std::move(context)) {}

  void on_request(const Pistache::Http::Request& request, ReplyChannel channel) override;
  void on_refused(ReplyChannel channel, int status, std::string_view error, std::string_view detail) override;

 private:
  std::shared_ptr<RouterContext> context_;
};

}  // namespace scalecache
