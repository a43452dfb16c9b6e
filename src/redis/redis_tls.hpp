#pragma once
// TLS to Redis, in-process, for every mode (standalone, sentinel, cluster).
//
// Debian 12's hiredis 0.14 reads and writes its socket itself and has no TLS.
// So each connection is tunnelled: scalecache opens the TCP connection, does
// the TLS handshake with OpenSSL (server certificate and name verified), and
// hands hiredis one end of a local socket pair; a thread per connection
// carries the bytes between that pair and the TLS session, as a sidecar would,
// but for whatever address the cluster or the sentinels name. hiredis keeps
// its own timeouts on its end; the tunnel ends when either side closes.

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

#include "config/config.hpp"

namespace scalecache {

// A TLS setting that cannot be used (unreadable CA, certificate or key, a key
// that does not match the certificate); the message names the key and file.
class RedisTlsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class RedisTls {
 public:
  // Loads the CA (the system's when ca_file is empty), the client certificate
  // and key when given; throws RedisTlsError.
  explicit RedisTls(const RedisTlsConfig& config);
  ~RedisTls();
  RedisTls(const RedisTls&) = delete;
  RedisTls& operator=(const RedisTls&) = delete;

  // Takes over `tcp_fd` (a connected socket to `host`, closed whatever
  // happens), completes the handshake within `timeout_ms` and verifies the
  // server as redis.tls.server_name, or `host` when that is empty. Returns
  // the fd hiredis should use, or -1 with `error` saying why.
  int tunnel(int tcp_fd, const std::string& host, int64_t timeout_ms, std::string& error) const;

 private:
  struct Context;
  std::unique_ptr<Context> context_;
  std::string server_name_;
};

// The process's TLS setting for Redis: installed once at start, before any
// connection, from redis.tls (nothing when it is disabled). connect_redis()
// tunnels every connection through it when set.
void install_redis_tls(const RedisTlsConfig& config);  // throws RedisTlsError
const RedisTls* redis_tls();

}  // namespace scalecache
