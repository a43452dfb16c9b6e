#pragma once
// One response to one request, sent exactly once, possibly from another
// thread than the one that received the request. It sets the headers every
// answer carries, decides keep-alive, and records the request's metrics and
// its end for graceful shutdown.

#include <chrono>
#include <string>
#include <string_view>

#include <pistache/http.h>

#include "lifecycle/lifecycle.hpp"
#include "metrics/metrics.hpp"

namespace scalecache {

class Reply {
 public:
  // Called by the HTTP handler on each reactor thread: replies sent from
  // those threads may attach continuations to Pistache's write promise;
  // replies sent from pool threads must not (see Reply::send).
  static void mark_reactor_thread();

  Reply(Pistache::Http::ResponseWriter&& writer, const Pistache::Http::Request& request, Route route, Metrics& metrics,
        Lifecycle& lifecycle);
  ~Reply();  // a reply never sent becomes a 500, so no client waits forever
  Reply(Reply&&) = delete;
  Reply& operator=(Reply&&) = delete;

  void json(Pistache::Http::Code code, std::string_view body);
  void empty(Pistache::Http::Code code);  // no body (304)
  void error(Pistache::Http::Code code, std::string_view error, std::string_view detail);
  void text(Pistache::Http::Code code, std::string_view body, std::string_view content_type);
  void header(std::string name, std::string value);

 private:
  void send(Pistache::Http::Code code, std::string_view body, const Pistache::Http::Mime::MediaType& type);

  Pistache::Http::ResponseWriter writer_;
  const Route route_;
  const bool client_keep_alive_;
  const std::chrono::steady_clock::time_point started_;
  Metrics& metrics_;
  Lifecycle& lifecycle_;
  bool sent_ = false;
};

}  // namespace scalecache
