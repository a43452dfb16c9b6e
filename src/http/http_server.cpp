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

HttpServer::HttpServer(Options options, std::shared_ptr<Pistache::Http::Handler> handler)
    : options_(std::move(options)), handler_(std::move(handler)) {}

HttpServer::~HttpServer() { stop(); }

void HttpServer::start() {
  using namespace Pistache;
  try {
    const Address address(options_.host, Port(options_.port));
    endpoint_ = std::make_unique<Http::Endpoint>(address);
    auto opts = Http::Endpoint::options()
                    .threads(options_.threads)
                    .flags(Tcp::Options::ReuseAddr | Tcp::Options::NoDelay)
                    .maxRequestSize(options_.max_request_bytes)
                    .headerTimeout(options_.header_timeout)
                    .bodyTimeout(options_.header_timeout)
                    .keepaliveTimeout(options_.keepalive_timeout);
    endpoint_->init(opts);
    endpoint_->setHandler(handler_);
    endpoint_->serveThreaded();
  } catch (const std::exception& e) {
    endpoint_.reset();
    throw std::runtime_error("cannot listen on " + options_.host + ":" + std::to_string(options_.port) + ": " +
                             e.what());
  }
}

void HttpServer::stop() {
  if (endpoint_) {
    endpoint_->shutdown();
    endpoint_.reset();
  }
}

}  // namespace scalecache
