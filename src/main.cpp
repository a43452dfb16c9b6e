// scalecache: wires configuration, caches, origin and HTTP server together
// and runs the process lifecycle. The data path itself lives in
// http/ (protocol) → cache/tiered_cache (L1 → L2 → origin).

#include <unistd.h>  // environ
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "cache/l1_cache.hpp"
#include "cache/tiered_cache.hpp"
#include "config/config.hpp"
#include "http/http_server.hpp"
#include "http/request_router.hpp"
#include "lifecycle/fd_limit.hpp"
#include "lifecycle/health_probe.hpp"
#include "lifecycle/lifecycle.hpp"
#include "metrics/metrics.hpp"
#include "metrics/process_metrics.hpp"
#include "origin/origin_factory.hpp"
#include "redis/redis_job_stream.hpp"
#include "redis/redis_shared_tier.hpp"
#include "redis/redis_tls.hpp"
#include "util/event.hpp"
#include "util/log.hpp"
#include "worker/worker_main.hpp"

namespace {

using namespace scalecache;

constexpr int kExitConfig = 2;

struct CommandLine {
  bool worker = false;  // `scalecache worker`: the worker tier's process
  std::string config_path;
  bool check_only = false;
  bool probe = false;
  std::string probe_url;  // empty: default_probe_url()
};

void print_help() {
  std::cout << "usage: scalecache [worker] [--config FILE] [--check-config | --probe [URL]] [--help]\n\n"
               "An HTTP cache in front of a slow origin: GET /data/{key} is answered from\n"
               "memory (L1), Redis (L2) or the origin.\n\n"
               "  worker           run a worker of the worker tier instead: compute the jobs\n"
               "                   that replicas with origin.kind: queue put on the Redis queue\n"
               "                   (worker.* settings; /healthz, /readyz, /metrics on worker.port)\n"
               "  --config FILE    YAML configuration (see config/scalecache.yaml)\n"
               "  --check-config   validate the configuration and exit (0 ok, 2 invalid)\n"
               "  --probe [URL]    ask a running scalecache whether it is ready and exit\n"
               "                   (0 ready, 1 not, 2 bad URL); URL defaults to /readyz on the\n"
               "                   configured port (worker.port after `worker`); for HEALTHCHECKs\n"
               "                   in the shell-less image\n"
               "  --help           this text\n\n"
               "Configuration keys, defaults and environment overrides:\n"
            << describe_config_keys();
}

CommandLine parse_command_line(int argc, char** argv) {
  CommandLine cmd;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "worker" && i == 1) {
      cmd.worker = true;
    } else if (arg == "--help" || arg == "-h") {
      print_help();
      std::exit(0);
    } else if (arg == "--check-config") {
      cmd.check_only = true;
    } else if (arg == "--probe") {
      cmd.probe = true;
      if (i + 1 < argc && !std::string_view(argv[i + 1]).starts_with("-")) cmd.probe_url = argv[++i];
    } else if (arg == "--config" && i + 1 < argc) {
      cmd.config_path = argv[++i];
    } else if (arg.starts_with("--config=")) {
      cmd.config_path = arg.substr(9);
    } else {
      std::cerr << "scalecache: unknown argument \"" << arg << "\" (try --help)\n";
      std::exit(kExitConfig);
    }
  }
  if (cmd.probe && cmd.check_only) {
    std::cerr << "scalecache: --probe and --check-config are alternatives (try --help)\n";
    std::exit(kExitConfig);
  }
  return cmd;
}

// `redis_answered` is set whenever Redis is seen up.
std::unique_ptr<RedisSharedTier> make_shared_tier(const Config& config, Metrics& metrics, Event& redis_answered) {
  if (!redis_configured(config.redis)) {
    log::warn("redis.url is empty: running with L1 only, no cache shared between replicas");
    return nullptr;
  }
  // Redirect::Kind and Metrics::RedisRedirect list the same answers in the same order.
  ClusterStore::Hooks cluster{
      nullptr, [&metrics](const std::string& node, bool up) { metrics.set_redis_node_up(node, up); },
      [&metrics](Redirect::Kind kind) { metrics.redis_redirect(static_cast<Metrics::RedisRedirect>(kind)); },
      [&metrics](bool ok) { metrics.topology_refresh(ok); },
      [&metrics](const std::string& node) { metrics.remove_redis_node(node); }};
  return std::make_unique<RedisSharedTier>(
      RedisSharedTier::Options::from(config),
      RedisSharedTier::Hooks{[&metrics, &redis_answered](bool up) {
                               metrics.set_redis_up(up);
                               if (up) redis_answered.set();
                             },
                             [&metrics] { metrics.subscribe_error(); }, std::move(cluster)});
}

// Waits `seconds` unless another termination signal arrives first.
void drain(const sigset_t& signals, int64_t seconds) {
  if (seconds <= 0) return;
  const timespec timeout{static_cast<time_t>(seconds), 0};
  if (sigtimedwait(&signals, nullptr, &timeout) > 0) {
    log::warn("second termination signal: skipping the rest of the drain");
  }
}

