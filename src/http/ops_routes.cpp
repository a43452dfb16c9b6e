#include "http/ops_routes.hpp"

namespace scalecache {

namespace Http = Pistache::Http;

bool answer_ops_route(Route route, Http::Method method, Reply& reply, Lifecycle& lifecycle, Metrics& metrics) {
  if (route != Route::Healthz && route != Route::Readyz && route != Route::Metrics) return false;
  if (method != Http::Method::Get) {
    reply.header("Allow", "GET");
    reply.error(Http::Code::Method_Not_Allowed, "method_not_allowed", "allowed: GET");
  } else if (route == Route::Healthz) {
    reply.json(Http::Code::Ok, R"({"status":"ok"})");
  } else if (route == Route::Readyz) {
    if (lifecycle.ready()) {
      reply.json(Http::Code::Ok, R"({"status":"ready"})");
    } else {
      reply.error(Http::Code::Service_Unavailable, "not_ready", lifecycle.draining() ? "shutting down" : "starting");
    }
  } else {
    reply.text(Http::Code::Ok, metrics.render(), "text/plain; version=0.0.4; charset=utf-8");
  }
  return true;
}

void OpsRouter::onRequest(const Http::Request& request, Http::ResponseWriter response) {
  Reply::mark_reactor_thread();
  const Route route = route_of(request.resource(), request.method());
  Reply reply(std::move(response), request, route, metrics_, lifecycle_);
  try {
    if (!answer_ops_route(route, request.method(), reply, lifecycle_, metrics_)) {
      reply.error(Http::Code::Not_Found, "no_route", "routes: /healthz, /readyz, /metrics");
    }
  } catch (const std::exception& e) {
    reply.error(Http::Code::Internal_Server_Error, "internal", "unexpected error");
  }
}

}  // namespace scalecache
