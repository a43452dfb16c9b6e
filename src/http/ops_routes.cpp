#include "http/ops_routes.hpp"

namespace scalecache {

namespace Http = Pistache::Http;

bool answer_ops_route(Route route, Http::Method method, Reply& reply, Lifecycle& lifecycle, Metrics& metrics) {
  if (route != Route::Healthz && route != Route::Readyz && route != Route::Metrics) return false;
  if (method != Http::Method::Get) {
    reply.header("Allow", "GET, HEAD");
    reply.error(Http::Code::Method_Not_Allowed, "method_not_allowed", "allowed: GET, HEAD");
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

void OpsRouter::on_request(const Http::Request& request, ReplyChannel channel) {
  // RFC 9110 §9.3.2: HEAD is GET without the body (Reply drops it).
  const Http::Method method = request.method() == Http::Method::Head ? Http::Method::Get : request.method();
  const Route route = route_of(request.resource(), method);
  Reply reply(std::move(channel), request, route, metrics_, lifecycle_);
  try {
    if (!answer_ops_route(route, method, reply, lifecycle_, metrics_)) {
      reply.error(Http::Code::Not_Found, "no_route", "routes: /healthz, /readyz, /metrics");
    }
  } catch (const std::exception& e) {
    reply.error(Http::Code::Internal_Server_Error, "internal", "unexpected error");
  }
}

void OpsRouter::on_refused(ReplyChannel channel, int status, std::string_view error, std::string_view detail) {
  Reply reply(std::move(channel), metrics_, lifecycle_);
  reply.error(static_cast<Http::Code>(status), error, detail);
}

}  // namespace scalecache
