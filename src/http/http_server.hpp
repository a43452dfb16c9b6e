#pragma once
// The HTTP server: Pistache's listener and reactor threads, serving
// scalecache's connections (connection_transport) with the limits that
// protect them (request size, header timeout, keep-alive timeout).

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include <pistache/listener.h>

#include "config/config.hpp"
#include "http/connection_transport.hpp"

namespace scalecache {

class HttpServer {
 public:
  struct Options {
    std::string host;
    uint16_t port;
    int threads;
    std::size_t max_request_bytes;
    std::chrono::milliseconds header_timeout;
    std::chrono::seconds keepalive_timeout;

    static Options from(const Config& config);  // threads: effective_threads(config)
  };

  // `app`: RequestRouter for a serving replica, OpsRouter for a worker.
  HttpServer(Options options, std::shared_ptr<HttpApplication> app);
  ~HttpServer();

  // Binds and starts the reactor threads; throws std::runtime_error naming
  // the address when it can't bind.
  void start();
  // Stops the reactors. Nothing may send a response afterwards.
  void stop();

 private:
  Options options_;
  std::shared_ptr<HttpApplication> app_;
  std::unique_ptr<Pistache::Tcp::Listener> listener_;
};

}  // namespace scalecache
