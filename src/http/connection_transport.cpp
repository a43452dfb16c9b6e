#include "http/connection_transport.hpp"

#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <stdexcept>

#include <pistache/peer.h>
#include <pistache/prototype.h>

#include "util/log.hpp"

namespace scalecache {

namespace Polling = Pistache::Polling;

// Answers produced off the reactor thread, waiting for it; one per reactor.
class ConnectionOutbox {
 public:
  struct Delivery {
    int fd;
    std::size_t connection_id;
    std::string bytes;
    bool keep_alive;
  };

  ConnectionOutbox() : event_fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
    if (event_fd_ < 0) throw std::runtime_error("eventfd failed");
  }
  ~ConnectionOutbox() { ::close(event_fd_); }
  ConnectionOutbox(const ConnectionOutbox&) = delete;
  ConnectionOutbox& operator=(const ConnectionOutbox&) = delete;

  int event_fd() const { return event_fd_; }

  // Any thread. Wakes the reactor only when the batch was empty: one wake-up
  // carries every answer queued before the reactor gets to it.
  void post(Delivery d) {
    bool was_empty = false;
    {
      std::lock_guard lock(mutex_);
      was_empty = queue_.empty();
      queue_.push_back(std::move(d));
    }
    if (was_empty) {
      const uint64_t one = 1;
      [[maybe_unused]] const ssize_t n = ::write(event_fd_, &one, sizeof one);
    }
  }

  // Reactor thread: everything queued so far.
  std::vector<Delivery> take() {
    uint64_t count = 0;
    [[maybe_unused]] const ssize_t n = ::read(event_fd_, &count, sizeof count);
    std::vector<Delivery> batch;
    std::lock_guard lock(mutex_);
    batch.swap(queue_);
    return batch;
  }

  ConnectionTransport* owner = nullptr;  // read on its reactor thread only

 private:
  const int event_fd_;
  std::mutex mutex_;
  std::vector<Delivery> queue_;
};

namespace {

std::atomic<uint64_t> g_accepted{0};

// The outbox of the transport whose reactor is running on this thread: a reply
// sent from there goes to the socket at once.
thread_local const ConnectionOutbox* t_reactor_outbox = nullptr;

constexpr std::size_t kReadChunk = 16384;
// Bytes buffered from a client while its current request is answered (pipelining):
// reading stops beyond this and resumes once the answer is out.
constexpr std::size_t kMaxBufferedRequests = 4;
// Timeouts are checked this often (a scan of the reactor's connections).
constexpr auto kTimerTick = std::chrono::milliseconds(250);
// How long a connection that was answered "close" may take to close its side.
constexpr auto kLinger = std::chrono::seconds(2);

// Pistache's Tcp::Handler is needed only for the connection event; reads are
// this transport's own (onInput is never called).
class ConnectionEvents : public Pistache::Tcp::Handler {
 public:
  PROTOTYPE_OF(Pistache::Tcp::Handler, ConnectionEvents)

  void onInput(const char*, size_t, const std::shared_ptr<Pistache::Tcp::Peer>&) override {}
  void onConnection(const std::shared_ptr<Pistache::Tcp::Peer>& peer) override {
    if (transport != nullptr) transport->on_connection(peer);
  }

  ConnectionTransport* transport = nullptr;
};

}  // namespace

struct ConnectionTransport::Connection {
  std::shared_ptr<Pistache::Tcp::Peer> peer;
  int fd = -1;
  std::size_t id = 0;
  std::unique_ptr<Pistache::Http::RequestParser> parser;
  std::string in;   // bytes read, not yet a dispatched request
  std::string out;  // bytes the socket has not taken yet
  Clock::time_point last_active;
  Clock::time_point partial_since;  // first byte of an unfinished request
  bool partial = false;
  bool waiting = false;      // a request is being answered: later ones wait (pipelining order)
  bool processing = false;   // inside process(): a synchronous answer must not re-enter it
  bool read_paused = false;  // stopped reading at kMaxBufferedRequests; resume when answered
  bool closing = false;      // answered "close": no more requests, close once written
  bool half_closed = false;  // our side shut down; waiting for the client's close
  bool want_write = false;   // EPOLLOUT requested for `out`
  bool dead = false;
  Clock::time_point linger_until;
};

