// The worker tier against in-memory fakes: serving replicas with a job
// queue (TieredCache with a JobQueue) and the worker's JobRunner, sharing one
// fake shared tier. Waits are on conditions, never on time.

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>

#include "cache/tiered_cache.hpp"
#include "config/config.hpp"
#include "eventually.hpp"
#include "fakes/fake_job_queue.hpp"
#include "fakes/fake_origin.hpp"
#include "fakes/fake_shared_tier.hpp"
#include "metrics/metrics.hpp"
#include "queue/job_codec.hpp"
#include "worker/job_runner.hpp"
#include "worker/worker_metrics.hpp"

namespace scalecache {
namespace {

using testing::eventually;
using testing::FakeJobLedger;
using testing::FakeJobQueue;
using testing::FakeOrigin;
using testing::FakeSharedStore;
using testing::FakeSharedTier;

Config queue_config() {
  Config config;
  config.redis.url = "redis://127.0.0.1:1";  // never dialled: the fakes stand in
  config.origin.kind = "queue";
  config.cache.ttl_jitter = 0;
  config.cache.lease_poll_ms = 2;
  config.queue.wait_ms = 5000;
  config.redis.pool_size = 2;
  config.origin.concurrency = 4;
  return config;
}

// A serving replica whose misses become jobs on `queue`; its own origin must never be called.
struct QueueReplica {
  QueueReplica(FakeSharedStore& store, FakeJobQueue& queue, FakeOrigin& never_called)
      : l1(L1Cache::Limits::from(queue_config().cache)),
        tier(store),
        cache(TieredCache::Options::from(queue_config()), l1, &tier, never_called, metrics, &queue) {}

  std::future<Answer> fetch(const std::string& key) {
    auto promise = std::make_shared<std::promise<Answer>>();
    cache.fetch(key, [promise](const Answer& a) { promise->set_value(a); });
    return promise->get_future();
  }

  Metrics metrics;
  L1Cache l1;
  FakeSharedTier tier;
  TieredCache cache;
};

// The worker's side: its own shared-tier handle (its fills reach the replicas as another replica's would).
struct FakeWorker {
  explicit FakeWorker(FakeSharedStore& store, int64_t max_attempts = 3)
      : l1(L1Cache::Limits::from(CacheConfig{.l1_max_entries = 0})),
        tier(store),
        fill(policy, l1, &tier, origin, metrics, time),
        worker_metrics(metrics),
        runner({max_attempts, 0, 0, 10000, 5000}, tier, fill, ledger, worker_metrics, time,
               [](std::chrono::milliseconds) { return true; }) {}

  JobRunner::End run(const std::string& id, const Job& job) { return runner.run(id, encode_job(job), job); }

