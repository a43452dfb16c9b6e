#include "config/config.hpp"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "config/config_schema.hpp"

using scalecache::Config;
using scalecache::ConfigError;
using scalecache::ConfigKey;
using scalecache::load_config;

namespace {

class TempFile {
 public:
  explicit TempFile(const std::string& text) {
    char name[] = "/tmp/scalecache-config-XXXXXX";
    const int fd = mkstemp(name);
    path_ = name;
    std::ofstream(path_) << text;
    close(fd);
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// An environ-style array owning its strings.
class Env {
 public:
  Env(std::initializer_list<std::string> entries) : strings_(entries) {
    for (auto& s : strings_) pointers_.push_back(s.data());
    pointers_.push_back(nullptr);
  }
  char** get() { return pointers_.data(); }

 private:
  std::vector<std::string> strings_;
  std::vector<char*> pointers_;
};

std::string error_of(const std::string& yaml, Env env = {}) {
  TempFile file(yaml);
  try {
    load_config(file.path(), env.get());
  } catch (const ConfigError& e) {
    std::string message = e.what();
    // The file name is random; check it is there and drop it for comparison.
    EXPECT_NE(message.find(file.path()), std::string::npos) << message;
    const auto at = message.find(file.path());
    if (at != std::string::npos) message.replace(at, file.path().size(), "FILE");
    return message;
  }
  return "no error";
}

}  // namespace

TEST(Config, DefaultsWithoutFile) {
  Env env{};
  const Config c = load_config("", env.get());
  EXPECT_EQ(c.server.port, 8080);
  EXPECT_EQ(c.cache.max_key_bytes, 512);
  EXPECT_EQ(c.redis.timeout_ms, 50);
  EXPECT_EQ(c.origin.kind, "simulated");
  EXPECT_EQ(c.origin.simulated_delay_ms, 2000);
  EXPECT_EQ(c.origin.simulated_work, "sleep");
  EXPECT_EQ(c.shutdown.drain_seconds, 5);
  EXPECT_TRUE(c.redis.url.empty());
  EXPECT_TRUE(c.admin.token.empty());
  EXPECT_FALSE(c.admin.allow_unauthenticated_purge) << "purges stay closed unless opened explicitly";
}

TEST(Config, AllowUnauthenticatedPurgeFromFileAndEnvironment) {
  TempFile file("admin:\n  allow_unauthenticated_purge: true\n");
  Env env{};
  EXPECT_TRUE(load_config(file.path(), env.get()).admin.allow_unauthenticated_purge);
  Env off{"SCALECACHE_ADMIN_ALLOW_UNAUTHENTICATED_PURGE=false"};
  EXPECT_FALSE(load_config(file.path(), off.get()).admin.allow_unauthenticated_purge);
  Env bad{"SCALECACHE_ADMIN_ALLOW_UNAUTHENTICATED_PURGE=yes"};
  EXPECT_THROW(load_config("", bad.get()), ConfigError);
}

TEST(Config, ExampleFileIsValidAndEqualsDefaults) {
  // Every key of the key table is written in the example file, with its default value.
  const std::string path = SCALECACHE_SOURCE_DIR "/config/scalecache.yaml";
  const YAML::Node file = YAML::LoadFile(path);
  Env env{};
  Config c = load_config(path, env.get());
  // The defaults as the loader resolves them (origin.max_body_bytes 0 follows cache.max_object_bytes).
  Config d = load_config("", env.get());
  ASSERT_FALSE(scalecache::config_keys().empty());
  for (const auto& key : scalecache::config_keys()) {
    // Nested keys (sentinel.nodes) are written as nested mappings.
    YAML::Node node = file[key.section];
    for (std::size_t from = 0, dot = 0; dot != std::string::npos; from = dot + 1) {
      dot = key.name.find('.', from);
      const YAML::Node& parent = node;  // const: operator[] must not insert what it looks for
      node.reset(parent[key.name.substr(from, dot == std::string::npos ? std::string::npos : dot - from)]);
    }
    EXPECT_TRUE(node.IsDefined()) << key.dotted() << " is missing from " << path;
    switch (key.type) {
      case ConfigKey::Type::Integer: EXPECT_EQ(key.integer(c), key.integer(d)) << key.dotted(); break;
      case ConfigKey::Type::Number: EXPECT_EQ(key.number(c), key.number(d)) << key.dotted(); break;
      case ConfigKey::Type::Boolean: EXPECT_EQ(key.boolean(c), key.boolean(d)) << key.dotted(); break;
      case ConfigKey::Type::String: EXPECT_EQ(key.string(c), key.string(d)) << key.dotted(); break;
    }
  }
}

TEST(Config, FileValuesAndEnvironmentOverrides) {
  TempFile file("server:\n  port: 9000\nredis:\n  url: redis://127.0.0.1:6379\norigin:\n  simulated_delay_ms: 10\n");
  Env env{"SCALECACHE_SERVER_PORT=9100",
          "SCALECACHE_ORIGIN_KIND=http",
          "SCALECACHE_ORIGIN_URL=http://127.0.0.1:1/api",
          "SCALECACHE_PORT=tcp://10.0.0.1:80",
          "SCALECACHE_SERVICE_HOST=10.0.0.1",
          "OTHER=1"};
  const Config c = load_config(file.path(), env.get());
  EXPECT_EQ(c.server.port, 9100) << "the environment wins over the file";
  EXPECT_EQ(c.origin.simulated_delay_ms, 10);
  EXPECT_EQ(c.origin.kind, "http");
  EXPECT_EQ(c.redis.url, "redis://127.0.0.1:6379");
}

TEST(Config, OriginBodyLimitFollowsTheCacheObjectLimitUnlessSet) {
  Env defaults{};
  EXPECT_EQ(load_config("", defaults.get()).origin.max_body_bytes, 1 << 20);
  Env object_limit{"SCALECACHE_CACHE_MAX_OBJECT_BYTES=5000"};
  EXPECT_EQ(load_config("", object_limit.get()).origin.max_body_bytes, 5000) << "0 means: follow";
  Env both{"SCALECACHE_CACHE_MAX_OBJECT_BYTES=5000", "SCALECACHE_ORIGIN_MAX_BODY_BYTES=7000"};
  EXPECT_EQ(load_config("", both.get()).origin.max_body_bytes, 7000);
  Env negative{"SCALECACHE_ORIGIN_MAX_BODY_BYTES=-1"};
  EXPECT_THROW(load_config("", negative.get()), ConfigError);
}

TEST(Config, UnreadableFile) {
  Env env{};
  try {
    load_config("/nonexistent/scalecache.yaml", env.get());
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "config error: /nonexistent/scalecache.yaml: cannot read file: No such file or directory");
  }
}

TEST(Config, SyntaxErrorNamesLineAndColumn) {
  EXPECT_EQ(error_of("server:\n  port: [1, 2\n"),
            "config error: FILE:3:1: YAML syntax error: end of sequence flow not found");
}

TEST(Config, UnknownSectionAndKey) {
  EXPECT_EQ(error_of("sever:\n  port: 1\n"),
            "config error: FILE:1:1: unknown section \"sever\" (expected server, cache, redis, origin, queue, worker, "
            "admin, shutdown or log)");
  const std::string msg = error_of("server:\n  prot: 8080\n");
  EXPECT_EQ(msg.rfind("config error: FILE:2:3: unknown key server.prot (known: host, port,", 0), 0u) << msg;
}

TEST(Config, WrongTypeAndRange) {
  EXPECT_EQ(error_of("server:\n  port: eighty\n"),
            "config error: FILE:2:9: server.port: expected an integer from 1 to 65535, got \"eighty\"");
  EXPECT_EQ(error_of("server:\n  port: 70000\n"),
            "config error: FILE:2:9: server.port: expected an integer from 1 to 65535, got \"70000\"");
  EXPECT_EQ(error_of("server:\n  port: 80.5\n"),
            "config error: FILE:2:9: server.port: expected an integer from 1 to 65535, got \"80.5\"");
  EXPECT_EQ(error_of("server:\n  port: [80]\n"),
            "config error: FILE:2:9: server.port: expected a single value, got a list or mapping");
  EXPECT_EQ(error_of("origin:\n  kind: grpc\n"),
            "config error: FILE:2:9: origin.kind: expected one of simulated, http, queue, got \"grpc\"");
  EXPECT_EQ(error_of("server: 8080\n"), "config error: FILE:1:9: server: expected a mapping");
}

TEST(Config, SimulatedWorkIsSleepOrCpu) {
  TempFile file("origin:\n  simulated_work: cpu\n");
  Env none{};
  EXPECT_EQ(load_config(file.path(), none.get()).origin.simulated_work, "cpu");
  EXPECT_EQ(load_config("", Env{"SCALECACHE_ORIGIN_SIMULATED_WORK=cpu"}.get()).origin.simulated_work, "cpu");
  EXPECT_EQ(error_of("origin:\n  simulated_delay_ms: 5\n  simulated_work: spin\n"),
            "config error: FILE:3:19: origin.simulated_work: expected one of sleep, cpu, got \"spin\"");
  Env bad{"SCALECACHE_ORIGIN_SIMULATED_WORK=busy"};
  try {
    load_config("", bad.get());
    FAIL() << "origin.simulated_work: busy was accepted";
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(),
                 "config error: environment SCALECACHE_ORIGIN_SIMULATED_WORK: origin.simulated_work: expected one of "
                 "sleep, cpu, got \"busy\"");
  }
}