ReplyChannel::ReplyChannel(std::shared_ptr<ConnectionOutbox> outbox, int fd, std::size_t connection_id)
    : outbox_(std::move(outbox)), fd_(fd), connection_id_(connection_id) {}

void ReplyChannel::send(std::string bytes, bool keep_alive) const {
  if (t_reactor_outbox == outbox_.get()) {
    outbox_->owner->deliver(fd_, connection_id_, std::move(bytes), keep_alive);
  } else {
    outbox_->post({fd_, connection_id_, std::move(bytes), keep_alive});
  }
}

ConnectionTransport::ConnectionTransport(std::shared_ptr<HttpApplication> app, ConnectionLimits limits)
    : ConnectionTransport(std::move(app), limits, std::make_shared<ConnectionEvents>()) {}

ConnectionTransport::ConnectionTransport(std::shared_ptr<HttpApplication> app, ConnectionLimits limits,
                                         const std::shared_ptr<Pistache::Tcp::Handler>& events)
    : Pistache::Tcp::Transport(events),
      app_(std::move(app)),
      limits_(limits),
      outbox_(std::make_shared<ConnectionOutbox>()) {
  static_cast<ConnectionEvents&>(*events).transport = this;
  outbox_->owner = this;
}

std::shared_ptr<Pistache::Aio::Handler> ConnectionTransport::clone() const {
  return std::make_shared<ConnectionTransport>(app_, limits_);
}

