#include "config/config_schema.hpp"

#include <cctype>

namespace scalecache {

std::string ConfigKey::env_name() const {
  std::string out = "SCALECACHE_";
  // Nested keys (redis.sentinel.nodes) read SCALECACHE_REDIS_SENTINEL_NODES.
  for (char ch : section + "_" + name) out.push_back(ch == '.' ? '_' : static_cast<char>(std::toupper(ch)));
  return out;
}

namespace {

constexpr int64_t kMaxInt = INT64_C(1) << 50;

// One line per key: the field it fills is named once, in the macro arguments.
// (clang-format cannot lay out a braced initializer holding # in a macro.)
// clang-format off
#define SC_INT(sec, key, lo, hi, help)                                               \
  ConfigKey{#sec, #key, ConfigKey::Type::Integer, static_cast<double>(lo), static_cast<double>(hi), \
            {}, false, help, [](Config& c) -> int64_t& { return c.sec.key; }, nullptr, nullptr, nullptr}
#define SC_NUM(sec, key, lo, hi, help)                                                 \
  ConfigKey{#sec, #key, ConfigKey::Type::Number, lo, hi, {}, false, help, nullptr,      \
            [](Config& c) -> double& { return c.sec.key; }, nullptr, nullptr}
#define SC_BOOL(sec, key, help)                                                         \
  ConfigKey{#sec, #key, ConfigKey::Type::Boolean, 0, 0, {}, false, help, nullptr, nullptr, \
            [](Config& c) -> bool& { return c.sec.key; }, nullptr}
#define SC_STR(sec, key, choices, secret, help)                                          \
  ConfigKey{#sec, #key, ConfigKey::Type::String, 0, 0, choices, secret, help, nullptr, nullptr, \
            nullptr, [](Config& c) -> std::string& { return c.sec.key; }}
// clang-format on

std::vector<ConfigKey> build_keys() {
  using Choices = std::vector<std::string>;
  return {
      SC_STR(server, host, Choices{}, false, "address to listen on"),
      SC_INT(server, port, 1, 65535, "TCP port for every route"),
      SC_INT(server, threads, 0, 256, "reactor threads; 0 = CPU quota of the cgroup, else cores"),
      SC_INT(server, max_request_bytes, 1024, 1 << 20, "largest request accepted (line + headers + body)"),
      SC_INT(server, header_timeout_ms, 100, 600000, "time a client has to send its headers"),
      SC_INT(server, keepalive_timeout_seconds, 1, 3600, "idle keep-alive connections are closed after this"),

      SC_INT(cache, max_key_bytes, 1, 8192, "longest key after percent-decoding; longer answers 414"),
      SC_INT(cache, ttl_seconds, 1, 31536000, "freshness of an entry in Redis (L2)"),
      SC_INT(cache, l1_ttl_seconds, 1, 31536000, "freshness of an entry in L1 (capped at ttl_seconds)"),
      SC_INT(cache, l1_max_entries, 0, kMaxInt, "L1 entry bound; 0 turns L1 off"),
      SC_INT(cache, l1_max_bytes, 0, kMaxInt, "L1 byte bound (keys + values + overhead)"),
      SC_INT(cache, l1_shards, 1, 1024, "independently locked L1 shards (power of two)"),
      SC_INT(cache, max_object_bytes, 1, 1 << 30,
             "largest origin answer cached; also the http origin's read limit unless origin.max_body_bytes is set"),
      SC_INT(cache, stale_while_revalidate, 0, 31536000,
             "seconds past the TTL an entry is served stale while one refresh runs"),
      SC_INT(cache, stale_if_error, 0, 31536000, "seconds past the TTL a stale entry stands in for an origin error"),
      SC_NUM(cache, early_refresh_beta, 0.0, 100.0, "XFetch beta: >1 refreshes earlier, 0 turns early refresh off"),
      SC_NUM(cache, ttl_jitter, 0.0, 0.5, "fraction of the TTL shaved off per key, so a burst does not expire at once"),
      SC_INT(cache, negative_ttl, 0, 86400, "seconds an origin 404 is cached; 0 turns negative caching off"),
      SC_BOOL(cache, respect_origin_headers, "honour the http origin's Cache-Control (max-age, no-cache, stale-*)"),
      SC_BOOL(cache, store_private_and_no_store,
              "store answers the origin marks private or no-store (RFC 9111 forbids it to a shared cache)"),
      SC_STR(cache, tag_header, Choices{}, false,
             "http origin header listing an answer's tags, for DELETE /tags/{tag}"),
      SC_INT(cache, lease_ttl_ms, 100, 600000, "Redis lease held by the replica calling the origin for a key"),
      SC_INT(cache, lease_wait_ms, 0, 600000, "how long other replicas wait for that fill before calling the origin"),
      SC_INT(cache, lease_poll_ms, 5, 10000, "how often waiting replicas look for the fill between notices"),

      SC_STR(redis, mode, (Choices{"standalone", "sentinel", "cluster"}), false,
             "standalone (redis.url), sentinel (redis.sentinel.*) or cluster (redis.nodes)"),
      SC_STR(redis, url, Choices{}, false, "standalone: redis://[[user]:password@]host:port[/db]; empty = L1 only"),
      SC_STR(redis, username, Choices{}, false, "ACL user for AUTH when the URL names none"),
      SC_STR(redis, password, Choices{}, true, "AUTH password when the URL has none"),
      SC_STR(redis, password_file, Choices{}, false, "file holding the AUTH password"),
      SC_STR(redis, nodes, Choices{}, false, "cluster: seed nodes, host:port,host:port"),
      SC_STR(redis, sentinel.master_name, Choices{}, false, "sentinel: the master name the sentinels watch"),
      SC_STR(redis, sentinel.nodes, Choices{}, false, "sentinel: the sentinels, host:port,host:port"),
      SC_STR(redis, sentinel.password, Choices{}, true, "sentinel: AUTH password of the sentinels themselves"),
      SC_STR(redis, sentinel.password_file, Choices{}, false, "file holding the sentinels' password"),
      SC_BOOL(redis, tls.enabled, "TLS on every Redis connection (servers, sentinels, cluster nodes)"),
      SC_STR(redis, tls.ca_file, Choices{}, false, "CAs trusted for Redis's certificate (PEM); empty: the system's"),
      SC_STR(redis, tls.cert_file, Choices{}, false, "client certificate (PEM) for Redis, with redis.tls.key_file"),
      SC_STR(redis, tls.key_file, Choices{}, false, "key of redis.tls.cert_file (PEM)"),
      SC_STR(redis, tls.server_name, Choices{}, false,
             "name Redis's certificate must carry (also sent as SNI); empty: the host connected to"),
      SC_INT(redis, timeout_ms, 1, 60000, "bound on every Redis command"),
      SC_INT(redis, connect_timeout_ms, 1, 60000, "bound on connecting to Redis"),
      SC_INT(redis, pool_size, 1, 256, "Redis connections and L2 reader threads"),
      SC_STR(redis, key_prefix, Choices{}, false, "prefix of every Redis key written"),
      SC_INT(redis, breaker_failures, 1, 1000, "consecutive failures that open the breaker"),
      SC_INT(redis, backoff_min_ms, 1, 600000, "first reconnect delay after the breaker opens"),
      SC_INT(redis, backoff_max_ms, 1, 600000, "longest reconnect delay"),
      SC_INT(redis, ready_wait_ms, 0, 600000,
             "at start, /readyz waits this long at most for Redis to answer; 0: not at all"),

      SC_STR(origin, kind, (Choices{"simulated", "http", "queue"}), false,
             "simulated, http, or queue: misses become jobs for `scalecache worker`"),
      SC_STR(origin, url, Choices{}, false, "base URL of the http origin: GET {url}/{key}"),
      SC_INT(origin, simulated_delay_ms, 0, 600000, "delay of the simulated origin"),
      SC_STR(origin, simulated_work, (Choices{"sleep", "cpu"}), false,
             "how the simulated origin spends its delay: sleep (no CPU) or cpu (that much CPU time per call)"),
      SC_INT(origin, connect_timeout_ms, 1, 600000, "connect bound for the http origin"),
      SC_INT(origin, timeout_ms, 1, 600000, "total bound on one origin call"),
      SC_INT(origin, concurrency, 1, 4096, "origin calls running at once"),
      SC_INT(origin, max_queue, 0, 1000000, "misses allowed to wait for an origin slot; beyond: 503"),
      SC_INT(origin, max_body_bytes, 0, 1 << 30,
             "largest http origin answer read (Content-Length checked first); larger: 502; 0 = cache.max_object_bytes"),

      SC_INT(queue, max_length, 1, 100000000, "jobs queued or running at most; beyond: a miss answers 503"),
      SC_INT(queue, wait_ms, 0, 600000, "how long a GET waits for its job's answer (Prefer: wait=N shortens it)"),
      SC_INT(queue, retry_after_seconds, 1, 3600, "Retry-After of a 503 (queue full) and of a 202 (respond-async)"),

      SC_INT(worker, port, 1, 65535, "the worker's TCP port for /healthz, /readyz and /metrics"),
      SC_STR(worker, origin_kind, (Choices{"simulated", "http"}), false,
             "the origin workers call: simulated or http (origin.* settings apply)"),
      SC_STR(worker, consumer, Choices{}, false, "name in the consumer group; empty: host name and process id"),
      SC_INT(worker, concurrency, 1, 4096, "jobs one worker computes at once"),
      SC_INT(worker, claim_idle_ms, 100, 600000, "a job whose worker sent no heartbeat this long is taken over"),
      SC_INT(worker, max_attempts, 1, 100, "origin calls per job before it goes to the dead-letter stream"),
      SC_INT(worker, backoff_ms, 0, 600000, "wait before a job's second attempt; doubles for each further one"),
      SC_INT(worker, backoff_max_ms, 0, 600000, "longest wait between attempts"),

      SC_STR(admin, token, Choices{}, true, "bearer token required by purges (DELETE); empty: purges answer 403"),
      SC_STR(admin, token_file, Choices{}, false, "file holding the admin token"),
      SC_BOOL(admin, allow_unauthenticated_purge, "with no admin.token, anyone may purge (warned at start)"),

      SC_INT(shutdown, drain_seconds, 0, 3600, "after SIGTERM: keep serving with /readyz 503 this long"),
      SC_INT(shutdown, grace_seconds, 0, 3600, "then wait this long for in-flight requests"),

      SC_STR(log, level, (Choices{"error", "warn", "info", "debug"}), false, "log verbosity"),
  };
}

#undef SC_INT
#undef SC_NUM
#undef SC_BOOL
#undef SC_STR

}  // namespace

const std::vector<ConfigKey>& config_keys() {
  static const std::vector<ConfigKey> keys = build_keys();
  return keys;
}

}  // namespace scalecache