  EntryPolicy policy = EntryPolicy::from(queue_config().cache);
  TimeSource time;
  FakeOrigin origin;
  Metrics metrics;
  L1Cache l1;
  FakeSharedTier tier;
  OriginFill fill;
  WorkerMetrics worker_metrics;
  FakeJobLedger ledger;
  JobRunner runner;
};

class WorkerTierTest : public ::testing::Test {
 protected:
  FakeSharedStore store{wall_clock_ms};
  FakeJobQueue queue;
  FakeOrigin serving_origin;  // the replicas': a call would be a bug
};

TEST_F(WorkerTierTest, MissesOnTwoReplicasMakeOneJobAndTheWorkersFillAnswersBoth) {
  QueueReplica a(store, queue, serving_origin), b(store, queue, serving_origin);
  auto first = a.fetch("k");
  ASSERT_TRUE(eventually([&] { return queue.jobs().size() == 1; }));
  auto second = b.fetch("k");
  ASSERT_TRUE(eventually([&] { return store.leases_refused.load() >= 1; }));  // b waits behind the job's lease

  const Job job = queue.jobs().front();
  EXPECT_EQ(job.key, "k");
  EXPECT_TRUE(store.lease_held("k"));
  EXPECT_FALSE(job.lease.token.empty()) << "the job carries the lease the miss took";
  EXPECT_FALSE(job.request_id.empty());

  FakeWorker worker(store);
  EXPECT_EQ(worker.run("1-0", job), JobRunner::End::Done);
  for (auto* answer : {&first, &second}) {
    const Answer got = answer->get();
    ASSERT_EQ(got.kind, Answer::Kind::Data);
    EXPECT_EQ(got.entry->data, "value-of-k#1");
  }
  EXPECT_EQ(queue.jobs().size(), 1u);
  EXPECT_EQ(serving_origin.total_calls(), 0);
  EXPECT_EQ(worker.origin.total_calls(), 1);
  EXPECT_EQ(worker.ledger.acked(), std::vector<std::string>{"1-0"});
  EXPECT_FALSE(store.lease_held("k")) << "the fill released the job's lease";
}

TEST_F(WorkerTierTest, AFullQueueAnswersOverloadedAndGivesTheLeaseBack) {
  QueueReplica a(store, queue, serving_origin);
  queue.full = true;
  const Answer got = a.fetch("k").get();
  EXPECT_EQ(got.kind, Answer::Kind::Overloaded);
  EXPECT_FALSE(store.lease_held("k"));
  EXPECT_TRUE(queue.jobs().empty());
}

TEST_F(WorkerTierTest, AnOriginThatKeepsFailingIsTriedMaxAttemptsTimesThenTheWaitersAreTold) {
  QueueReplica a(store, queue, serving_origin);
  auto answer = a.fetch("k");
  ASSERT_TRUE(eventually([&] { return queue.jobs().size() == 1; }));
  FakeWorker worker(store, 3);
  worker.origin.fail(true);
  EXPECT_EQ(worker.run("1-0", queue.jobs().front()), JobRunner::End::Done);
  EXPECT_EQ(worker.origin.total_calls(), 3);
  EXPECT_EQ(worker.ledger.dead().count("1-0"), 1u);
  EXPECT_TRUE(worker.ledger.acked().empty());
  const Answer got = answer.get();
  EXPECT_EQ(got.kind, Answer::Kind::OriginError);
  EXPECT_FALSE(store.lease_held("k"));
}

TEST_F(WorkerTierTest, TriesOfWorkersThatDiedCountTowardsMaxAttempts) {
  QueueReplica a(store, queue, serving_origin);
  auto answer = a.fetch("k");
  ASSERT_TRUE(eventually([&] { return queue.jobs().size() == 1; }));
  FakeWorker worker(store, 2);
  worker.ledger.count_try("1-0");  // two workers died in the origin call
  worker.ledger.count_try("1-0");
  EXPECT_EQ(worker.run("1-0", queue.jobs().front()), JobRunner::End::Done);
  EXPECT_EQ(worker.origin.total_calls(), 0);
  EXPECT_EQ(worker.ledger.dead().count("1-0"), 1u);
  EXPECT_EQ(answer.get().kind, Answer::Kind::OriginError);
}

TEST_F(WorkerTierTest, AJobWhoseLeaseRanOutExpiresWithoutAnOriginCall) {
  QueueReplica a(store, queue, serving_origin);
  auto answer = a.fetch("k");
  ASSERT_TRUE(eventually([&] { return queue.jobs().size() == 1; }));
  store.expire_lease("k");  // nobody kept it: its waiters have moved on
  FakeWorker worker(store);
  EXPECT_EQ(worker.run("1-0", queue.jobs().front()), JobRunner::End::Done);
  EXPECT_EQ(worker.origin.total_calls(), 0);
  EXPECT_EQ(worker.ledger.acked(), std::vector<std::string>{"1-0"});
  EXPECT_NE(worker.metrics.render().find("scalecache_worker_jobs_total{result=\"expired\"} 1"), std::string::npos);
}

TEST(JobCodec, RoundTripAndRefusals) {
  Job job{"a key", 1, 123, "rid", {"token", 7}, 100};
  const std::optional<Job> back = decode_job(encode_job(job));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->key, "a key");
  EXPECT_EQ(back->deadline_ms, 123);
  EXPECT_EQ(back->lease.token, "token");
  EXPECT_EQ(back->lease.generation, 7);
  job.lease.generation.reset();
  EXPECT_FALSE(decode_job(encode_job(job))->lease.generation);
  EXPECT_FALSE(decode_job({{"key", "k"}}));
  StreamFields bad = encode_job(job);
  bad[1].second = "one";
  EXPECT_FALSE(decode_job(bad));
}

}  // namespace
}  // namespace scalecache
