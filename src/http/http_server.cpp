#include "http/http_server.hpp"

#include <stdexcept>

namespace scalecache {

HttpServer::Options HttpServer::Options::from(const Config& config) {
  const ServerConfig& server = config.server;
  return {server.host,
          static_cast<uint16_t>(server.port),
          effective_threads(config),
          static_cast<std::size_t>(server.max_request_bytes),
          std::chrono::milliseconds(server.header_timeout_ms),
          std::chrono::seconds(server.keepalive_timeout_seconds)};
}

HttpServer::HttpServer(Options options, std::shared_ptr<HttpApplication> app)
    : options_(std::move(options)), app_(std::move(app)) {}

HttpServer::~HttpServer() { stop(); }

void HttpServer::start() {
  using namespace Pistache;
  try {
    const Address address(options_.host, Port(options_.port));
    ConnectionLimits limits{{options_.max_request_bytes, options_.max_request_bytes},
                            options_.header_timeout,
                            std::chrono::duration_cast<std::chrono::milliseconds>(options_.keepalive_timeout)};
    // Each reactor thread runs a clone of this transport (Transport::clone).
    auto prototype = std::make_shared<ConnectionTransport>(app_, limits);
    listener_ = std::make_unique<Tcp::Listener>(address);
    listener_->init(static_cast<size_t>(options_.threads),
                    Flags<Tcp::Options>(Tcp::Options::ReuseAddr) | Tcp::Options::NoDelay);
    listener_->setTransportFactory([prototype] { return prototype; });
    listener_->bind();
    listener_->runThreaded();
  } catch (const std::exception& e) {
    listener_.reset();
    throw std::runtime_error("cannot listen on " + options_.host + ":" + std::to_string(options_.port) + ": " +
                             e.what());
  }
}

void HttpServer::stop() {
  if (listener_) {
    listener_->shutdown();
    listener_.reset();
  }
}

}  // namespace scalecache
