#include "http/reply.hpp"

#include <sys/socket.h>

#include <pistache/peer.h>

#include "http/response_body.hpp"
#include "util/log.hpp"

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

// A header with a fixed text value. Pistache 0.0.5 writes only typed header
// objects into a response (addRaw() entries are silently dropped).
class TextHeader : public Http::Header::Header {
 public:
  TextHeader(std::string name, std::string value) : name_(std::move(name)), value_(std::move(value)) {}
  const char* name() const override { return name_.c_str(); }
  void write(std::ostream& out) const override { out << value_; }
#ifdef SAFE_HEADER_CAST
  uint64_t hash() const override { return Http::Header::detail::hash(name_.c_str()); }
#endif

 private:
  std::string name_;
  std::string value_;
};

const Http::Mime::MediaType& json_type() {
  static const Http::Mime::MediaType type = Http::Mime::MediaType::fromString("application/json");
  return type;
}

thread_local bool t_reactor_thread = false;

}  // namespace

void Reply::mark_reactor_thread() { t_reactor_thread = true; }

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
  writer_.headers().add(std::make_shared<TextHeader>(std::move(name), std::move(value)));
}

void Reply::json(Http::Code code, std::string_view body) { send(code, body, json_type()); }

void Reply::empty(Http::Code code) { send(code, {}, Http::Mime::MediaType()); }

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
  // Headers every response carries are immutable objects shared by all
  // responses, which saves allocations on the hot path.
  static const auto keep_alive_header = std::make_shared<Http::Header::Connection>(Http::ConnectionControl::KeepAlive);
  static const auto close_header = std::make_shared<Http::Header::Connection>(Http::ConnectionControl::Close);
  static const auto nosniff_header = std::make_shared<TextHeader>("X-Content-Type-Options", "nosniff");
  headers.add(keep_alive ? keep_alive_header : close_header);
  headers.add(nosniff_header);

  try {
    auto sent = writer_.send(code, body.data(), body.size(), type);
    if (!t_reactor_thread) {
      // Pistache 0.0.5 resolves the promise send() returns (a chained one)
      // on the reactor without taking its lock, so a continuation attached
      // here, on a pool thread, races the reactor (seen as a crash after
      // ~10^5 misses). Leave it alone: a rejection without continuations is
      // dropped, and the half-close below is skipped; the response still
      // says "Connection: close", which clients honour.
    } else if (keep_alive) {
      sent.then([](ssize_t) {}, Pistache::Async::IgnoreException);  // the client may be gone
    } else {
      // Pistache 0.0.5 only labels the response "close"; it leaves the socket
      // open. Half-close it once the response is written, as RFC 9112 §9.6
      // requires; the reactor then sees the client's close and frees the peer.
      std::shared_ptr<Pistache::Tcp::Peer> peer = writer_.peer();
      sent.then(
          [peer](ssize_t) {
            if (peer) ::shutdown(peer->fd(), SHUT_WR);
          },
          Pistache::Async::IgnoreException);
    }
  } catch (const std::exception& e) {
    // The client hung up before its answer was ready (peer() and send()
    // throw then). Nothing to answer; the request still ends below.
    log::debug("client gone before its answer", {{"error", e.what()}});
  }

  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  metrics_.request_done(route_, static_cast<int>(code), seconds);
  lifecycle_.request_finished();
}

}  // namespace scalecache
