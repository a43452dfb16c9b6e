#include "worker/worker.hpp"

#include <algorithm>

#include "util/log.hpp"

namespace scalecache {

Worker::Worker(Options options, RedisJobStream& stream, SharedTier& tier, WorkerMetrics& metrics, Run run,
               std::function<void()> on_ready)
    : options_(std::move(options)),
      stream_(stream),
      tier_(tier),
      metrics_(metrics),
      run_(std::move(run)),
      on_ready_(std::move(on_ready)),
      pool_("worker", options_.concurrency, options_.concurrency) {}

Worker::~Worker() { stop(std::chrono::milliseconds(0)); }

void Worker::start() {
  reader_ = std::thread([this] { read_loop(); });
  heartbeat_ = std::thread([this] { heartbeat_loop(); });
}

bool Worker::pause(std::chrono::milliseconds delay) {
  std::unique_lock lock(mutex_);
  return !changed_.wait_for(lock, delay, [this] { return stopping_; });
}

std::size_t Worker::free_slots() {
  std::lock_guard lock(mutex_);
  return options_.concurrency - std::min(options_.concurrency, held_.size());
}

void Worker::read_loop() {
  // A blocking read is cut short to look for abandoned jobs often enough,
  // and to notice stop() within a second.
  const int64_t block_ms = std::clamp<int64_t>(options_.claim_idle_ms / 2, 10, 1000);
  bool ready = false;
  auto next_claim = std::chrono::steady_clock::now();
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      // Wait for a free slot: never take more jobs than can run now.
      changed_.wait(lock, [this] { return stopping_ || held_.size() < options_.concurrency; });
      if (stopping_) return;
    }
    if (!ready) {
      ready = stream_.ensure_group();
      if (!ready) {
        pause(std::chrono::milliseconds(block_ms));
        continue;
      }
      on_ready_();
    }
    const std::size_t slots = free_slots();
    if (std::chrono::steady_clock::now() >= next_claim) {
      next_claim = std::chrono::steady_clock::now() + std::chrono::milliseconds(block_ms);
      std::vector<RedisJobStream::Delivery> claimed =
          stream_.claim_idle(options_.consumer, slots, options_.claim_idle_ms);
      if (!claimed.empty()) {
        metrics_.claimed(claimed.size());
        log::info("claimed jobs of a worker that stopped", {{"jobs", std::to_string(claimed.size())}});
        dispatch(std::move(claimed));
        continue;
      }
    }
    dispatch(stream_.read(options_.consumer, slots, block_ms));
  }
}

void Worker::dispatch(std::vector<RedisJobStream::Delivery> deliveries) {
  for (RedisJobStream::Delivery& delivery : deliveries) {
    {
      std::lock_guard lock(mutex_);
      // A job of ours whose heartbeat came late can be claimed back by us: it runs once.
      if (held_.contains(delivery.id)) continue;
      held_[delivery.id] = delivery.job ? Held{delivery.job->key, delivery.job->lease.token} : Held{};
      metrics_.set_in_progress(held_.size());
    }
    auto shared = std::make_shared<RedisJobStream::Delivery>(std::move(delivery));
    const bool queued = pool_.submit([this, shared] {
      JobRunner::End end = JobRunner::End::HandedBack;
      try {
        end = run_(*shared);
      } catch (const std::exception& e) {
        log::error("job failed", {{"id", shared->id}, {"error", e.what()}});
      }
      finished(shared->id, end);
    });
    // The pool holds as many as there are slots, so only a stopping pool refuses.
    if (!queued) finished(shared->id, JobRunner::End::HandedBack);
  }
}

void Worker::finished(const std::string& id, JobRunner::End end) {
  if (end == JobRunner::End::HandedBack) stream_.hand_back(options_.consumer, {id}, options_.claim_idle_ms);
  {
    std::lock_guard lock(mutex_);
    held_.erase(id);
    metrics_.set_in_progress(held_.size());
  }
  changed_.notify_all();
}

void Worker::heartbeat_loop() {
  const auto interval = std::chrono::milliseconds(std::max<int64_t>(1, options_.claim_idle_ms / 3));
  std::unique_lock lock(mutex_);
  while (!changed_.wait_for(lock, interval, [this] { return stopping_; })) {
    std::vector<std::string> ids;
    std::vector<Held> jobs;
    for (const auto& [id, held] : held_) {
      ids.push_back(id);
      jobs.push_back(held);
    }
    lock.unlock();
    stream_.keep(options_.consumer, ids);
    for (const Held& job : jobs) {
      if (!job.token.empty()) tier_.extend_lease(job.key, job.token, options_.lease_ttl_ms);
    }
    lock.lock();
  }
}

std::size_t Worker::stop(std::chrono::milliseconds grace) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && !reader_.joinable()) return 0;
    stopping_ = true;
  }
  changed_.notify_all();
  if (reader_.joinable()) reader_.join();
  std::vector<std::string> left;
  {
    std::unique_lock lock(mutex_);
    if (!held_.empty()) {
      log::info("waiting for held jobs",
                {{"jobs", std::to_string(held_.size())}, {"grace_ms", std::to_string(grace.count())}});
    }
    // Backoff pauses end at once (their jobs are handed back); running calls get the grace period.
    changed_.wait_for(lock, grace, [this] { return held_.empty(); });
    for (const auto& [id, held] : held_) left.push_back(id);
  }
  if (heartbeat_.joinable()) heartbeat_.join();
  stream_.hand_back(options_.consumer, left, options_.claim_idle_ms);
  return left.size();
}

}  // namespace scalecache
