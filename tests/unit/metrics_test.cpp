#include "metrics/metrics.hpp"

#include <gtest/gtest.h>

#include "metrics/process_metrics.hpp"

using namespace scalecache;

namespace {
bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }
}  // namespace

TEST(Metrics, RendersContractNamesAndLabels) {
  Metrics m;
  register_process_metrics(m);
  m.request_done(Route::Data, 200, 0.0002);
  m.request_done(Route::Data, 200, 0.3);
  m.request_done(Route::Purge, 401, 0.001);
  m.cache_result(CacheSource::L1);
  m.cache_result(CacheSource::L2);
  m.origin_result(OriginStatus::Timeout);
  m.coalesced();
  m.set_redis_up(true);
  m.on_scrape([](Metrics& self) { self.set_l1(3, 300); });
  const std::string text = m.render();

  EXPECT_TRUE(contains(text, "scalecache_http_requests_total{code=\"200\",route=\"data\"} 2")) << text;
  EXPECT_TRUE(contains(text, "scalecache_http_requests_total{code=\"401\",route=\"purge\"} 1"));
  EXPECT_TRUE(contains(text, "scalecache_http_request_duration_seconds_bucket{route=\"data\",le=\"0.0005\"} 1"));
  EXPECT_TRUE(contains(text, "scalecache_http_request_duration_seconds_count{route=\"data\"} 2"));
  EXPECT_TRUE(contains(text, "scalecache_cache_results_total{source=\"l1\"} 1"));
  EXPECT_TRUE(contains(text, "scalecache_cache_results_total{source=\"origin\"} 0"));
  EXPECT_TRUE(contains(text, "scalecache_origin_requests_total{result=\"timeout\"} 1"));
  EXPECT_TRUE(contains(text, "scalecache_coalesced_requests_total 1"));
  EXPECT_TRUE(contains(text, "scalecache_redis_up 1"));
  EXPECT_TRUE(contains(text, "scalecache_l1_entries 3"));
  EXPECT_TRUE(contains(text, "scalecache_l1_bytes 300"));
  EXPECT_TRUE(contains(text, "# TYPE process_cpu_seconds_total counter"));
  EXPECT_TRUE(contains(text, "process_resident_memory_bytes "));
  EXPECT_TRUE(contains(text, "process_open_fds "));
  EXPECT_TRUE(contains(text, "process_start_time_seconds "));
  EXPECT_FALSE(contains(text, "code=\"404\"")) << "codes never answered are not exported";
}

TEST(Metrics, ARedisNodeRemovedLeavesNoSeries) {
  Metrics m;
  m.set_redis_node_up("10.0.0.1:7000", true);
  m.set_redis_node_up("10.0.0.2:7000", false);
  m.remove_redis_node("10.0.0.2:7000");
  m.remove_redis_node("10.0.0.3:7000");  // never seen: nothing to do
  const std::string text = m.render();
  EXPECT_TRUE(contains(text, "scalecache_redis_node_up{node=\"10.0.0.1:7000\"} 1")) << text;
  EXPECT_FALSE(contains(text, "10.0.0.2:7000")) << text;
  EXPECT_FALSE(contains(text, "10.0.0.3:7000")) << text;
  m.set_redis_node_up("10.0.0.2:7000", true);  // back in the cluster later: exported again
  EXPECT_TRUE(contains(m.render(), "scalecache_redis_node_up{node=\"10.0.0.2:7000\"} 1"));
}
