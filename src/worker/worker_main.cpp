#include "worker/worker_main.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "cache/entry_policy.hpp"
#include "cache/l1_cache.hpp"
#include "cache/origin_fill.hpp"
#include "http/http_server.hpp"
#include "http/ops_routes.hpp"
#include "lifecycle/lifecycle.hpp"
#include "metrics/metrics.hpp"
#include "metrics/process_metrics.hpp"
#include "origin/origin_factory.hpp"
#include "redis/redis_job_stream.hpp"
#include "redis/redis_shared_tier.hpp"
#include "util/log.hpp"
#include "util/random_token.hpp"
#include "worker/job_runner.hpp"
#include "worker/worker.hpp"
#include "worker/worker_metrics.hpp"

namespace scalecache {
namespace {

// Unique per process, readable in XINFO CONSUMERS: the pod's host name and pid.
std::string consumer_name(const Config& config) {
  if (!config.worker.consumer.empty()) return config.worker.consumer;
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  return std::string(host) + "-" + std::to_string(getpid()) + "-" + random_token().substr(0, 6);
}

// The queue's state for /metrics, read at scrape time.
void sample_queue(RedisJobStream& stream, WorkerMetrics& metrics) {
  const RedisJobStream::Stats stats = stream.stats();
  if (!stats.ok) return;
  const double age = stats.oldest_enqueued_ms > 0
                         ? std::max<double>(0, static_cast<double>(wall_clock_ms() - stats.oldest_enqueued_ms) / 1000.0)
                         : 0;
  metrics.set_queue(stats.pending, std::max<int64_t>(0, stats.length - stats.pending), age);
}

HttpServer::Options ops_server_options(const Config& config) {
  HttpServer::Options options = HttpServer::Options::from(config);
  options.port = static_cast<uint16_t>(config.worker.port);
  options.threads = 1;  // probes and scrapes only
  return options;
}

}  // namespace

std::string worker_config_error(const Config& config) {
  if (config.redis.mode != "standalone") {
    return "config error: scalecache worker needs redis.mode standalone (got " + config.redis.mode +
           "): the job stream is not routed over a cluster or a sentinel yet";
  }
  if (config.redis.url.empty()) return "config error: scalecache worker needs redis.url: the job queue lives in Redis";
  if (config.worker.claim_idle_ms >= config.cache.lease_ttl_ms) {
    return "config error: worker.claim_idle_ms (" + std::to_string(config.worker.claim_idle_ms) +
           " ms) must be below cache.lease_ttl_ms (" + std::to_string(config.cache.lease_ttl_ms) +
           " ms): a dead worker's jobs would lose their lease before they are claimed";
  }
  return {};
}

int run_worker(const Config& config) {
  if (const std::string error = worker_config_error(config); !error.empty()) {
    std::cerr << error << "\n";
    return 2;
  }
  const sigset_t signals = Lifecycle::block_termination_signals();

  Metrics metrics;
  register_process_metrics(metrics);
  WorkerMetrics worker_metrics(metrics);
  Lifecycle lifecycle;

  RedisSharedTier tier(
      RedisSharedTier::Options::from(config),
      {[&metrics](bool up) { metrics.set_redis_up(up); }, [&metrics] { metrics.subscribe_error(); }, {}});
  metrics.set_redis_configured(true);
  RedisJobStream stream({RedisStore::Options::from(config.redis), config.redis.key_prefix, config.queue.max_length},
                        [](bool) {});
  metrics.on_scrape([&stream, &worker_metrics](Metrics&) { sample_queue(stream, worker_metrics); });

  OriginConfig origin_config = config.origin;
  origin_config.kind = config.worker.origin_kind;
  std::unique_ptr<Origin> origin = make_origin(origin_config, config.cache.tag_header);
  // The fill path wants an L1; a worker serves no reads, so it keeps none.
  CacheConfig no_l1 = config.cache;
  no_l1.l1_max_entries = 0;
  L1Cache l1(L1Cache::Limits::from(no_l1));
  const EntryPolicy policy = EntryPolicy::from(config.cache);
  const TimeSource time;
  OriginFill fill(policy, l1, &tier, *origin, metrics, time);

  std::unique_ptr<Worker> worker;
  JobRunner runner({config.worker.max_attempts, config.worker.backoff_ms, config.worker.backoff_max_ms,
                    config.cache.lease_ttl_ms, config.origin.timeout_ms},
                   tier, fill, stream, worker_metrics, time,
                   [&worker](std::chrono::milliseconds delay) { return worker->pause(delay); });
  const std::string consumer = consumer_name(config);
  worker = std::make_unique<Worker>(
      Worker::Options{consumer, static_cast<std::size_t>(config.worker.concurrency), config.worker.claim_idle_ms,
                      config.cache.lease_ttl_ms},
      stream, tier, worker_metrics,
      [&runner](const RedisJobStream::Delivery& d) { return runner.run(d.id, d.fields, d.job); },
      [&lifecycle] { lifecycle.set_serving(); });

  HttpServer server(ops_server_options(config), std::make_shared<OpsRouter>(lifecycle, metrics));
  try {
    server.start();
  } catch (const std::exception& e) {
    log::error("cannot start", {{"error", e.what()}});
    return 1;
  }
  worker->start();
  log::info("worker started", {{"consumer", consumer},
                               {"address", config.server.host + ":" + std::to_string(config.worker.port)},
                               {"origin", config.worker.origin_kind},
                               {"concurrency", std::to_string(config.worker.concurrency)},
                               {"redis", tier.endpoint()}});

  const int sig = Lifecycle::wait_for_signal(signals);
  lifecycle.begin_drain();
  log::info("worker stopping", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"},
                                {"grace_seconds", std::to_string(config.shutdown.grace_seconds)}});
  const std::size_t handed_back = worker->stop(std::chrono::seconds(config.shutdown.grace_seconds));
  server.stop();
  if (handed_back > 0) {
    // Their origin calls still run on pool threads that cannot be
    // interrupted; other workers claim the jobs at once. Leave now rather
    // than wait for calls whose results nobody will take.
    log::info("stopped; jobs handed back to other workers", {{"jobs", std::to_string(handed_back)}});
    std::fflush(nullptr);
    std::_Exit(0);
  }
  log::info("stopped");
  return 0;
}

}  // namespace scalecache