TEST(Config, CrossFieldAndUrlChecks) {
  EXPECT_EQ(error_of("origin:\n  kind: http\n"), "config error: FILE:2:9: origin.kind is http but origin.url is empty");
  EXPECT_EQ(error_of("origin:\n  kind: http\n  url: ftp://x\n"),
            "config error: FILE:3:8: origin.url: expected an http:// or https:// URL, got \"ftp://x\"");
  EXPECT_EQ(error_of("redis:\n  url: localhost:6379\n"),
            "config error: FILE:2:8: redis.url: expected a URL of the form redis://[:password@]host:port[/db]");
  EXPECT_EQ(error_of("cache:\n  l1_shards: 3\n"),
            "config error: FILE:2:14: cache.l1_shards: expected a power of two, got 3");
}

TEST(Config, WorkerTierChecks) {
  EXPECT_EQ(error_of("origin:\n  kind: queue\n"),
            "config error: FILE:2:9: origin.kind is queue but redis.url is empty: the queue lives in Redis");
  EXPECT_EQ(error_of("redis:\n  mode: cluster\n  nodes: a:1\norigin:\n  kind: queue\n"),
            "config error: FILE:5:9: origin.kind is queue but redis.mode is cluster: the worker tier needs redis.mode "
            "standalone");
  EXPECT_EQ(error_of("redis:\n  url: redis://127.0.0.1:1\norigin:\n  kind: queue\nqueue:\n  wait_ms: 20000\n"),
            "config error: FILE:6:12: queue.wait_ms (20000 ms) must not exceed server.header_timeout_ms (10000 ms)");
  EXPECT_EQ(error_of("redis:\n  url: redis://127.0.0.1:1\norigin:\n  kind: queue\nworker:\n  claim_idle_ms: 10000\n"),
            "config error: FILE:6:18: worker.claim_idle_ms (10000 ms) must be below cache.lease_ttl_ms (10000 ms)");
  EXPECT_NO_THROW(load_config("", Env{"SCALECACHE_CACHE_LEASE_TTL_MS=3000"}.get()))
      << "without the worker tier a short lease is fine";
  EXPECT_EQ(error_of("worker:\n  origin_kind: http\n"),
            "config error: FILE:2:16: worker.origin_kind is http but origin.url is empty");
  EXPECT_EQ(error_of("worker:\n  max_attempts: 0\n"),
            "config error: FILE:2:17: worker.max_attempts: expected an integer from 1 to 100, got \"0\"");
  EXPECT_EQ(error_of("worker:\n  backoff_ms: 9000\n"),
            "config error: FILE:2:15: worker.backoff_ms: must not exceed worker.backoff_max_ms (5000)");
}

