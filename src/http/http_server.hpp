#pragma once
// The Pistache endpoint: listening socket, reactor threads and the limits
// that protect them (request size, header timeout, keep-alive timeout).

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include <pistache/endpoint.h>

#include "http/request_router.hpp"

namespace scalecache {

class HttpServer {
 public:
  struct Options {
    std::string host = "0.0.0.0";
    uint16_t port = 8080;
    int threads = 1;
    std::size_t max_request_bytes = 16384;
    std::chrono::milliseconds header_timeout{10000};
    std::chrono::seconds keepalive_timeout{60};
  };

  HttpServer(Options options, std::shared_ptr<RouterContext> context);
  ~HttpServer();

  // Binds and starts the reactor threads; throws std::runtime_error naming
  // the address when it can't bind.
  void start();
  // Stops the reactors. Nothing may send a response afterwards.
  void stop();

 private:
  Options options_;
  std::shared_ptr<RouterContext> context_;
  std::unique_ptr<Pistache::Http::Endpoint> endpoint_;
};

}  // namespace scalecache
