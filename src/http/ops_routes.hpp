#pragma once
// The routes every scalecache process serves, serving replica and worker
// alike: /healthz (the event loops answer), /readyz (Lifecycle says serving)
// and /metrics. Anything else is the caller's.

#include <pistache/http.h>

#include "http/reply.hpp"
#include "http/route.hpp"
#include "lifecycle/lifecycle.hpp"
#include "metrics/metrics.hpp"

namespace scalecache {

// Answers `route` when it is Healthz, Readyz or Metrics and returns true; otherwise returns false.
bool answer_ops_route(Route route, Pistache::Http::Method method, Reply& reply, Lifecycle& lifecycle, Metrics& metrics);

// A handler serving only those routes (404 for the rest): the worker's port.
class OpsRouter : public Pistache::Http::Handler {
 public:
  HTTP_PROTOTYPE(OpsRouter)

  OpsRouter(Lifecycle& lifecycle, Metrics& metrics) : lifecycle_(lifecycle), metrics_(metrics) {}

  void onRequest(const Pistache::Http::Request& request, Pistache::Http::ResponseWriter response) override;

 private:
  Lifecycle& lifecycle_;
  Metrics& metrics_;
};

}  // namespace scalecache
