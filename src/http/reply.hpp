#pragma once
// One response to one request, sent exactly once, possibly from another
// thread than the one that received the request. It decides keep-alive,
// renders the response (response_bytes) and records the request's metrics
// and its end for graceful shutdown.

#include <chrono>
#include <string>
#include <string_view>

#include <pistache/http.h>

#include "http/connection_transport.hpp"
#include "http/response_bytes.hpp"
#include "http/route.hpp"
#include "lifecycle/lifecycle.hpp"
#include "metrics/metrics.hpp"

namespace scalecache {

class Reply {
 public:
  // The answer to `request`.
  Reply(ReplyChannel channel, const Pistache::Http::Request& request, Route route, Metrics& metrics,
        Lifecycle& lifecycle);
  // The answer to bytes refused before they became a request: the connection closes after it.
  Reply(ReplyChannel channel, Metrics& metrics, Lifecycle& lifecycle);
  ~Reply();  // a reply never sent becomes a 500, so no client waits forever
  Reply(Reply&&) = delete;
  Reply& operator=(Reply&&) = delete;

  void json(Pistache::Http::Code code, std::string_view body);
  void empty(Pistache::Http::Code code);  // no body (304)
  void error(Pistache::Http::Code code, std::string_view error, std::string_view detail);
  void text(Pistache::Http::Code code, std::string_view body, std::string_view content_type);
  void header(std::string name, std::string value);

 private:
  void send(Pistache::Http::Code code, std::string_view body, std::string_view content_type);

  const ReplyChannel channel_;
  HeaderList headers_;
  const Route route_;
  const bool client_keep_alive_;
  const bool head_;
  const std::chrono::steady_clock::time_point started_;
  Metrics& metrics_;
  Lifecycle& lifecycle_;
  bool sent_ = false;
};

}  // namespace scalecache