TEST(Config, RedisModesAndTheirKeys) {
  Env none{};
  const Config standalone = load_config("", none.get());
  EXPECT_EQ(standalone.redis.mode, "standalone");
  EXPECT_FALSE(scalecache::redis_configured(standalone.redis));

  Env cluster{"SCALECACHE_REDIS_MODE=cluster", "SCALECACHE_REDIS_NODES=127.0.0.1:7000, 127.0.0.1:7001",
              "SCALECACHE_REDIS_USERNAME=cache"};
  const Config c = load_config("", cluster.get());
  EXPECT_EQ(c.redis.nodes, "127.0.0.1:7000, 127.0.0.1:7001");
  EXPECT_EQ(c.redis.username, "cache");
  EXPECT_TRUE(scalecache::redis_configured(c.redis));

  TempFile sentinel(
      "redis:\n  mode: sentinel\n  sentinel:\n    master_name: mymaster\n    nodes: 127.0.0.1:26379\n"
      "    password: s3cret\n");
  const Config s = load_config(sentinel.path(), none.get());
  EXPECT_EQ(s.redis.sentinel.master_name, "mymaster");
  EXPECT_EQ(s.redis.sentinel.nodes, "127.0.0.1:26379");
  EXPECT_EQ(s.redis.sentinel.password, "s3cret");
  Env sentinel_env{"SCALECACHE_REDIS_SENTINEL_MASTER_NAME=other"};
  EXPECT_EQ(load_config(sentinel.path(), sentinel_env.get()).redis.sentinel.master_name, "other");
}

