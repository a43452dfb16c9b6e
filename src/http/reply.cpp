#include "http/reply.hpp"

#include "http/response_body.hpp"

namespace scalecache {

namespace Http = Pistache::Http;

namespace {

constexpr std::string_view kJson = "application/json";

// RFC 9112 §9.3: HTTP/1.1 is persistent unless either side says "close";
// HTTP/1.0 only when the client asks for keep-alive.
bool wants_keep_alive(const Http::Request& request) {
  auto connection = request.headers().tryGet<Http::Header::Connection>();
  if (request.version() == Http::Version::Http10) {
    return connection && connection->control() == Http::ConnectionControl::KeepAlive;
  }
  return !connection || connection->control() != Http::ConnectionControl::Close;
}

}  // namespace

Reply::Reply(ReplyChannel channel, const Http::Request& request, Route route, Metrics& metrics, Lifecycle& lifecycle)
    : channel_(std::move(channel)),
      route_(route),
      client_keep_alive_(wants_keep_alive(request)),
      head_(request.method() == Http::Method::Head),
      started_(std::chrono::steady_clock::now()),
      metrics_(metrics),
      lifecycle_(lifecycle) {
  lifecycle_.request_started();
}

Reply::Reply(ReplyChannel channel, Metrics& metrics, Lifecycle& lifecycle)
    : channel_(std::move(channel)),
      route_(Route::Other),
      client_keep_alive_(false),
      head_(false),
      started_(std::chrono::steady_clock::now()),
      metrics_(metrics),
      lifecycle_(lifecycle) {
  lifecycle_.request_started();
}

Reply::~Reply() {
  if (!sent_) error(Http::Code::Internal_Server_Error, "internal", "the request was dropped");
}

void Reply::header(std::string name, std::string value) { headers_.emplace_back(std::move(name), std::move(value)); }

void Reply::json(Http::Code code, std::string_view body) { send(code, body, kJson); }

void Reply::empty(Http::Code code) { send(code, {}, {}); }

void Reply::error(Http::Code code, std::string_view error, std::string_view detail) {
  send(code, error_body(error, detail), kJson);
}

void Reply::text(Http::Code code, std::string_view body, std::string_view content_type) {
  send(code, body, content_type);
}

void Reply::send(Http::Code code, std::string_view body, std::string_view content_type) {
  if (sent_) return;
  sent_ = true;
  // While draining, close so that clients and load balancers reconnect to another replica.
  const bool keep_alive = client_keep_alive_ && !lifecycle_.draining();
  ResponseParts parts;
  parts.status = static_cast<int>(code);
  parts.content_type = content_type;
  parts.headers = &headers_;
  parts.body = body;
  parts.keep_alive = keep_alive;
  parts.head = head_;
  channel_.send(render_response(parts), keep_alive);

  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  metrics_.request_done(route_, static_cast<int>(code), seconds);
  lifecycle_.request_finished();
}

}  // namespace scalecache
