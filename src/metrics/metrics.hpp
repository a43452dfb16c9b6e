#pragma once
// Every metric the service exports. Names and labels are a contract with the
// dashboard, the alert rules and the tests (docs/CONTRACT.md). Handles are
// created once; the request path only touches atomics.

#include <array>
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "cache/vocabulary.hpp"
#include "http/route.hpp"
#include "origin/origin.hpp"

namespace scalecache {

class Metrics {
 public:
  Metrics();

  void request_done(Route route, int status_code, double seconds);
  void cache_result(CacheSource source) { cache_results_[static_cast<int>(source)]->Increment(); }
  void origin_result(OriginStatus result) { origin_results_[static_cast<int>(result)]->Increment(); }
  void coalesced() { coalesced_->Increment(); }
  void stale_served(StaleReason reason) { stale_served_[static_cast<int>(reason)]->Increment(); }
  void early_refresh() { early_refreshes_->Increment(); }
  void lease(LeaseOutcome outcome);
  void purge(PurgeKind kind) { purges_[static_cast<int>(kind)]->Increment(); }
  void invalidation_sent() { invalidations_[0]->Increment(); }
  void invalidation_received() { invalidations_[1]->Increment(); }
  void subscribe_error() { subscribe_errors_->Increment(); }
  void set_redis_configured(bool configured) { redis_configured_->Set(configured ? 1 : 0); }
  void set_redis_up(bool up) { redis_up_->Set(up ? 1 : 0); }
  // Redis Cluster: a redirect or retry answer followed, a slot-map read, a node seen up or down.
  enum class RedisRedirect { Moved, Ask, TryAgain, ClusterDown };
  void redis_redirect(RedisRedirect kind) { redirects_[static_cast<std::size_t>(kind)]->Increment(); }
  void topology_refresh(bool ok) { topology_refreshes_[ok ? 0 : 1]->Increment(); }
  void set_redis_node_up(const std::string& node, bool up);
  // A node the cluster no longer has: its series goes, rather than stay at a value nobody updates.
  void remove_redis_node(const std::string& node);
  void set_l1(std::size_t entries, std::size_t bytes);
  // Tasks waiting in the L2 and origin pools' queues (sampled at scrape).
  void set_queued(std::size_t l2, std::size_t origin);

  // Called before every render, to refresh values sampled at scrape time.
  void on_scrape(std::function<void(Metrics&)> refresh);

  // Families produced outside the registry (read from /proc, for instance).
  void add_collectable(std::shared_ptr<prometheus::Collectable> collectable);

  // The Prometheus text exposition format, version 0.0.4.
  std::string render();

  prometheus::Registry& registry() { return *registry_; }

 private:
  static constexpr int kRoutes = 6;
  // Status codes get a counter on first use: a fixed table keeps that lookup
  // lock-free, and codes nobody answered with don't clutter /metrics.
  static constexpr int kCodeSlots = 600;

  prometheus::Counter& request_counter(Route route, int code);

  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* requests_family_;
  std::mutex requests_mutex_;
  std::vector<std::array<std::atomic<prometheus::Counter*>, kCodeSlots>> requests_;
  std::array<prometheus::Histogram*, kRoutes> durations_{};
  std::array<prometheus::Counter*, 5> cache_results_{};
  std::array<prometheus::Counter*, 2> stale_served_{};
  std::array<prometheus::Counter*, 3> leases_{};
  std::array<prometheus::Counter*, 3> purges_{};
  std::array<prometheus::Counter*, 2> invalidations_{};
  prometheus::Counter* early_refreshes_;
  prometheus::Gauge* redis_configured_;
  std::array<prometheus::Counter*, 4> origin_results_{};
  prometheus::Counter* coalesced_;
  prometheus::Counter* subscribe_errors_;
  prometheus::Gauge* l1_entries_;
  prometheus::Gauge* l1_bytes_;
  std::array<prometheus::Gauge*, 2> queued_{};
  prometheus::Gauge* redis_up_;
  std::array<prometheus::Counter*, 4> redirects_{};
  std::array<prometheus::Counter*, 2> topology_refreshes_{};
  prometheus::Family<prometheus::Gauge>* redis_node_up_;
  std::mutex node_mutex_;
  std::mutex scrape_mutex_;
  std::vector<std::function<void(Metrics&)>> scrape_refreshers_;
  std::vector<std::shared_ptr<prometheus::Collectable>> collectables_;
};

}  // namespace scalecache