TEST(Config, RedisTlsKeysAreCheckedWithTheirLines) {
  EXPECT_EQ(error_of("redis:\n  tls:\n    ca_file: /etc/hostname\n"),
            "config error: FILE:3:14: redis.tls.ca_file is set but redis.tls.enabled is false");
  EXPECT_EQ(error_of("redis:\n  tls:\n    enabled: true\n    cert_file: /etc/hostname\n"),
            "config error: FILE:4:16: redis.tls.cert_file needs the other of redis.tls.cert_file and "
            "redis.tls.key_file");
  EXPECT_EQ(error_of("redis:\n  tls:\n    enabled: true\n    ca_file: /nonexistent/ca.crt\n"),
            "config error: FILE:4:14: redis.tls.ca_file: cannot read \"/nonexistent/ca.crt\": No such file or "
            "directory");
  TempFile ok("redis:\n  tls:\n    enabled: true\n    ca_file: /etc/hostname\n    server_name: redis.internal\n");
  Env none{};
  const Config c = load_config(ok.path(), none.get());
  EXPECT_TRUE(c.redis.tls.enabled);
  EXPECT_EQ(c.redis.tls.server_name, "redis.internal");
  Env env{"SCALECACHE_REDIS_TLS_ENABLED=true", "SCALECACHE_REDIS_TLS_SERVER_NAME=other"};
  EXPECT_EQ(load_config("", env.get()).redis.tls.server_name, "other");
}

