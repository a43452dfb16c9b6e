#include "http/reply.hpp"

#include "http/response_body.hpp"

namespace scalecache {

namespace Http = Pistache::Http;

namespace {

// RFC 9112 §9.3: HTTP/1.1 is persistent unless either side says "close";
// HTTP/1.0 only when the client asks for keep-alive.
bool wants_keep_alive(const Http::Request& request) {
  auto connection = request.headers().tryGet<Http::Header::Connection>();
  if (request.version() == Http::Version::Http10) {
    return connection && connection->control() == Http::ConnectionControl::KeepAlive;
  }
  return !connection || connection->control() != Http::ConnectionControl::Close;
}

const Http::Mime::MediaType& json_type() {
  static const Http::Mime::MediaType type = Http::Mime::MediaType::fromString("application/json");
  return type;
}

}  // namespace

Reply::Reply(Http::ResponseWriter&& writer, const Http::Request& request, Route route, Metrics& metrics,
             Lifecycle& lifecycle)
    : writer_(std::move(writer)),
      route_(route),
      client_keep_alive_(wants_keep_alive(request)),
      started_(std::chrono::steady_clock::now()),
      metrics_(metrics),
      lifecycle_(lifecycle) {
  lifecycle_.request_started();
}

Reply::~Reply() {
  if (!sent_) error(Http::Code::Internal_Server_Error, "internal", "the request was dropped");
}

void Reply::header(std::string name, std::string value) {
  writer_.headers().addRaw(Http::Header::Raw(std::move(name), std::move(value)));
}

void Reply::json(Http::Code code, std::string_view body) { send(code, body, json_type()); }

void Reply::error(Http::Code code, std::string_view error, std::string_view detail) {
  send(code, error_body(error, detail), json_type());
}

void Reply::text(Http::Code code, std::string_view body, std::string_view content_type) {
  send(code, body, Http::Mime::MediaType::fromString(std::string(content_type)));
}

void Reply::send(Http::Code code, std::string_view body, const Http::Mime::MediaType& type) {
  if (sent_) return;
  sent_ = true;
  auto& headers = writer_.headers();
  // Pistache 0.0.5 answers "Connection: Close" to any request without a
  // Connection header (curl, browsers, proxies) and then closes the socket;
  // replace its choice with the one HTTP/1.1 prescribes. While draining,
  // close so that clients and load balancers reconnect to another replica.
  headers.remove<Http::Header::Connection>();
  const bool keep_alive = client_keep_alive_ && !lifecycle_.draining();
  headers.add<Http::Header::Connection>(keep_alive ? Http::ConnectionControl::KeepAlive
                                                   : Http::ConnectionControl::Close);
  headers.addRaw(Http::Header::Raw("X-Content-Type-Options", "nosniff"));

  writer_.send(code, body.data(), body.size(), type)
      .then([](ssize_t) {}, Pistache::Async::IgnoreException);  // the client may be gone

  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  metrics_.request_done(route_, static_cast<int>(code), seconds);
  lifecycle_.request_finished();
}

}  // namespace scalecache
