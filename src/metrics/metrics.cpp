#include "metrics/metrics.hpp"

#include <sstream>

#include <prometheus/text_serializer.h>

namespace scalecache {

Metrics::Metrics() : registry_(std::make_shared<prometheus::Registry>()), requests_(kRoutes) {
  using namespace prometheus;
  requests_family_ = &BuildCounter()
                          .Name("scalecache_http_requests_total")
                          .Help("HTTP requests answered, by route and status code")
                          .Register(*registry_);
  for (auto& row : requests_) {
    for (auto& slot : row) slot.store(nullptr, std::memory_order_relaxed);
  }

  auto& durations = BuildHistogram()
                        .Name("scalecache_http_request_duration_seconds")
                        .Help("Time from request parsed to response handed to the socket")
                        .Register(*registry_);
  // Few buckets on purpose: Observe scans them linearly under a lock.
  const Histogram::BucketBoundaries buckets{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
  for (int r = 0; r < kRoutes; ++r) {
    durations_[r] = &durations.Add({{"route", route_name(static_cast<Route>(r))}}, buckets);
  }

  auto& results = BuildCounter()
                      .Name("scalecache_cache_results_total")
                      .Help("Answers to GET /data, by the layer that produced them")
                      .Register(*registry_);
  const char* sources[] = {"l1", "l2", "origin", "stale", "negative"};
  for (int i = 0; i < 5; ++i) cache_results_[i] = &results.Add({{"source", sources[i]}});

  // One family per outcome kind; every label value exists from the start so
  // rate() and the dashboard see 0, not a missing series.
  auto add_all = [this](const char* name, const char* help, const char* label,
                        std::initializer_list<const char*> values, prometheus::Counter** out) {
    auto& family = BuildCounter().Name(name).Help(help).Register(*registry_);
    for (const char* v : values) *out++ = &family.Add({{label, v}});
  };
  add_all("scalecache_stale_served_total", "Answers served past their TTL, by reason", "reason",
          {"revalidate", "error"}, stale_served_.data());
  add_all("scalecache_lease_total", "Fleet-wide fill leases: acquired, waited for another replica, wait timed out",
          "outcome", {"acquired", "waited", "timed_out"}, leases_.data());
  add_all("scalecache_purges_total", "Purges requested on this replica", "kind", {"key", "tag", "soft"},
          purges_.data());
  add_all("scalecache_invalidation_messages_total", "Cache events published to and received from other replicas",
          "direction", {"sent", "received"}, invalidations_.data());
  early_refreshes_ = &BuildCounter()
                          .Name("scalecache_early_refreshes_total")
                          .Help("Refreshes started before expiry by the XFetch rule")
                          .Register(*registry_)
                          .Add({});
  redis_configured_ = &BuildGauge()
                           .Name("scalecache_redis_configured")
                           .Help("1 when redis.url is set (L2 in use); 0 in L1-only mode")
                           .Register(*registry_)
                           .Add({});

  auto& origin = BuildCounter()
                     .Name("scalecache_origin_requests_total")
                     .Help("Calls made to the origin, by outcome")
                     .Register(*registry_);
  const char* outcomes[] = {"ok", "not_found", "error", "timeout"};
  for (int i = 0; i < 4; ++i) origin_results_[i] = &origin.Add({{"result", outcomes[i]}});

  coalesced_ = &BuildCounter()
                    .Name("scalecache_coalesced_requests_total")
                    .Help("Requests that waited for a fetch already in flight instead of starting one")
                    .Register(*registry_)
                    .Add({});
  subscribe_errors_ = &BuildCounter()
                           .Name("scalecache_invalidation_subscribe_errors_total")
                           .Help("Times Redis refused the cache-events subscription (it is retried with backoff)")
                           .Register(*registry_)
                           .Add({});
  l1_entries_ = &BuildGauge().Name("scalecache_l1_entries").Help("Entries held in L1").Register(*registry_).Add({});
  auto& queued = BuildGauge()
                     .Name("scalecache_pool_queued_tasks")
                     .Help("Tasks waiting for a thread of the L2 (Redis) or origin pool; full queues answer 503")
                     .Register(*registry_);
  queued_[0] = &queued.Add({{"pool", "l2"}});
  queued_[1] = &queued.Add({{"pool", "origin"}});
  l1_bytes_ = &BuildGauge()
                   .Name("scalecache_l1_bytes")
                   .Help("Bytes held in L1: keys, values and per-entry overhead")
                   .Register(*registry_)
                   .Add({});
  redis_up_ = &BuildGauge()
                   .Name("scalecache_redis_up")
                   .Help("1 when the last Redis command or health check succeeded (cluster: on every master)")
                   .Register(*registry_)
                   .Add({});
  // Cluster mode only; the families exist (empty) in every mode, so dashboards can rely on them.
  add_all("scalecache_redis_redirects_total",
          "Redis Cluster answers that sent a command elsewhere or again: moved, ask, tryagain, clusterdown", "kind",
          {"moved", "ask", "tryagain", "clusterdown"}, redirects_.data());
  add_all("scalecache_redis_topology_refreshes_total", "Redis Cluster slot-map reads, by result", "result",
          {"ok", "failed"}, topology_refreshes_.data());
  redis_node_up_ = &BuildGauge()
                        .Name("scalecache_redis_node_up")
                        .Help("Redis Cluster: 1 when the node's last command or health check succeeded")
                        .Register(*registry_);
}

void Metrics::set_redis_node_up(const std::string& node, bool up) {
  std::lock_guard lock(node_mutex_);  // Family::Add locks too; nodes change state rarely
  redis_node_up_->Add({{"node", node}}).Set(up ? 1 : 0);
}

void Metrics::remove_redis_node(const std::string& node) {
  std::lock_guard lock(node_mutex_);
  const prometheus::Labels labels{{"node", node}};
  if (redis_node_up_->Has(labels)) redis_node_up_->Remove(&redis_node_up_->Add(labels));
}

prometheus::Counter& Metrics::request_counter(Route route, int code) {
  if (code < 0 || code >= kCodeSlots) code = 0;
  auto& slot = requests_[static_cast<int>(route)][code];
  if (auto* counter = slot.load(std::memory_order_acquire)) return *counter;
  std::lock_guard lock(requests_mutex_);
  if (auto* counter = slot.load(std::memory_order_acquire)) return *counter;
  auto* counter = &requests_family_->Add({{"route", route_name(route)}, {"code", std::to_string(code)}});
  slot.store(counter, std::memory_order_release);
  return *counter;
}

void Metrics::request_done(Route route, int status_code, double seconds) {
  request_counter(route, status_code).Increment();
  durations_[static_cast<int>(route)]->Observe(seconds);
}

void Metrics::lease(LeaseOutcome outcome) {
  switch (outcome) {
    case LeaseOutcome::Acquired: leases_[0]->Increment(); return;
    case LeaseOutcome::HeldElsewhere: leases_[1]->Increment(); return;  // "waited"
    case LeaseOutcome::TimedOut: leases_[2]->Increment(); return;
    case LeaseOutcome::Unavailable:  // no lease to count: redis_up says why
    case LeaseOutcome::Bypass:       // uncacheable answers: nothing to share
      return;
  }
}

void Metrics::set_queued(std::size_t l2, std::size_t origin) {
  queued_[0]->Set(static_cast<double>(l2));
  queued_[1]->Set(static_cast<double>(origin));
}

void Metrics::set_l1(std::size_t entries, std::size_t bytes) {
  l1_entries_->Set(static_cast<double>(entries));
  l1_bytes_->Set(static_cast<double>(bytes));
}

void Metrics::on_scrape(std::function<void(Metrics&)> refresh) {
  std::lock_guard lock(scrape_mutex_);
  scrape_refreshers_.push_back(std::move(refresh));
}

void Metrics::add_collectable(std::shared_ptr<prometheus::Collectable> collectable) {
  std::lock_guard lock(scrape_mutex_);
  collectables_.push_back(std::move(collectable));
}

std::string Metrics::render() {
  std::vector<prometheus::MetricFamily> families;
  {
    std::lock_guard lock(scrape_mutex_);
    for (auto& refresh : scrape_refreshers_) refresh(*this);
    families = registry_->Collect();
    for (auto& collectable : collectables_) {
      auto more = collectable->Collect();
      families.insert(families.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
    }
  }
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  return out.str();
}

}  // namespace scalecache
