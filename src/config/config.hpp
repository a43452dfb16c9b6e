#pragma once
// The service's whole configuration, one struct per YAML section. Default
// member values are the documented defaults (config/scalecache.yaml).

#include <cstdint>
#include <stdexcept>
#include <string>

namespace scalecache {

struct ServerConfig {
  std::string host = "0.0.0.0";
  int64_t port = 8080;
  int64_t threads = 0;  // 0: CPU quota of the cgroup, else core count
  int64_t max_request_bytes = 16384;
  int64_t header_timeout_ms = 10000;
  int64_t keepalive_timeout_seconds = 60;
};

struct CacheConfig {
  int64_t max_key_bytes = 512;
  int64_t ttl_seconds = 300;
  int64_t l1_ttl_seconds = 60;
  int64_t l1_max_entries = 100000;  // 0 turns L1 off
  int64_t l1_max_bytes = int64_t{256} * 1024 * 1024;
  int64_t l1_shards = 16;
  int64_t max_object_bytes = int64_t{1024} * 1024;
  // Entry life past its TTL (docs/cache-semantics.md).
  int64_t stale_while_revalidate = 60;      // seconds served stale while one refresh runs
  int64_t stale_if_error = 300;             // seconds a stale copy may stand in for an origin error
  double early_refresh_beta = 1.0;          // XFetch beta; 0 turns early refresh off
  double ttl_jitter = 0.1;                  // up to this fraction of the TTL is shaved off, per key
  int64_t negative_ttl = 10;                // seconds an origin 404 is remembered
  bool respect_origin_headers = false;      // honour the http origin's Cache-Control
  bool store_private_and_no_store = false;  // override RFC 9111: keep answers marked private or no-store
  std::string tag_header = "Surrogate-Key";
  // Fleet-wide single-flight: the Redis lease held while one replica calls the origin.
  int64_t lease_ttl_ms = 10000;
  int64_t lease_wait_ms = 5000;  // other replicas wait this long for the fill, then call the origin
  int64_t lease_poll_ms = 50;
};

// Sentinel mode: where the sentinels are and which master they watch.
struct RedisSentinelConfig {
  std::string master_name;
  std::string nodes;     // host:port,host:port
  std::string password;  // the sentinels' own requirepass, if any
  std::string password_file;
};

// TLS to every Redis connection (src/redis/redis_tls.hpp), in any mode.
struct RedisTlsConfig {
  bool enabled = false;
  std::string ca_file;      // CAs trusted for the server's certificate (PEM); empty: the system's
  std::string cert_file;    // client certificate (PEM), for servers that ask for one
  std::string key_file;     // its key
  std::string server_name;  // name the certificate must carry (and SNI); empty: the host connected to
};

struct RedisConfig {
  std::string mode = "standalone";  // standalone | sentinel | cluster
  std::string url;                  // standalone; empty (with mode standalone): L1 only
  std::string username;             // ACL user when the URL names none
  std::string password;
  std::string password_file;
  std::string nodes;  // cluster: seed nodes, host:port,host:port
  RedisSentinelConfig sentinel;
  RedisTlsConfig tls;
  int64_t timeout_ms = 50;
  int64_t connect_timeout_ms = 200;
  int64_t pool_size = 4;
  std::string key_prefix = "scalecache:";
  int64_t breaker_failures = 3;
  int64_t backoff_min_ms = 100;
  int64_t backoff_max_ms = 5000;
  // At start, /readyz stays 503 until Redis has answered once, at most this
  // long: a replica that would send every first request to the origin is
  // not ready yet, but one whose Redis is down still serves.
  int64_t ready_wait_ms = 10000;
};

// Whether an L2 is configured at all: a URL, or a cluster or sentinel mode.
inline bool redis_configured(const RedisConfig& redis) { return !redis.url.empty() || redis.mode != "standalone"; }

struct OriginConfig {
  std::string kind = "simulated";  // simulated | http | queue (misses become jobs for the worker tier)
  std::string url;
  int64_t simulated_delay_ms = 2000;
  // sleep: the delay is a wait (an I/O-bound origin); cpu: the delay is CPU
  // time computed on the calling thread, so load shows up as CPU (what a CPU
  // HorizontalPodAutoscaler sees), and a CPU-starved process takes longer.
  std::string simulated_work = "sleep";
  int64_t connect_timeout_ms = 1000;
  int64_t timeout_ms = 5000;
  int64_t concurrency = 64;
  int64_t max_queue = 1024;
  // Largest http origin answer read; beyond it the call fails (502). 0, the
  // default, follows cache.max_object_bytes: load_config resolves it.
  int64_t max_body_bytes = 0;
};

// The job queue between serving replicas (origin.kind: queue) and workers:
// a Redis Stream next to the cache's keys.
struct QueueConfig {
  int64_t max_length = 10000;       // jobs not yet done; beyond: a miss answers 503
  int64_t wait_ms = 5000;           // how long a GET waits for its job's fill
  int64_t retry_after_seconds = 1;  // Retry-After of a 503 (queue full) or a 202 (Prefer: respond-async)
};

// `scalecache worker`: reads jobs, calls the real origin, stores the fills.
struct WorkerConfig {
  int64_t port = 8081;                    // /healthz, /readyz, /metrics
  std::string origin_kind = "simulated";  // simulated | http (origin.* settings apply)
  std::string consumer;                   // this worker's name in the consumer group; empty: host name + pid
  int64_t concurrency = 16;               // jobs computed at once
  int64_t claim_idle_ms = 5000;           // a job held this long without a heartbeat is taken over
  int64_t max_attempts = 3;               // origin calls per job, then the dead-letter stream
  int64_t backoff_ms = 200;               // before the 2nd attempt; doubles each time
  int64_t backoff_max_ms = 5000;
};

struct AdminConfig {
  std::string token;  // empty: purges are refused (403) unless allow_unauthenticated_purge
  std::string token_file;
  bool allow_unauthenticated_purge = false;  // without a token: anyone who reaches the port may purge
};

struct ShutdownConfig {
  int64_t drain_seconds = 5;
  int64_t grace_seconds = 10;
};

struct LogConfig {
  std::string level = "info";
};

struct Config {
  ServerConfig server;
  CacheConfig cache;
  RedisConfig redis;
  OriginConfig origin;
  QueueConfig queue;
  WorkerConfig worker;
  AdminConfig admin;
  ShutdownConfig shutdown;
  LogConfig log;
};

// Thrown for any bad configuration; what() is the one line shown to the user,
// naming the file (or environment variable), key, line:column and expectation.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Loads `path` (empty: defaults only), applies SCALECACHE_* environment
// overrides from `environ`-style `env`, reads secret files and validates.
Config load_config(const std::string& path, char** env);

// Every key with its default and meaning, for --help.
std::string describe_config_keys();

// Reactor threads to run: server.threads, else the cgroup CPU quota rounded
// up, else the number of cores.
int effective_threads(const Config& config);
// The same with the cgroup v2 cpu.max file at cpu_max_path (tests pass a fixture).
int effective_threads(const Config& config, const std::string& cpu_max_path);

}  // namespace scalecache