int run(const Config& config) {
  // Before any thread exists, so every thread inherits the blocked mask.
  const sigset_t signals = Lifecycle::block_termination_signals();

  Metrics metrics;
  register_process_metrics(metrics);
  Lifecycle lifecycle;
  const uint64_t fd_limit = raise_open_file_limit();
  FdWatch fd_watch;

  L1Cache l1(L1Cache::Limits::from(config.cache));
  metrics.on_scrape([&l1](Metrics& m) { m.set_l1(l1.entries(), l1.bytes()); });

  Event redis_answered;  // also set when shutdown begins: it ends the start-up wait
  std::unique_ptr<RedisSharedTier> shared_tier = make_shared_tier(config, metrics, redis_answered);
  metrics.set_redis_configured(shared_tier != nullptr);
  std::unique_ptr<Origin> origin = make_origin(config.origin, config.cache.tag_header);
  // origin.kind: queue (config validation made sure redis.url is set).
  std::unique_ptr<RedisJobStream> jobs;
  if (config.origin.kind == "queue" && shared_tier) {
    jobs = std::make_unique<RedisJobStream>(RedisJobStream::Options{RedisStore::Options::from(config.redis),
                                                                    config.redis.key_prefix, config.queue.max_length},
                                            [](bool) {});
  }
  TieredCache cache(TieredCache::Options::from(config), l1, shared_tier.get(), *origin, metrics, jobs.get());
  metrics.on_scrape([&cache](Metrics& m) { m.set_queued(cache.l2_queued(), cache.origin_queued()); });

  Timer timer;
  auto context = std::make_shared<RouterContext>(
      RouterContext{cache, metrics, lifecycle, static_cast<std::size_t>(config.cache.max_key_bytes),
                    PurgeAccess::from(config.admin), timer, config.queue.retry_after_seconds});
  context->purge_access.log_at_start();
  const HttpServer::Options server_options = HttpServer::Options::from(config);
  HttpServer server(server_options, std::make_shared<RequestRouter>(context));
  try {
    server.start();
  } catch (const std::exception& e) {
    log::error("cannot start", {{"error", e.what()}});
    cache.stop();
    timer.stop();
    return 1;
  }
  // Ready only once Redis has answered (or had its chance): a replica that
  // reports Ready before reaching L2 sends its first requests to the origin.
  // Requests are served meanwhile; only the load balancer waits. The wait has
  // its own thread so that a SIGTERM during it is acted on at once.
  std::thread become_ready([&] {
    if (shared_tier && !redis_answered.wait_for(std::chrono::milliseconds(config.redis.ready_wait_ms))) {
      log::warn("ready without redis: it has not answered within redis.ready_wait_ms",
                {{"redis", shared_tier->endpoint()}, {"ready_wait_ms", std::to_string(config.redis.ready_wait_ms)}});
    }
    lifecycle.set_serving();  // no effect once draining
  });
  log::info("serving", {{"address", config.server.host + ":" + std::to_string(config.server.port)},
                        {"threads", std::to_string(server_options.threads)},
                        {"open_file_limit", std::to_string(fd_limit)},
                        {"origin", config.origin.kind},
                        {"l2", shared_tier ? shared_tier->endpoint() : std::string("none")}});

  const int sig = Lifecycle::wait_for_signal(signals);
  lifecycle.begin_drain();
  redis_answered.set();
  become_ready.join();
  log::info("draining", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"},
                         {"drain_seconds", std::to_string(config.shutdown.drain_seconds)}});
  drain(signals, config.shutdown.drain_seconds);

  if (!lifecycle.wait_idle(std::chrono::seconds(config.shutdown.grace_seconds))) {
    log::warn("grace period over with requests in flight", {{"in_flight", std::to_string(lifecycle.in_flight())}});
  }
  // Pool threads may still answer requests: they must finish before the
  // endpoint that owns the connections goes away.
  cache.stop();
  timer.stop();  // a wait it would have ended was answered by cache.stop()
  server.stop();
  log::info("stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const CommandLine cmd = parse_command_line(argc, argv);
  Config config;
  try {
    config = load_config(cmd.config_path, environ);
  } catch (const ConfigError& e) {
    std::cerr << e.what() << "\n";
    return kExitConfig;
  }
  if (cmd.probe) {
    // A worker answers on worker.port: `scalecache worker --probe` asks there.
    ServerConfig probed = config.server;
    if (cmd.worker) probed.port = config.worker.port;
    const std::string url = cmd.probe_url.empty() ? default_probe_url(probed) : cmd.probe_url;
    return run_health_probe(url, std::chrono::seconds(2));
  }
  if (cmd.check_only && cmd.worker) {
    if (const std::string error = worker_config_error(config); !error.empty()) {
      std::cerr << error << "\n";
      return kExitConfig;
    }
  }
  try {
    install_redis_tls(config.redis.tls);  // before any Redis connection; also checked by --check-config
  } catch (const RedisTlsError& e) {
    std::cerr << e.what() << "\n";
    return kExitConfig;
  }
  if (cmd.check_only) {
    std::cout << "configuration ok" << (cmd.config_path.empty() ? "" : ": " + cmd.config_path) << "\n";
    return 0;
  }
  log::set_level(config.log.level);
  try {
    return cmd.worker ? run_worker(config) : run(config);
  } catch (const std::exception& e) {
    log::error("fatal", {{"error", e.what()}});
    return 1;
  }
}
