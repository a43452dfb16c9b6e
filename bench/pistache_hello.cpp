// Framework ceiling for `make bench`: the smallest useful Pistache 0.0.5 server.
// It answers every request with one fixed body (the same bytes scalecache sends
// for an L1 hit), using the same keep-alive fix as the service: Pistache 0.0.5
// answers `Connection: Close` to clients that send no Connection header (upstream
// #940), so the handler replaces that header with `Connection: keep-alive`.
//
// Usage: pistache_hello PORT THREADS BODY
// Stops on SIGTERM/SIGINT (signals are blocked before any thread starts and
// awaited with sigwait, because Endpoint::shutdown is not async-signal-safe).
#include <pistache/endpoint.h>
#include <pistache/http.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

using namespace Pistache;

class HelloHandler : public Http::Handler {
public:
    HTTP_PROTOTYPE(HelloHandler)

    explicit HelloHandler(std::shared_ptr<const std::string> body) : body_(std::move(body)) {}

    void onRequest(const Http::Request&, Http::ResponseWriter response) override {
        response.headers().remove<Http::Header::Connection>();
        response.headers().add<Http::Header::Connection>(Http::ConnectionControl::KeepAlive);
        response.setMime(MIME(Application, Json));
        response.send(Http::Code::Ok, *body_).then([](ssize_t) {}, Async::IgnoreException);
    }

private:
    std::shared_ptr<const std::string> body_;
};

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: %s PORT THREADS BODY\n", argv[0]);
        return 2;
    }
    const auto port = static_cast<uint16_t>(std::atoi(argv[1]));
    const int threads = std::atoi(argv[2]);
    auto body = std::make_shared<const std::string>(argv[3]);

    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    Http::Endpoint endpoint(Address(Ipv4::loopback(), Port(port)));
    endpoint.init(Http::Endpoint::options()
                      .threads(threads)
                      .flags(Tcp::Options::ReuseAddr | Tcp::Options::NoDelay));
    endpoint.setHandler(std::make_shared<HelloHandler>(body));
    endpoint.serveThreaded();
    std::printf("listening on 127.0.0.1:%u with %d threads\n", port, threads);
    std::fflush(stdout);

    int sig = 0;
    sigwait(&signals, &sig);
    endpoint.shutdown();
    return 0;
}
