#pragma once
// scalecache's HTTP/1.1 connections on Pistache's reactor. Pistache still
// accepts (Tcp::Listener), runs the reactor threads and parses each request
// (Http::RequestParser); this transport owns what happens around them:
//
// - reading: one recv per readiness event when it does not fill the buffer
//   (edge-triggered epoll signals again for any later byte), instead of
//   Pistache's read-until-EAGAIN;
// - framing: request_framing finds where each request ends, so pipelined
//   requests are answered one after another, in order, and malformed or
//   oversized ones get a JSON error and a close;
// - writing: an answer produced on the reactor thread that owns the
//   connection goes to the socket at once; only what the socket does not
//   take waits for EPOLLOUT. Answers from other threads are handed over in
//   batches through one eventfd per reactor. Pistache's write queue (an
//   eventfd write and read plus three epoll_ctl per response) is not used;
// - timeouts: an unfinished request is answered 408 (JSON) after the header
//   timeout; an idle keep-alive connection is closed after the keep-alive
//   timeout.

#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <unistd.h>

#include <pistache/http.h>
#include <pistache/transport.h>

#include "http/request_framing.hpp"

namespace scalecache {

class ConnectionOutbox;

// Where the one answer to one request goes. Copyable; usable from any thread.
class ReplyChannel {
 public:
  ReplyChannel(std::shared_ptr<ConnectionOutbox> outbox, int fd, std::size_t connection_id);

  // Hands over the complete response; the connection closes after it unless `keep_alive`.
  void send(std::string bytes, bool keep_alive) const;

 private:
  std::shared_ptr<ConnectionOutbox> outbox_;
  int fd_;
  std::size_t connection_id_;
};

// What the connections serve. Called on reactor threads; each call must lead
// to exactly one ReplyChannel::send, now or later, from any thread.
class HttpApplication {
 public:
  virtual ~HttpApplication() = default;
  virtual void on_request(const Pistache::Http::Request& request, ReplyChannel channel) = 0;
  // A request refused before routing (framing, parser, timeout): answer `status` with the JSON error and close.
  virtual void on_refused(ReplyChannel channel, int status, std::string_view error, std::string_view detail) = 0;
};

struct ConnectionLimits {
  FrameLimits frame;
  std::chrono::milliseconds header_timeout;
  std::chrono::milliseconds keepalive_timeout;
};

// Called on the listener thread after each accepted connection (accept_backoff),
// and read when the reactor takes the connection over: Pistache hands a new
// peer to its reactor through a lock-free queue whose atomics ThreadSanitizer
// cannot see (libpistache is not instrumented), so this release/acquire pair
// states the hand-off it makes. One relaxed-cost atomic per connection.
void publish_accepted_connection();

class ConnectionTransport : public Pistache::Tcp::Transport {
 public:
  ConnectionTransport(std::shared_ptr<HttpApplication> app, ConnectionLimits limits);

  void registerPoller(Pistache::Polling::Epoll& poller) override;
  void onReady(const Pistache::Aio::FdSet& fds) override;
  std::shared_ptr<Pistache::Aio::Handler> clone() const override;

  // Reactor thread only.
  void on_connection(const std::shared_ptr<Pistache::Tcp::Peer>& peer);
  void deliver(int fd, std::size_t connection_id, std::string bytes, bool keep_alive);

 private:
  struct Connection;
  using Clock = std::chrono::steady_clock;

  ConnectionTransport(std::shared_ptr<HttpApplication> app, ConnectionLimits limits,
                      const std::shared_ptr<Pistache::Tcp::Handler>& events);

  void read_from(Connection& c);
  void process(Connection& c);
  void dispatch(Connection& c, std::size_t skipped, std::size_t length);
  void refuse(Connection& c, int status, std::string_view error, std::string_view detail);
  void write_out(Connection& c);
  void after_answer(Connection& c);
  void check_timeouts();
  void drain_outbox();
  void mark_dead(Connection& c);
  void reap();
  ReplyChannel channel(const Connection& c) const;

  std::shared_ptr<HttpApplication> app_;
  ConnectionLimits limits_;
  std::shared_ptr<ConnectionOutbox> outbox_;
  struct TimerFd {  // closes the tick timer with the transport
    explicit TimerFd(int f = -1) : fd(f) {}
    TimerFd(const TimerFd&) = delete;
    TimerFd& operator=(const TimerFd&) = delete;
    TimerFd& operator=(TimerFd&& other) noexcept {
      std::swap(fd, other.fd);
      return *this;
    }
    ~TimerFd() {
      if (fd >= 0) ::close(fd);
    }
    int fd;
  };
  TimerFd timer_fd_;
  std::unordered_map<int, std::shared_ptr<Connection>> connections_;  // shared_ptr: Connection is defined in the .cpp
  std::vector<int> dead_;  // connections to close once the current event is handled
};

}  // namespace scalecache