void ConnectionTransport::registerPoller(Polling::Epoll& poller) {
  Pistache::Tcp::Transport::registerPoller(poller);
  timer_fd_ = TimerFd(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
  if (timer_fd_.fd < 0) throw std::runtime_error("timerfd_create failed");
  itimerspec spec{};
  spec.it_interval.tv_nsec = std::chrono::nanoseconds(kTimerTick).count();
  spec.it_value = spec.it_interval;
  ::timerfd_settime(timer_fd_.fd, 0, &spec, nullptr);
  poller.addFd(timer_fd_.fd, Pistache::Flags<Polling::NotifyOn>(Polling::NotifyOn::Read), Polling::Tag(timer_fd_.fd));
  poller.addFd(outbox_->event_fd(), Pistache::Flags<Polling::NotifyOn>(Polling::NotifyOn::Read),
               Polling::Tag(outbox_->event_fd()));
}

void ConnectionTransport::onReady(const Pistache::Aio::FdSet& fds) {
  t_reactor_outbox = outbox_.get();
  std::vector<Polling::Event> rest;
  for (const auto& entry : fds) {
    const Polling::Tag tag = entry.getTag();
    const auto fd = static_cast<int>(tag.value());
    if (fd == timer_fd_.fd) {
      uint64_t ticks = 0;
      [[maybe_unused]] const ssize_t n = ::read(timer_fd_.fd, &ticks, sizeof ticks);
      check_timeouts();
      continue;
    }
    if (fd == outbox_->event_fd()) {
      drain_outbox();
      continue;
    }
    auto it = connections_.find(fd);
    if (it == connections_.end()) {
      // Pistache's own: new peers, its queues.
      Polling::Event event(tag);
      if (entry.isReadable()) event.flags.setFlag(Polling::NotifyOn::Read);
      if (entry.isWritable()) event.flags.setFlag(Polling::NotifyOn::Write);
      if (entry.isHangup()) event.flags.setFlag(Polling::NotifyOn::Hangup);
      rest.push_back(event);
      continue;
    }
    Connection& c = *it->second;
    if (entry.isWritable() && !c.out.empty()) write_out(c);
    if (entry.isReadable() || entry.isHangup()) read_from(c);
  }
  if (!rest.empty()) Pistache::Tcp::Transport::onReady(Pistache::Aio::FdSet(std::move(rest)));
  reap();
}

void publish_accepted_connection() { g_accepted.fetch_add(1, std::memory_order_release); }

void ConnectionTransport::on_connection(const std::shared_ptr<Pistache::Tcp::Peer>& peer) {
  // Pairs with publish_accepted_connection for this connection (or a later one).
  [[maybe_unused]] const uint64_t accepted = g_accepted.load(std::memory_order_acquire);
  auto c = std::make_shared<Connection>();
  c->peer = peer;
  c->fd = peer->fd();
  c->id = peer->getID();
  c->last_active = Clock::now();
  connections_[c->fd] = std::move(c);
}

void ConnectionTransport::read_from(Connection& c) {
  while (!c.dead && !c.half_closed) {
    if (c.waiting &&
        c.in.size() > kMaxBufferedRequests * (limits_.frame.max_head_bytes + limits_.frame.max_body_bytes)) {
      c.read_paused = true;
      return;
    }
    // Read into the stack, then append what came: growing `in` by a chunk
    // first would zero 16 KB per read and leave every connection holding a
    // 16 KB buffer for a request of a few hundred bytes.
    std::array<char, kReadChunk> chunk;  // NOLINT(cppcoreguidelines-pro-type-member-init): recv fills it
    const ssize_t n = ::recv(c.fd, chunk.data(), chunk.size(), 0);
    if (n > 0) {
      c.in.append(chunk.data(), static_cast<std::size_t>(n));
      c.last_active = Clock::now();
      process(c);
      // A short read emptied the socket; edge-triggered epoll reports any later byte.
      if (static_cast<std::size_t>(n) < kReadChunk) return;
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n < 0 && errno == EINTR) continue;
    mark_dead(c);  // the client closed, or the connection broke
  }
  if (c.half_closed) {
    // Answered "close": discard what still comes until the client closes too.
    char sink[4096];
    while (true) {
      const ssize_t n = ::recv(c.fd, sink, sizeof sink, 0);
      if (n > 0) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      mark_dead(c);
      return;
    }
  }
}

void ConnectionTransport::process(Connection& c) {
  if (c.processing) return;
  c.processing = true;
  while (!c.waiting && !c.closing && !c.dead && !c.in.empty()) {
    const Frame frame = frame_request(c.in, limits_.frame);
    if (frame.kind == Frame::Kind::Incomplete) {
      if (!c.partial) {
        c.partial = true;
        c.partial_since = Clock::now();
      }
      break;
    }
    c.partial = false;
    if (frame.kind == Frame::Kind::Error) {
      refuse(c, frame.status, frame.error, frame.detail);
      break;
    }
    dispatch(c, frame.skipped, frame.length);
  }
  c.processing = false;
}

void ConnectionTransport::dispatch(Connection& c, std::size_t skipped, std::size_t length) {
  if (!c.parser) {
    c.parser =
        std::make_unique<Pistache::Http::RequestParser>(limits_.frame.max_head_bytes + limits_.frame.max_body_bytes);
  }
  auto& parser = *c.parser;
  parser.reset();
  Pistache::Http::Private::State state = Pistache::Http::Private::State::Again;
  int status = 400;
  std::string detail = "the request could not be parsed";
  try {
    if (parser.feed(c.in.data() + skipped, length)) state = parser.parse();
  } catch (const Pistache::Http::HttpError& e) {
    // Pistache knows the method list; an unknown method is "not implemented" (RFC 9110 §9.1).
    status = e.code() == 400 && e.reason().find("method") != std::string::npos ? 501 : e.code();
    detail = e.reason();
  } catch (const std::exception& e) {
    detail = e.what();
  }
  c.in.erase(0, skipped + length);
  if (state != Pistache::Http::Private::State::Done) {
    refuse(c, status, status == 501 ? "not_implemented" : "bad_request", detail);
    return;
  }
  c.waiting = true;
  try {
    app_->on_request(parser.request, channel(c));
  } catch (const std::exception& e) {
    log::error("request handler threw", {{"error", e.what()}});
  }
}

void ConnectionTransport::refuse(Connection& c, int status, std::string_view error, std::string_view detail) {
  c.in.clear();
  c.partial = false;
  c.waiting = true;
  c.closing = true;  // nothing after a refused request can be trusted to be framed right
  app_->on_refused(channel(c), status, error, detail);
}

ReplyChannel ConnectionTransport::channel(const Connection& c) const { return {outbox_, c.fd, c.id}; }

void ConnectionTransport::deliver(int fd, std::size_t connection_id, std::string bytes, bool keep_alive) {
  auto it = connections_.find(fd);
  if (it == connections_.end() || it->second->id != connection_id || it->second->dead) return;  // client gone
  Connection& c = *it->second;
  c.waiting = false;
  c.last_active = Clock::now();
  if (!keep_alive) c.closing = true;
  if (c.out.empty()) {
    c.out = std::move(bytes);
  } else {
    c.out.append(bytes);
  }
  write_out(c);
}

void ConnectionTransport::write_out(Connection& c) {
  std::size_t written = 0;
  while (written < c.out.size()) {
    const ssize_t n = ::send(c.fd, c.out.data() + written, c.out.size() - written, MSG_NOSIGNAL);
    if (n > 0) {
      written += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    mark_dead(c);  // EPIPE, ECONNRESET: the client is gone
    return;
  }
  if (written < c.out.size()) {
    // The socket is full: the rest goes when epoll reports it writable (rare for small answers).
    c.out.erase(0, written);
    if (c.want_write) return;
    c.want_write = true;
    reactor()->modifyFd(key(), c.fd, Polling::NotifyOn::Read | Polling::NotifyOn::Write, Polling::Mode::Edge);
    return;
  }
  // Freed now rather than when the connection's next answer replaces it: a
  // large answer made on a pool thread would otherwise sit in that thread's
  // heap among the cache entries filled after it, and leave a hole there
  // when it finally goes (with exact-size answers, measured on 20k entries of
  // 10 KB: free heap 1,058 -> 688 B per entry; BENCHMARKS.md, memory).
  std::string().swap(c.out);
  if (c.want_write) {
    c.want_write = false;  // stop EPOLLOUT wake-ups (each ACK would bring one)
    reactor()->modifyFd(key(), c.fd, Polling::NotifyOn::Read, Polling::Mode::Edge);
  }
  after_answer(c);
}

void ConnectionTransport::after_answer(Connection& c) {
  if (c.closing) {
    // RFC 9112 §9.6: close our side once the answer is out, then let the client close (no RST on its data).
    ::shutdown(c.fd, SHUT_WR);
    c.half_closed = true;
    c.linger_until = Clock::now() + kLinger;
    c.in.clear();
    read_from(c);
    return;
  }
  if (c.waiting) return;
  process(c);  // requests that arrived meanwhile (pipelined)
  if (c.read_paused && !c.waiting) {
    c.read_paused = false;
    read_from(c);
  }
}

void ConnectionTransport::drain_outbox() {
  for (auto& d : outbox_->take()) deliver(d.fd, d.connection_id, std::move(d.bytes), d.keep_alive);
}

void ConnectionTransport::check_timeouts() {
  const auto now = Clock::now();
  for (auto& [fd, conn] : connections_) {
    Connection& c = *conn;
    if (c.dead) continue;
    if (c.half_closed) {
      if (now >= c.linger_until) mark_dead(c);
    } else if (c.waiting || !c.out.empty()) {
      // Being answered: the request's own deadline bounds it.
    } else if (c.partial) {
      if (now - c.partial_since > limits_.header_timeout) {
        refuse(c, 408, "request_timeout", "the request was not received in time");
      }
    } else if (now - c.last_active > limits_.keepalive_timeout) {
      mark_dead(c);  // idle keep-alive connection: closed without an answer (RFC 9112 §9.5)
    }
  }
  reap();
}

void ConnectionTransport::mark_dead(Connection& c) {
  if (c.dead) return;
  c.dead = true;
  dead_.push_back(c.fd);  // closed in reap(), outside the loops that still hold `c`
}

void ConnectionTransport::reap() {
  for (const int fd : dead_) {
    auto it = connections_.find(fd);
    if (it == connections_.end()) continue;
    std::shared_ptr<Pistache::Tcp::Peer> peer = std::move(it->second->peer);
    connections_.erase(it);
    try {
      removePeer(peer);  // unregisters and closes the socket
    } catch (const std::exception& e) {
      log::debug("peer already removed", {{"error", e.what()}});
    }
  }
  dead_.clear();
}

}  // namespace scalecache
