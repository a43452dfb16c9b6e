#pragma once
// The routes every scalecache process serves, serving replica and worker
// alike: /healthz (the event loops answer), /readyz (Lifecycle says serving)
// and /metrics. Anything else is the caller's.

#include <pistache/http.h>

#include "http/connection_transport.hpp"
#include "http/reply.hpp"
#include "http/route.hpp"
#include "lifecycle/lifecycle.hpp"
#include "metrics/metrics.hpp"

namespace scalecache {

// Answers `route` when it is Healthz, Readyz or Metrics and returns true; otherwise returns false.
// `method` is GET for a HEAD request (the reply drops the body).
bool answer_ops_route(Route route, Pistache::Http::Method method, Reply& reply, Lifecycle& lifecycle, Metrics& metrics);

// An application serving only those routes (404 for the rest): the worker's port.
class OpsRouter : public HttpApplication {
 public:
  OpsRouter(Lifecycle& lifecycle, Metrics& metrics) : lifecycle_(lifecycle), metrics_(metrics) {}

  void on_request(const Pistache::Http::Request& request, ReplyChannel channel) override;
  void on_refused(ReplyChannel channel, int status, std::string_view error, std::string_view detail) override;

 private:
  Lifecycle& lifecycle_;
  Metrics& metrics_;
};

}  // namespace scalecache
