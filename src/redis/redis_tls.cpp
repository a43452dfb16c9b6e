#include "redis/redis_tls.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "redis/redis_connection.hpp"
#include "util/log.hpp"

namespace scalecache {
namespace {

// A tunnel blocked inside SSL_read on a record that never completes (a
// server gone silent mid-answer) gives up after this; hiredis's own timeout
// has long failed the command by then.
constexpr int kRecordTimeoutS = 10;
// The system's CAs on Debian (ca-certificates), the image included.
constexpr const char* kDebianCaBundle = "/etc/ssl/certs/ca-certificates.crt";

// OpenSSL's first queued error, or "" when it queued none (a plain socket error).
std::string queued_openssl_error() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return {};
  std::array<char, 256> text{};
  ERR_error_string_n(code, text.data(), text.size());
  return text.data();
}

std::string openssl_error() {
  std::string error = queued_openssl_error();
  return error.empty() ? "unknown TLS error" : error;
}

// Every reconnect attempt of every pooled connection would log the same
// refusal: one line per this interval is enough to say why.
constexpr int64_t kFailureLogIntervalMs = 10000;
std::atomic<int64_t> g_failure_logged_at_ms{-kFailureLogIntervalMs};

void log_session_failure(const std::string& peer, const std::string& reason) {
  const int64_t now =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count();
  int64_t last = g_failure_logged_at_ms.load(std::memory_order_relaxed);
  if (now - last < kFailureLogIntervalMs || !g_failure_logged_at_ms.compare_exchange_strong(last, now)) return;
  log::warn("redis TLS session ended by an error", {{"redis", peer}, {"reason", reason}});
}

void set_io_timeout(int fd, int64_t ms) {
  const timeval tv = to_timeval(ms);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

bool is_ip_literal(const std::string& host) {
  std::array<unsigned char, sizeof(in6_addr)> buf{};
  return inet_pton(AF_INET, host.c_str(), buf.data()) == 1 || inet_pton(AF_INET6, host.c_str(), buf.data()) == 1;
}

bool ssl_write_all(SSL* ssl, const char* data, std::size_t size) {
  while (size > 0) {
    const int n = SSL_write(ssl, data, static_cast<int>(size));
    if (n <= 0) return false;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

// Carries bytes both ways until either side closes or fails, then closes
// both, so hiredis sees the end of the connection as it would without TLS.
// The local end is non-blocking and what the server sent waits in `to_local`:
// the tunnel never blocks on hiredis, which may itself be busy writing a long
// pipeline into the tunnel (blocking both ways would deadlock).
// A session the server ended with an alert (TLS 1.3 refuses a missing client
// certificate only after the handshake) is logged with OpenSSL's reason:
// hiredis alone would report a bare "Broken pipe".
void run_tunnel(SSL* ssl, int tls_fd, int local_fd, const std::string& peer) {
  std::array<char, 16384> chunk;  // NOLINT(cppcoreguidelines-pro-type-member-init): filled by reads
  std::string to_local;
  std::string failure;
  bool open = true;
  while (open) {
    std::array<pollfd, 2> fds{pollfd{local_fd, static_cast<short>(POLLIN | (to_local.empty() ? 0 : POLLOUT)), 0},
                              pollfd{tls_fd, POLLIN, 0}};
    // Bytes OpenSSL already decrypted are not visible to poll.
    if (SSL_pending(ssl) > 0) {
      fds[1].revents = POLLIN;
      fds[0].revents = 0;
      poll(fds.data(), 1, 0);
    } else if (poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if ((fds[0].revents & POLLOUT) != 0) {
      const ssize_t n = send(local_fd, to_local.data(), to_local.size(), MSG_NOSIGNAL);
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) break;
      if (n > 0) to_local.erase(0, static_cast<std::size_t>(n));
    }
    if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      const ssize_t n = recv(local_fd, chunk.data(), chunk.size(), 0);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) break;
      if (n > 0 && !ssl_write_all(ssl, chunk.data(), static_cast<std::size_t>(n))) {
        failure = queued_openssl_error();
        open = false;
      }
    }
    if (open && (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      const int n = SSL_read(ssl, chunk.data(), static_cast<int>(chunk.size()));
      if (n <= 0) {
        const int reason = SSL_get_error(ssl, n);
        open = reason == SSL_ERROR_WANT_READ || reason == SSL_ERROR_WANT_WRITE;
        if (reason == SSL_ERROR_SSL) failure = queued_openssl_error();
      } else {
        to_local.append(chunk.data(), static_cast<std::size_t>(n));
      }
    }
  }
  if (!failure.empty()) log_session_failure(peer, failure);
  ERR_clear_error();  // this thread's error queue, before the thread ends
  SSL_free(ssl);
  close(tls_fd);
  close(local_fd);
}

}  // namespace

struct RedisTls::Context {
  SSL_CTX* ctx = nullptr;
  ~Context() { SSL_CTX_free(ctx); }
};

RedisTls::RedisTls(const RedisTlsConfig& config)
    : context_(std::make_unique<Context>()), server_name_(config.server_name) {
  // No exit handler: tunnels of connections still open at exit must not find
  // OpenSSL torn down under them.
  OPENSSL_init_ssl(OPENSSL_INIT_NO_ATEXIT, nullptr);
  context_->ctx = SSL_CTX_new(TLS_client_method());
  if (context_->ctx == nullptr) throw RedisTlsError("redis.tls: " + openssl_error());
  SSL_CTX* ctx = context_->ctx;
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  // A record without application data (a TLS 1.3 session ticket) must end
  // SSL_read, not make it wait for the next answer: the tunnel would stop
  // carrying hiredis's requests meanwhile.
  SSL_CTX_clear_mode(ctx, SSL_MODE_AUTO_RETRY);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  const auto fail = [](const std::string& key, const std::string& file) {
    throw RedisTlsError(key + ": \"" + file + "\": " + openssl_error());
  };
  if (config.ca_file.empty()) {
    // OpenSSL's default paths live under its own directory, which the
    // scratch image does not have; Debian's bundle is what it does carry.
    const bool bundle = access(kDebianCaBundle, R_OK) == 0;
    if (bundle ? SSL_CTX_load_verify_locations(ctx, kDebianCaBundle, nullptr) != 1
               : SSL_CTX_set_default_verify_paths(ctx) != 1) {
      throw RedisTlsError(std::string("redis.tls: system CAs (") +
                          (bundle ? kDebianCaBundle : "OpenSSL's default paths") + "): " + openssl_error());
    }
  } else if (SSL_CTX_load_verify_locations(ctx, config.ca_file.c_str(), nullptr) != 1) {
    fail("redis.tls.ca_file", config.ca_file);
  }
  if (!config.cert_file.empty()) {
    if (SSL_CTX_use_certificate_chain_file(ctx, config.cert_file.c_str()) != 1) {
      fail("redis.tls.cert_file", config.cert_file);
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, config.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
      fail("redis.tls.key_file", config.key_file);
    }
    if (SSL_CTX_check_private_key(ctx) != 1)
      fail("redis.tls.key_file (does not match redis.tls.cert_file)", config.key_file);
  }
}

RedisTls::~RedisTls() = default;

int RedisTls::tunnel(int tcp_fd, const std::string& host, int64_t timeout_ms, std::string& error) const {
  const std::string& name = server_name_.empty() ? host : server_name_;
  SSL* ssl = SSL_new(context_->ctx);
  const auto give_up = [&](const std::string& why) {
    error = "TLS with " + name + ": " + why;
    ERR_clear_error();
    if (ssl != nullptr) SSL_free(ssl);
    close(tcp_fd);
    return -1;
  };
  if (ssl == nullptr) return give_up(openssl_error());
  X509_VERIFY_PARAM* verify = SSL_get0_param(ssl);
  if (is_ip_literal(name)) {
    if (X509_VERIFY_PARAM_set1_ip_asc(verify, name.c_str()) != 1) return give_up("bad address " + name);
  } else {
    // The name checked in the certificate, also sent as SNI.
    if (SSL_set1_host(ssl, name.c_str()) != 1 || SSL_set_tlsext_host_name(ssl, name.c_str()) != 1) {
      return give_up(openssl_error());
    }
  }
  SSL_set_fd(ssl, tcp_fd);
  set_io_timeout(tcp_fd, timeout_ms);
  if (SSL_connect(ssl) != 1) {
    const long verified = SSL_get_verify_result(ssl);
    return give_up(verified != X509_V_OK
                       ? std::string("certificate verify failed: ") + X509_verify_cert_error_string(verified)
                       : "handshake failed: " + openssl_error());
  }
  set_io_timeout(tcp_fd, int64_t{kRecordTimeoutS} * 1000);
  std::array<int, 2> pair{};
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair.data()) != 0) return give_up(std::strerror(errno));
  fcntl(pair[1], F_SETFL, fcntl(pair[1], F_GETFL) | O_NONBLOCK);
  try {
    std::thread(run_tunnel, ssl, tcp_fd, pair[1], name).detach();
  } catch (const std::system_error& e) {
    close(pair[0]);
    close(pair[1]);
    return give_up(e.what());
  }
  return pair[0];
}

namespace {
std::unique_ptr<const RedisTls>
    g_redis_tls;  // NOLINT(cppcoreguidelines-avoid-non-const-global-variables): set once at start
}  // namespace

void install_redis_tls(const RedisTlsConfig& config) {
  g_redis_tls = config.enabled ? std::make_unique<const RedisTls>(config) : nullptr;
}

const RedisTls* redis_tls() { return g_redis_tls.get(); }

}  // namespace scalecache