TEST(Config, RedisModeCombinationsAreErrors) {
  EXPECT_EQ(error_of("redis:\n  mode: cluster\n"),
            "config error: FILE:2:9: redis.mode is cluster but redis.nodes is empty");
  EXPECT_EQ(error_of("redis:\n  mode: cluster\n  nodes: a:1\n  url: redis://x\n"),
            "config error: FILE:4:8: redis.url is set but redis.mode is cluster");
  EXPECT_EQ(error_of("redis:\n  nodes: a:1\n"),
            "config error: FILE:2:10: redis.nodes is set but redis.mode is standalone");
  EXPECT_EQ(error_of("redis:\n  mode: cluster\n  nodes: a:1,b\n"),
            "config error: FILE:3:10: redis.nodes: expected host:port, got \"b\"");
  EXPECT_EQ(
      error_of("redis:\n  mode: cluster\n  nodes: a:1\n  key_prefix: \"{sc}:\"\n"),
      "config error: FILE:4:15: redis.key_prefix: must not contain { or } in cluster mode (it would put every key "
      "in one slot)");
  EXPECT_EQ(error_of("redis:\n  mode: sentinel\n  sentinel:\n    nodes: a:1\n"),
            "config error: FILE:2:9: redis.mode is sentinel but redis.sentinel.master_name is empty");
  EXPECT_EQ(error_of("redis:\n  sentinel:\n    master_name: m\n"),
            "config error: FILE:3:18: redis.sentinel.master_name is set but redis.mode is standalone");
  EXPECT_EQ(error_of("redis:\n  mode: replicated\n"),
            "config error: FILE:2:9: redis.mode: expected one of standalone, sentinel, cluster, got \"replicated\"");
  EXPECT_EQ(error_of("redis:\n  sentinel:\n    hosts: a:1\n")
                .rfind("config error: FILE:3:5: unknown key redis.sentinel.hosts", 0),
            0u);
  Env env{"SCALECACHE_REDIS_MODE=cluster"};
  EXPECT_THROW(
      {
        try {
          load_config("", env.get());
        } catch (const ConfigError& e) {
          EXPECT_STREQ(
              e.what(),
              "config error: environment SCALECACHE_REDIS_MODE: redis.mode is cluster but redis.nodes is empty");
          throw;
        }
      },
      ConfigError);
}

TEST(Config, EnvironmentErrorsNameTheVariable) {
  Env bad{"SCALECACHE_SERVER_PORT=abc"};
  try {
    load_config("", bad.get());
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(),
                 "config error: environment SCALECACHE_SERVER_PORT: server.port: expected an integer from 1 to 65535, "
                 "got \"abc\"");
  }
  Env typo{"SCALECACHE_REDIS_ULR=redis://x"};
  EXPECT_THROW(load_config("", typo.get()), ConfigError);
}

TEST(Config, SecretsAreNeverEchoed) {
  Env env{};
  const std::string msg = error_of("admin:\n  token: [hunter2]\n");
  EXPECT_EQ(msg.find("hunter2"), std::string::npos);
  TempFile token("s3cret-token\n");
  Env with_file{"SCALECACHE_ADMIN_TOKEN_FILE=" + token.path()};
  EXPECT_EQ(load_config("", with_file.get()).admin.token, "s3cret-token");
  Env missing{"SCALECACHE_REDIS_PASSWORD_FILE=/nonexistent/pw"};
  try {
    load_config("", missing.get());
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("SCALECACHE_REDIS_PASSWORD_FILE"), std::string::npos) << e.what();
  }
}

TEST(Config, ThreadsFollowSettingThenQuota) {
  using scalecache::effective_threads;
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  TempFile two_and_a_half("250000 100000\n");  // cgroup v2 cpu.max: quota, period (µs)
  TempFile half("50000 100000\n");
  TempFile unlimited("max 100000\n");
  Config c;
  c.server.threads = 3;
  EXPECT_EQ(effective_threads(c, two_and_a_half.path()), 3) << "the setting wins over the quota";
  c.server.threads = 0;
  EXPECT_EQ(effective_threads(c, two_and_a_half.path()), 3) << "the quota, rounded up";
  EXPECT_EQ(effective_threads(c, half.path()), 1) << "a fraction of a core is one thread";
  EXPECT_EQ(effective_threads(c, unlimited.path()), cores) << "no quota: the cores";
  EXPECT_EQ(effective_threads(c, "/nonexistent/cpu.max"), cores) << "no cgroup v2: the cores";
}
