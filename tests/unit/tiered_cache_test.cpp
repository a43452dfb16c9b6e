// TieredCache's orchestration against an in-memory shared tier and a fake
// origin, with the test's own clock: hits, misses, single-flight in one
// replica and across replicas, lease takeover and timeout, stale-while-
// revalidate, stale-if-error, early refresh, negative caching, purges and
// other replicas' events. Waits are on conditions (the origin's gate, the
// fake's counters), never on time.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cache/tiered_cache.hpp"
#include "config/config.hpp"
#include "eventually.hpp"
#include "fakes/fake_origin.hpp"
#include "fakes/fake_shared_tier.hpp"
#include "metrics/metrics.hpp"

namespace scalecache {
namespace {

using testing::eventually;
using testing::FakeOrigin;
using testing::FakeSharedStore;
using testing::FakeSharedTier;

constexpr int64_t kStart = 1'700'000'000'000;

struct Clock {
  std::atomic<int64_t> now{kStart};
  std::atomic<double> draw{1.0};  // uniform draw in (0,1]: 1 never refreshes early
  TimeSource source() {
    return {[this] { return now.load(); }, [this] { return draw.load(); }};
  }
};

Config test_config() {
  Config config;
  config.cache.ttl_seconds = 60;
  config.cache.ttl_jitter = 0;
  config.cache.stale_while_revalidate = 30;
  config.cache.stale_if_error = 300;
  config.cache.lease_wait_ms = 5000;
  config.cache.lease_poll_ms = 2;  // how often a waiter looks again (real time)
  config.redis.pool_size = 2;
  config.origin.concurrency = 4;
  return config;
}

double metric(Metrics& metrics, const std::string& series) {
  std::istringstream text(metrics.render());
  std::string line;
  while (std::getline(text, line)) {
    if (line.starts_with(series + " ")) return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}

// One scalecache process: its own L1, metrics and shared-tier handle.
struct Replica {
  Replica(FakeSharedStore* store, FakeOrigin& origin, Clock& clock, const Config& config = test_config())
      : origin(origin),
        l1(L1Cache::Limits::from(config.cache)),
        tier(store != nullptr ? std::make_unique<FakeSharedTier>(*store) : nullptr),
        cache(options(config, clock), l1, tier.get(), origin, metrics) {}

  // A test that failed while the origin was held must not hang here: the
  // cache's pools finish their tasks when it stops.
  ~Replica() { origin.open(); }

  static TieredCache::Options options(const Config& config, Clock& clock) {
    TieredCache::Options o = TieredCache::Options::from(config);
    o.time = clock.source();
    return o;
  }

  std::future<Answer> fetch(const std::string& key) {
    auto promise = std::make_shared<std::promise<Answer>>();
    cache.fetch(key, [promise](const Answer& a) { promise->set_value(a); });
    return promise->get_future();
  }

  // A purge through Invalidation, waited for: whether the shared tier confirmed it.
  bool purge(const std::string& key, bool soft = false) {
    std::promise<bool> done;
    cache.invalidation().purge(key, soft, [&](bool ok) { done.set_value(ok); });
    return done.get_future().get();
  }

  // A tag purge, waited for: the keys it purged, or nullopt when it did not complete.
  std::optional<std::size_t> purge_tag(const std::string& tag) {
    std::promise<std::optional<std::size_t>> done;
    cache.invalidation().purge_tag(
        tag, false, [&](bool ok, std::size_t n) { done.set_value(ok ? std::optional<std::size_t>(n) : std::nullopt); });
    return done.get_future().get();
  }

  // What L1 alone answers now: nullopt when the request would go through fetch().
  std::optional<std::pair<std::string, std::optional<StaleReason>>> from_l1(const std::string& key) {
    std::optional<std::pair<std::string, std::optional<StaleReason>>> out;
    cache.answer_from_l1(
        key, [&](const L1EntryView& v, std::optional<StaleReason> why) { out.emplace(std::string(v.data), why); });
    return out;
  }

  FakeOrigin& origin;
  Metrics metrics;
  L1Cache l1;
  std::unique_ptr<FakeSharedTier> tier;
  TieredCache cache;
};

class TieredCacheTest : public ::testing::Test {
 protected:
  // r's miss of "k" finds the lease held by `holder` and waits: its first look
  // at the shared tier has been made.
  std::future<Answer> fetch_behind_lease(Replica& r, const std::string& holder) {
    store.hold_lease("k", holder);
    auto answer = r.fetch("k");
    EXPECT_TRUE(eventually([&] { return store.wait_looks.load() >= 1; }));
    return answer;
  }

  Clock clock;
  FakeSharedStore store{[this] { return clock.now.load(); }};
  FakeOrigin origin;
};

TEST_F(TieredCacheTest, MissGoesToTheOriginThenL1AndTheSharedTierAnswer) {
  Replica a(&store, origin, clock);
  Answer first = a.fetch("k").get();
  ASSERT_EQ(first.kind, Answer::Kind::Data);
  EXPECT_EQ(first.source, CacheSource::Origin);
  EXPECT_TRUE(first.stored);
  EXPECT_EQ(first.entry->data, "value-of-k#1");
  ASSERT_TRUE(store.entry("k"));
  EXPECT_FALSE(store.lease_held("k"));  // released by the fill

  auto hit = a.from_l1("k");
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->first, "value-of-k#1");

  Replica b(&store, origin, clock);
  Answer from_l2 = b.fetch("k").get();
  EXPECT_EQ(from_l2.source, CacheSource::L2);
  EXPECT_EQ(from_l2.entry->data, "value-of-k#1");
  EXPECT_EQ(origin.calls("k"), 1);
}

TEST_F(TieredCacheTest, ConcurrentMissesInOneReplicaShareOneOriginCall) {
  Replica a(&store, origin, clock);
  origin.hold();
  std::vector<std::future<Answer>> answers;
  answers.push_back(a.fetch("k"));
  origin.wait_for_held_calls(1);  // the leader is at the origin
  for (int i = 0; i < 9; ++i) answers.push_back(a.fetch("k"));
  EXPECT_EQ(metric(a.metrics, "scalecache_coalesced_requests_total"), 9);
  origin.open();
  int collapsed = 0;
  for (auto& f : answers) {
    Answer answer = f.get();
    EXPECT_EQ(answer.entry->data, "value-of-k#1");
    collapsed += answer.collapsed ? 1 : 0;
  }
  EXPECT_EQ(collapsed, 9);
  EXPECT_EQ(origin.calls("k"), 1);
}

TEST_F(TieredCacheTest, AnotherReplicaWaitsForTheLeaseHoldersFill) {
  Replica a(&store, origin, clock);
  Replica b(&store, origin, clock);
  origin.hold();
  auto from_a = a.fetch("k");
  origin.wait_for_held_calls(1);  // a holds the lease and is at the origin
  auto from_b = b.fetch("k");
  ASSERT_TRUE(eventually([&] { return store.leases_refused.load() >= 1; }));  // b found the lease taken
  origin.open();
  EXPECT_EQ(from_a.get().source, CacheSource::Origin);
  Answer waited = from_b.get();
  EXPECT_EQ(waited.source, CacheSource::L2);
  EXPECT_TRUE(waited.collapsed);
  EXPECT_EQ(waited.entry->data, "value-of-k#1");
  EXPECT_EQ(origin.calls("k"), 1);
  EXPECT_EQ(metric(b.metrics, "scalecache_lease_total{outcome=\"waited\"}"), 1);
}

TEST_F(TieredCacheTest, WaiterTakesOverWhenTheLeaseHolderDies) {
  Replica b(&store, origin, clock);
  auto answer = fetch_behind_lease(b, "dead-replica");
  EXPECT_EQ(origin.total_calls(), 0);  // nobody calls the origin while the lease stands
  store.expire_lease("k");             // its TTL ran out
  Answer got = answer.get();
  EXPECT_EQ(got.source, CacheSource::Origin);
  EXPECT_EQ(origin.calls("k"), 1);
  EXPECT_EQ(metric(b.metrics, "scalecache_lease_total{outcome=\"acquired\"}"), 1);
}

TEST_F(TieredCacheTest, WaiterCallsTheOriginItselfAtTheWaitDeadline) {
  Replica b(&store, origin, clock);
  auto answer = fetch_behind_lease(b, "stuck-replica");
  // The wait's deadline was set before that first look: this reaches it, and
  // leaves the miss's own deadline (lease wait + origin timeout) time for the origin.
  clock.now += test_config().cache.lease_wait_ms;
  Answer got = answer.get();
  EXPECT_EQ(got.source, CacheSource::Origin);
  EXPECT_EQ(metric(b.metrics, "scalecache_lease_total{outcome=\"timed_out\"}"), 1);
}

TEST_F(TieredCacheTest, WaiterSurvivesAFailingPass) {
  Replica a(&store, origin, clock);
  Replica b(&store, origin, clock);
  store.wait_state_failures = 3;  // bad_alloc in the waiter's first passes
  origin.hold();
  auto from_a = a.fetch("k");
  origin.wait_for_held_calls(1);
  auto from_b = b.fetch("k");
  ASSERT_TRUE(eventually([&] { return store.wait_state_failures.load() == 0; }));
  origin.open();
  from_a.get();
  Answer waited = from_b.get();
  EXPECT_EQ(waited.source, CacheSource::L2);
  EXPECT_EQ(origin.calls("k"), 1);
}

TEST_F(TieredCacheTest, WaitersCallTheOriginThemselvesWhenTheHoldersAnswerCannotBeCached) {
  Replica a(&store, origin, clock);
  Replica b(&store, origin, clock);
  OriginResponse no_store = OriginResponse::ok("private answer");
  no_store.cache_control = "no-store";
  origin.script("k", no_store);
  origin.hold();
  auto from_a = a.fetch("k");
  origin.wait_for_held_calls(1);
  auto from_b = b.fetch("k");
  ASSERT_TRUE(eventually([&] { return store.leases_refused.load() >= 1; }));  // b waits for a's fill
  origin.open();
  EXPECT_FALSE(from_a.get().stored);
  Answer b_answer = from_b.get();  // told at once that no fill comes: no lease wait, no takeover
  EXPECT_EQ(b_answer.source, CacheSource::Origin);
  EXPECT_EQ(origin.calls("k"), 2);
  EXPECT_EQ(metric(b.metrics, "scalecache_lease_total{outcome=\"acquired\"}"), 0);
  Replica c(&store, origin, clock);
  EXPECT_EQ(c.fetch("k").get().source, CacheSource::Origin);  // later misses skip the lease too
  EXPECT_EQ(store.leases_refused.load(), 1);
}

TEST_F(TieredCacheTest, APurgeWinsOverAFetchInFlight) {
  Replica a(&store, origin, clock);
  Replica b(&store, origin, clock);
  origin.hold();
  auto in_flight = a.fetch("k");
  origin.wait_for_held_calls(1);  // a read the origin's answer before the purge
  ASSERT_TRUE(b.purge("k"));
  origin.open();
  Answer answered = in_flight.get();
  EXPECT_EQ(answered.entry->data, "value-of-k#1");  // served once to whoever asked
  EXPECT_FALSE(answered.stored);
  EXPECT_FALSE(store.entry("k"));  // but kept nowhere
  EXPECT_FALSE(a.from_l1("k"));
  EXPECT_EQ(b.fetch("k").get().entry->data, "value-of-k#2");
}

TEST_F(TieredCacheTest, StaleWhileRevalidateServesTheOldCopyAndRefreshesOnce) {
  Replica a(&store, origin, clock);
  a.fetch("k").get();
  clock.now += 61'000;  // past the 60 s TTL, inside the 30 s window
  origin.hold();
  // L1's copy is past its recheck time too (l1_ttl_seconds is capped by the
  // TTL), so the first stale answer comes from the shared tier...
  EXPECT_FALSE(a.from_l1("k"));
  Answer stale = a.fetch("k").get();
  EXPECT_EQ(stale.source, CacheSource::Stale);
  EXPECT_EQ(stale.stale, StaleReason::Revalidate);
  EXPECT_EQ(stale.entry->data, "value-of-k#1");
  origin.wait_for_held_calls(1);
  // ...and the next ones from L1, which stored it again, with no second refresh.
  auto again = a.from_l1("k");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->first, "value-of-k#1");
  EXPECT_EQ(again->second, StaleReason::Revalidate);
  clock.now += 60'000;  // an L1 period later, L1 serves that copy no more, stale or not
  EXPECT_FALSE(a.from_l1("k"));
  clock.now -= 60'000;
  origin.open();
  origin.wait_for_calls(2);
  ASSERT_TRUE(eventually([&] { return store.entry("k") && store.entry("k")->data == "value-of-k#2"; }));
  a.cache.stop();  // every refresh step has finished
  EXPECT_EQ(origin.calls("k"), 2);
  auto fresh = a.from_l1("k");
  ASSERT_TRUE(fresh);
  EXPECT_EQ(fresh->first, "value-of-k#2");
  EXPECT_FALSE(fresh->second);
}

TEST_F(TieredCacheTest, StaleIfErrorStandsInForAFailingOrigin) {
  Replica a(&store, origin, clock);
  a.fetch("k").get();
  clock.now += 60'000 + 31'000;  // past TTL and stale-while-revalidate, inside stale-if-error
  EXPECT_FALSE(a.from_l1("k"));
  origin.fail(true);
  Answer got = a.fetch("k").get();
  ASSERT_EQ(got.kind, Answer::Kind::Data);
  EXPECT_EQ(got.source, CacheSource::Stale);
  EXPECT_EQ(got.stale, StaleReason::Error);
  EXPECT_EQ(got.entry->data, "value-of-k#1");
  // An error never replaces the good entry.
  EXPECT_EQ(store.entry("k")->data, "value-of-k#1");

  clock.now += 300'000;  // past every window: the error shows
  Answer gone = a.fetch("k").get();
  EXPECT_EQ(gone.kind, Answer::Kind::OriginError);
}

TEST_F(TieredCacheTest, EarlyRefreshFollowsTheDrawNearExpiry) {
  Replica a(&store, origin, clock);
  origin.take_at_least_ms(5);  // a compute time XFetch can weigh
  a.fetch("k").get();
  clock.now += 60'000 - 1;  // 1 ms before expiry
  clock.draw = 1.0;         // -ln(1) = 0: no lead, no early refresh
  ASSERT_TRUE(a.from_l1("k"));
  EXPECT_EQ(metric(a.metrics, "scalecache_early_refreshes_total"), 0);
  clock.draw = 0.5;  // lead = compute * ln 2 >= 3 ms: refresh now
  ASSERT_TRUE(a.from_l1("k"));
  EXPECT_EQ(metric(a.metrics, "scalecache_early_refreshes_total"), 1);
  origin.wait_for_calls(2);
  a.cache.stop();
  EXPECT_EQ(origin.calls("k"), 2);
}

TEST_F(TieredCacheTest, NotFoundIsCachedForTheNegativeTtl) {
  Replica a(&store, origin, clock);
  origin.script("gone", OriginResponse::failed(OriginStatus::NotFound, "no such key"));
  Answer first = a.fetch("gone").get();
  EXPECT_EQ(first.kind, Answer::Kind::NotFound);
  ASSERT_TRUE(first.entry);
  EXPECT_TRUE(first.entry->meta.negative);
  ASSERT_TRUE(a.from_l1("gone"));
  Replica b(&store, origin, clock);
  EXPECT_EQ(b.fetch("gone").get().source, CacheSource::Negative);  // from the shared tier
  EXPECT_EQ(origin.calls("gone"), 1);
  clock.now += test_config().cache.negative_ttl * 1000;
  EXPECT_FALSE(a.from_l1("gone"));
}

TEST_F(TieredCacheTest, TooLargeAnswersAreServedButNotCached) {
  Config config = test_config();
  config.cache.max_object_bytes = 4;
  Replica a(&store, origin, clock, config);
  Answer got = a.fetch("k").get();
  EXPECT_EQ(got.kind, Answer::Kind::Data);
  EXPECT_FALSE(got.stored);
  EXPECT_EQ(got.entry->data, "value-of-k#1");
  EXPECT_FALSE(store.entry("k"));
  EXPECT_FALSE(a.from_l1("k"));
}

TEST_F(TieredCacheTest, PurgeRemovesTheKeyEverywhere) {
  Replica a(&store, origin, clock);
  Replica b(&store, origin, clock);
  a.fetch("k").get();
  b.fetch("k").get();
  ASSERT_TRUE(b.from_l1("k"));
  EXPECT_TRUE(a.purge("k"));
  EXPECT_FALSE(store.entry("k"));
  EXPECT_FALSE(a.from_l1("k"));
  EXPECT_FALSE(b.from_l1("k"));  // told through the shared tier
  EXPECT_EQ(a.fetch("k").get().entry->data, "value-of-k#2");
}

TEST_F(TieredCacheTest, SoftPurgeKeepsAStaleCopy) {
  Replica a(&store, origin, clock);
  Replica b(&store, origin, clock);
  a.fetch("k").get();
  b.fetch("k").get();
  EXPECT_TRUE(a.purge("k", true));
  ASSERT_TRUE(store.entry("k"));
  EXPECT_EQ(classify(store.entry("k")->meta, clock.now), Freshness::Revalidate);
  origin.hold();                 // keep the refresh the stale answer starts from finishing
  EXPECT_FALSE(b.from_l1("k"));  // b's L1 was told: it rereads the shared tier
  Answer stale = b.fetch("k").get();
  EXPECT_EQ(stale.source, CacheSource::Stale);
  EXPECT_EQ(stale.stale, StaleReason::Revalidate);
  EXPECT_EQ(stale.entry->data, "value-of-k#1");
  origin.open();
}

TEST_F(TieredCacheTest, TagPurgeRemovesEveryTaggedKey) {
  Replica a(&store, origin, clock);
  for (const char* key : {"x", "y"}) {
    OriginResponse tagged = OriginResponse::ok(std::string("body-") + key);
    tagged.tags = {"team"};
    origin.script(key, tagged);
    a.fetch(key).get();
  }
  a.fetch("other").get();
  EXPECT_EQ(a.purge_tag("team"), 2u);
  EXPECT_FALSE(a.from_l1("x"));
  EXPECT_FALSE(a.from_l1("y"));
  EXPECT_TRUE(a.from_l1("other"));
}

TEST_F(TieredCacheTest, AnotherReplicasNewerFillDropsTheOlderL1Copy) {
  Replica a(&store, origin, clock);
  Replica b(&store, origin, clock);
  a.fetch("k").get();
  auto in_l1 = [&](Replica& r) { return r.l1.visit("k", clock.now, [](const L1EntryView&) {}); };
  clock.now += 60'000 + 31'000;  // only stale-if-error left: a keeps its copy, b fetches anew
  ASSERT_TRUE(in_l1(a));
  EXPECT_EQ(b.fetch("k").get().entry->data, "value-of-k#2");
  EXPECT_FALSE(in_l1(a));  // the fill notice said a newer entry exists
  EXPECT_EQ(metric(a.metrics, "scalecache_invalidation_messages_total{direction=\"received\"}"), 1);
}

TEST_F(TieredCacheTest, WithTheSharedTierDownTheOriginStillAnswers) {
  Replica a(&store, origin, clock);
  store.available = false;
  Answer got = a.fetch("k").get();
  EXPECT_EQ(got.source, CacheSource::Origin);
  EXPECT_TRUE(a.from_l1("k"));
  EXPECT_FALSE(a.purge("k"));  // L1 only: the caller is told
}

TEST_F(TieredCacheTest, WithoutASharedTierL1AndTheOriginServe) {
  Replica a(nullptr, origin, clock);
  EXPECT_EQ(a.fetch("k").get().source, CacheSource::Origin);
  EXPECT_TRUE(a.from_l1("k"));
  EXPECT_FALSE(a.purge_tag("t"));  // tags live in the shared tier
}

// Round trips to the shared tier before a miss's fill: one look that reads
// and takes the lease together, never a separate lease step.
TEST_F(TieredCacheTest, AColdMissReadsAndTakesTheLeaseInOneLook) {
  Replica a(&store, origin, clock);
  EXPECT_EQ(a.fetch("k").get().source, CacheSource::Origin);
  EXPECT_EQ(store.lookups.load(), 1);
  EXPECT_EQ(store.lookup_leases.load(), 1);
  EXPECT_EQ(store.lease_calls.load(), 0);
  EXPECT_EQ(store.fills.load(), 1);
  EXPECT_FALSE(store.lease_held("k"));
  EXPECT_EQ(metric(a.metrics, "scalecache_lease_total{outcome=\"acquired\"}"), 1);
}

TEST_F(TieredCacheTest, AMissBehindAnotherReplicasLeaseLearnsItFromTheRead) {
  Replica b(&store, origin, clock);
  auto answer = fetch_behind_lease(b, "other-replica");
  EXPECT_EQ(store.lease_calls.load(), 0);
  store.put("k", Entry{{kStart, kStart + 60'000, 1, 30, 300, 7, false, Downstream::Shared}, "filled elsewhere"});
  store.expire_lease("k");
  Answer got = answer.get();
  EXPECT_EQ(got.source, CacheSource::L2);
  EXPECT_EQ(got.entry->data, "filled elsewhere");
  EXPECT_EQ(origin.total_calls(), 0);
}

TEST_F(TieredCacheTest, AStaleIfErrorCopyComesBackWithTheLease) {
  Replica a(&store, origin, clock);
  a.fetch("k").get();
  clock.now += 60'000 + 31'000;  // past TTL and stale-while-revalidate
  EXPECT_EQ(a.fetch("k").get().entry->data, "value-of-k#2");
  EXPECT_EQ(store.lookup_leases.load(), 2);
  EXPECT_EQ(store.lease_calls.load(), 0);
}

TEST_F(TieredCacheTest, AKeyBelievedInTheSharedTierIsReadWithoutTheLeaseStep) {
  Config no_l1 = test_config();
  no_l1.cache.l1_max_entries = 0;
  Replica a(&store, origin, clock);
  Replica b(&store, origin, clock, no_l1);
  a.fetch("k").get();
  EXPECT_EQ(store.lease_asks.load(), 1);
  // b has never seen "k": its read asks for the lease step, which does not
  // run, since the entry is servable.
  EXPECT_EQ(b.fetch("k").get().source, CacheSource::L2);
  EXPECT_EQ(store.lease_asks.load(), 2);
  EXPECT_EQ(store.lookup_leases.load(), 1);
  // Now b knows it is there: a plain read.
  EXPECT_EQ(b.fetch("k").get().source, CacheSource::L2);
  EXPECT_EQ(store.lease_asks.load(), 2);
  // a purge, heard by b, ends that belief: the next miss takes the lease with its read.
  ASSERT_TRUE(a.purge("k"));
  EXPECT_EQ(b.fetch("k").get().source, CacheSource::Origin);
  EXPECT_EQ(store.lease_asks.load(), 3);
  EXPECT_EQ(store.lookup_leases.load(), 2);
  // Past the entry's servable time the belief ends too.
  clock.now += 60'000 + 30'000;
  EXPECT_EQ(b.fetch("k").get().source, CacheSource::Origin);
  EXPECT_EQ(store.lease_asks.load(), 4);
  EXPECT_EQ(store.lease_calls.load(), 0);
}

TEST_F(TieredCacheTest, AMissQueuedForTheOriginHoldsNoLease) {
  Config one_thread = test_config();
  one_thread.origin.concurrency = 1;
  Replica a(&store, origin, clock, one_thread);
  origin.hold();
  auto first = a.fetch("k1");
  origin.wait_for_held_calls(1);  // the only origin thread is busy
  auto second = a.fetch("k2");
  ASSERT_TRUE(eventually([&] { return a.cache.origin_queued() == 1; }));
  // k2 waits for the origin thread without the lease its read took, so no
  // other replica waits on a fetch that has not started; it takes the lease
  // again once it runs.
  EXPECT_FALSE(store.lease_held("k2"));
  EXPECT_EQ(store.lookup_leases.load(), 2);
  origin.open();
  EXPECT_EQ(first.get().source, CacheSource::Origin);
  EXPECT_EQ(second.get().source, CacheSource::Origin);
  EXPECT_EQ(store.lease_calls.load(), 1);
}

}  // namespace
}  // namespace scalecache
