#include "cache/tiered_cache.hpp"

#include <algorithm>

#include "cache/fleet_lease.hpp"
#include "util/log.hpp"
#include "util/random_token.hpp"

namespace scalecache {

struct TieredCache::Fetch {
  std::string key;
  std::optional<Entry> stale;  // a past-TTL copy from L2 that may stand in for an origin error
  SharedTier::Lease lease;     // lease.token is set while this replica holds the fleet lease
  int64_t deadline_ms = 0;     // wall clock: the answer, whatever it is, by then
};

namespace {

// Reads of concurrent misses queued for the next L2 pipeline, at most.
constexpr std::size_t kL2MaxQueue = 4096;

Answer failure(Answer::Kind kind, std::string detail) {
  Answer answer;
  answer.kind = kind;
  answer.detail = std::move(detail);
  return answer;
}

Answer from_entry(std::shared_ptr<const Entry> entry, CacheSource source) {
  Answer answer;
  answer.kind = entry->meta.negative ? Answer::Kind::NotFound : Answer::Kind::Data;
  answer.source = entry->meta.negative ? CacheSource::Negative : source;
  answer.entry = std::move(entry);
  return answer;
}

// The time a miss may take: its waits and its origin call, never closer to
// the server's request timeout than kAnswerMarginMs (time to send the answer).
// With a queue a miss only waits: for the fill, up to queue.wait_ms.
int64_t miss_budget_ms(const Config& config) {
  constexpr int64_t kAnswerMarginMs = 500;
  const int64_t wanted =
      config.origin.kind == "queue" ? config.queue.wait_ms : config.cache.lease_wait_ms + config.origin.timeout_ms;
  return std::max<int64_t>(1, std::min(wanted, config.server.header_timeout_ms - kAnswerMarginMs));
}

}  // namespace

TieredCache::Options TieredCache::Options::from(const Config& config) {
  return {EntryPolicy::from(config.cache),
          config.cache.early_refresh_beta,
          config.origin.kind == "queue" ? config.queue.wait_ms : config.cache.lease_wait_ms,
          config.cache.lease_poll_ms,
          config.origin.timeout_ms,
          miss_budget_ms(config),
          static_cast<std::size_t>(config.redis.pool_size),
          kL2MaxQueue,
          static_cast<std::size_t>(config.origin.concurrency),
          static_cast<std::size_t>(config.origin.max_queue),
          config.cache.lease_ttl_ms,
          TimeSource{}};
}

TieredCache::TieredCache(Options options, L1Cache& l1, SharedTier* tier, Origin& origin, Metrics& metrics,
                         JobQueue* queue)
    : options_(std::move(options)),
      l1_(l1),
      tier_(tier),
      metrics_(metrics),
      queue_(tier != nullptr ? queue : nullptr),
      l2_pool_("l2", tier != nullptr ? options_.l2_threads : 0, options_.l2_max_queue),
      origin_pool_("origin", options_.origin_threads, options_.origin_max_queue),
      fill_(options_.entry, l1, tier, origin, metrics, options_.time),
      waiter_(tier != nullptr ? std::make_unique<FillWaiter>(*tier, options_.lease_poll_ms, options_.time) : nullptr),
      reads_(tier != nullptr ? std::make_unique<L2ReadBatcher>(*tier, l2_pool_, options_.l2_max_queue, options_.time)
                             : nullptr),
      refresher_(tier, fill_, l2_pool_, origin_pool_, metrics, options_.time, options_.origin_timeout_ms, queue_,
                 options_.lease_ttl_ms),
      invalidation_(l1, tier, waiter_.get(), l2_pool_, metrics, options_.time, &presence_) {
  if (tier_ != nullptr) {
    tier_->subscribe(
        {[this](CacheEvent e, const std::string& key, int64_t stamp) { invalidation_.on_event(e, key, stamp); },
         [this] { l1_.clear(); }});
  }
}

TieredCache::~TieredCache() { stop(); }

void TieredCache::stop() {
  // Pool tasks publish events and register waits, so the pools stop first
  // (finishing what is queued); then the subscription, which wakes waiters;
  // then the waiter, whose last callbacks find the pools closed and answer 503.
  l2_pool_.stop();
  origin_pool_.stop();
  if (tier_ != nullptr) tier_->unsubscribe();
  waiter_.reset();
  if (reads_) reads_->stop();
}

bool TieredCache::refresh_early(const EntryMeta& meta, int64_t now_ms) const {
  // -ln(u) exceeds 20 with probability e^-20 (2e-9): further from expiry
  // than that lead, skip the random draw that most hits would waste.
  const double max_lead_ms = static_cast<double>(meta.compute_ms) * options_.early_refresh_beta * 20.0;
  if (static_cast<double>(meta.fresh_until_ms - now_ms) > max_lead_ms) return false;
  return should_refresh_early(meta, now_ms, options_.early_refresh_beta, options_.time.uniform());
}

void TieredCache::fetch(const std::string& key, Done done) {
  // Requests that join a fetch already running are told so (Cache-Status:
  // collapsed); the flag is set only once join() says who leads.
  auto leads = std::make_shared<bool>(false);
  const bool leader = flights_.join(key, [done = std::move(done), leads](const Answer& answer) {
    if (*leads) {
      done(answer);
    } else {
      Answer joined = answer;
      joined.collapsed = true;
      done(joined);
    }
  });
  if (!leader) {
    metrics_.coalesced();
    return;
  }
  *leads = true;
  auto state = std::make_shared<Fetch>();
  state->key = key;
  state->deadline_ms = options_.time.now_ms() + options_.fetch_budget_ms;
  if (tier_ == nullptr) {
    submit(origin_pool_, state, &TieredCache::call_origin);
    return;
  }
  // A key believed servable in L2 is read with a plain GET: a hit must not cost Redis a script.
  const bool lease = !presence_.servable(key, options_.time.now_ms());
  const bool queued = reads_->submit(key, lease, [this, state](std::optional<SharedTier::Lookup> lookup) {
    if (!lookup) {
      finish(state, failure(Answer::Kind::Overloaded, "shutting down"));
      return;
    }
    guarded(state, [&] { on_l2_read(state, std::move(*lookup)); });
  });
  if (!queued) finish(state, failure(Answer::Kind::Overloaded, "too many requests waiting for Redis"));
}

void TieredCache::finish(const std::shared_ptr<Fetch>& fetch, const Answer& answer) {
  give_back_lease(fetch);
  flights_.complete(fetch->key, answer);
}

void TieredCache::give_back_lease(const std::shared_ptr<Fetch>& fetch) {
  if (fetch->lease.token.empty()) return;
  tier_->release_lease(fetch->key, fetch->lease.token);
  fetch->lease.token.clear();
}

void TieredCache::guarded(const std::shared_ptr<Fetch>& fetch, const std::function<void()>& step) {
  try {
    step();
  } catch (const std::exception& e) {
    // Every waiter must get an answer, whatever went wrong on the way.
    log::error("fetch failed", {{"error", e.what()}});
    finish(fetch, failure(Answer::Kind::OriginError, "internal error"));
  }
}

void TieredCache::submit(WorkerPool& pool, const std::shared_ptr<Fetch>& fetch, Step step, bool reserved) {
  if (!pool.submit([this, fetch, step] { guarded(fetch, [&] { (this->*step)(fetch); }); }, reserved)) {
    finish(fetch, failure(Answer::Kind::Overloaded, &pool == &origin_pool_ ? "too many requests waiting for the origin"
                                                                           : "too many requests waiting for Redis"));
  }
}

void TieredCache::on_l2_read(const std::shared_ptr<Fetch>& fetch, SharedTier::Lookup lookup) {
  SharedTier::Read& read = lookup.read;
  // Held from here, so every way out (finish() included) gives it back.
  if (lookup.lease_outcome) fetch->lease = std::move(lookup.lease);
  if (read.status == SharedTier::ReadStatus::Unavailable && queue_ != nullptr) {
    finish(fetch, failure(Answer::Kind::Overloaded, "Redis, which holds the job queue, cannot be reached"));
    return;
  }
  if (read.status == SharedTier::ReadStatus::Unavailable) {
    // No shared tier, no lease: the in-process flight is all there is.
    submit(origin_pool_, fetch, &TieredCache::call_origin);
    return;
  }
  if (read.entry) {
    Entry& entry = *read.entry;
    const int64_t now = options_.time.now_ms();
    const Freshness freshness = classify(entry.meta, now);
    const bool serve_stale = freshness == Freshness::Revalidate && !entry.meta.negative;
    if (freshness == Freshness::Fresh || serve_stale) {
      presence_.seen(fetch->key, servable_until_ms(entry.meta));
      fill_.fill_l1(fetch->key, entry);
      const EntryMeta meta = entry.meta;
      Answer answer = from_entry(std::make_shared<const Entry>(std::move(entry)),
                                 serve_stale ? CacheSource::Stale : CacheSource::L2);
      if (serve_stale) answer.stale = StaleReason::Revalidate;
      finish(fetch, answer);
      if (serve_stale) {
        refresher_.refresh(fetch->key, meta.stored_at_ms, Refresher::Trigger::Stale);
      } else if (!meta.negative && refresh_early(meta, now)) {
        refresher_.refresh(fetch->key, meta.stored_at_ms, Refresher::Trigger::Early);
      }
      return;
    }
    if (freshness == Freshness::StaleIfError && !entry.meta.negative) fetch->stale = std::move(entry);
  }
  miss_after_read(fetch, lookup.lease_outcome);
}

void TieredCache::miss_after_read(const std::shared_ptr<Fetch>& fetch, std::optional<LeaseOutcome> outcome) {
  if (!outcome) {
    to_origin(fetch);  // the read ran no lease step: take it when an origin thread is free
    return;
  }
  // The read took the lease step too: the miss's second round trip is its fill.
  if (*outcome == LeaseOutcome::Acquired) metrics_.lease(LeaseOutcome::Acquired);
  if (!after_lease(fetch, *outcome)) return;
  if (origin_pool_.reserve_idle_thread()) {
    submit(origin_pool_, fetch, &TieredCache::call_origin, true);
    return;
  }
  // No origin thread free: a miss queued behind others holds no lease the
  // rest of the fleet would wait on. Given back, and taken again when a
  // thread picks the miss up (two more round trips, only while the origin
  // pool is saturated).
  give_back_lease(fetch);
  submit(origin_pool_, fetch, &TieredCache::lease_then_origin);
}

void TieredCache::to_origin(const std::shared_ptr<Fetch>& fetch) {
  // The lease is taken when the origin call can start: here when an origin
  // thread is free, else by the origin thread that picks the miss up. A miss
  // queued behind others holds no lease that the rest of the fleet would wait on.
  if (!origin_pool_.reserve_idle_thread()) {
    submit(origin_pool_, fetch, &TieredCache::lease_then_origin);
    return;
  }
  if (!lease_or_wait(fetch)) {
    origin_pool_.release_reservation();
    return;
  }
  submit(origin_pool_, fetch, &TieredCache::call_origin, true);
}

void TieredCache::lease_then_origin(const std::shared_ptr<Fetch>& fetch) {
  if (lease_or_wait(fetch)) call_origin(fetch);
}

bool TieredCache::lease_or_wait(const std::shared_ptr<Fetch>& fetch) {
  if (options_.time.now_ms() >= fetch->deadline_ms) {
    // Waits and takeovers used the miss's whole time.
    answer_failure(fetch, OriginStatus::Timeout, "no answer within the request's deadline");
    return false;
  }
  return after_lease(fetch, take_fleet_lease(*tier_, fetch->key, fetch->lease, metrics_));
}

bool TieredCache::after_lease(const std::shared_ptr<Fetch>& fetch, LeaseOutcome outcome) {
  if (queue_ != nullptr) {
    to_queue(fetch, outcome);
    return false;
  }
  if (outcome != LeaseOutcome::HeldElsewhere) return true;
  metrics_.lease(LeaseOutcome::HeldElsewhere);
  wait_for_fill(fetch);
  return false;
}

void TieredCache::to_queue(const std::shared_ptr<Fetch>& fetch, LeaseOutcome outcome) {
  switch (outcome) {
    case LeaseOutcome::Acquired: break;
    case LeaseOutcome::HeldElsewhere:
      // A job for the key is queued or running, made by this replica or another.
      metrics_.lease(LeaseOutcome::HeldElsewhere);
      wait_for_fill(fetch);
      return;
    case LeaseOutcome::Bypass:
    case LeaseOutcome::TimedOut:
      // Only an origin call could answer, and workers alone make them.
      answer_failure(fetch, OriginStatus::Error, "the origin's answer for this key cannot be cached or shared");
      return;
    case LeaseOutcome::Unavailable:
      finish(fetch, failure(Answer::Kind::Overloaded, "Redis, which holds the job queue, cannot be reached"));
      return;
  }
  const int64_t now = options_.time.now_ms();
  Job job{fetch->key, 1, now + options_.lease_ttl_ms, random_token(), fetch->lease, now};
  switch (queue_->enqueue(job)) {
    case JobQueue::Enqueued::Queued:
      log::debug("job queued", {{"key", fetch->key}, {"request_id", job.request_id}});
      fetch->lease.token.clear();  // the job holds it now; its fill releases it
      wait_for_fill(fetch);
      return;
    case JobQueue::Enqueued::Full:
      finish(fetch, failure(Answer::Kind::Overloaded, "the job queue is full (queue.max_length)"));
      return;
    case JobQueue::Enqueued::Unavailable:
      finish(fetch, failure(Answer::Kind::Overloaded, "Redis, which holds the job queue, cannot be reached"));
      return;
  }
}

void TieredCache::wait_for_fill(const std::shared_ptr<Fetch>& fetch) {
  const int64_t deadline = std::min(options_.time.now_ms() + options_.lease_wait_ms, fetch->deadline_ms);
  waiter_->wait(fetch->key, deadline, [this, fetch](FillWaiter::Outcome outcome, std::optional<Entry> entry) {
    on_fill_wait(fetch, outcome, std::move(entry));
  });
}

void TieredCache::on_fill_wait(const std::shared_ptr<Fetch>& fetch, FillWaiter::Outcome outcome,
                               std::optional<Entry> entry) {
  switch (outcome) {
    case FillWaiter::Outcome::Filled: {
      presence_.seen(fetch->key, servable_until_ms(entry->meta));
      fill_.fill_l1(fetch->key, *entry);
      Answer answer = from_entry(std::make_shared<const Entry>(std::move(*entry)), CacheSource::L2);
      answer.collapsed = true;
      finish(fetch, answer);
      return;
    }
    case FillWaiter::Outcome::LeaseGone:
      // The holder finished without a value or died: try to take over.
      submit(l2_pool_, fetch, &TieredCache::to_origin);
      return;
    case FillWaiter::Outcome::Bypass:
      if (queue_ != nullptr) {
        answer_failure(fetch, OriginStatus::Error, "the origin's answer for this key cannot be cached or shared");
        return;
      }
      // The holder's answer could not be cached: call the origin now, as
      // every other replica does, instead of taking turns behind the lease.
      submit(origin_pool_, fetch, &TieredCache::call_origin);
      return;
    case FillWaiter::Outcome::Failed:
      answer_failure(fetch, OriginStatus::Error, "the worker tier gave up on this key (worker.max_attempts)");
      return;
    case FillWaiter::Outcome::TimedOut:
      metrics_.lease(LeaseOutcome::TimedOut);
      if (queue_ != nullptr) {
        // The job goes on and fills the cache for later requests.
        answer_failure(fetch, OriginStatus::Timeout, "the worker tier did not answer within queue.wait_ms");
        return;
      }
      submit(origin_pool_, fetch, &TieredCache::call_origin);
      return;
  }
}

void TieredCache::call_origin(const std::shared_ptr<Fetch>& fetch) {
  OriginFill::Result result = fill_.run(fetch->key, fetch->lease, fetch->deadline_ms);
  switch (result.status) {
    case OriginStatus::Ok:
    case OriginStatus::NotFound: {
      Answer answer;
      answer.kind = result.status == OriginStatus::Ok ? Answer::Kind::Data : Answer::Kind::NotFound;
      answer.source = CacheSource::Origin;
      answer.stored = result.stored;
      if (result.stored && result.entry) presence_.seen(fetch->key, servable_until_ms(result.entry->meta));
      answer.entry = std::move(result.entry);
      if (result.status == OriginStatus::NotFound) answer.detail = std::move(result.detail);
      finish(fetch, answer);
      return;
    }
    case OriginStatus::Timeout:
    case OriginStatus::Error: answer_failure(fetch, result.status, std::move(result.detail), result.too_large); return;
  }
}

void TieredCache::answer_failure(const std::shared_ptr<Fetch>& fetch, OriginStatus status, std::string detail,
                                 bool too_large) {
  // An error never replaces a good entry; a stale one may stand in for it.
  if (std::shared_ptr<const Entry> stale = stale_stand_in(fetch)) {
    Answer answer = from_entry(std::move(stale), CacheSource::Stale);
    answer.stale = StaleReason::Error;
    answer.detail = std::move(detail);
    finish(fetch, answer);
    return;
  }
  finish(fetch, failure(status == OriginStatus::Timeout ? Answer::Kind::OriginTimeout
                        : too_large                     ? Answer::Kind::OriginTooLarge
                                                        : Answer::Kind::OriginError,
                        std::move(detail)));
}

std::shared_ptr<const Entry> TieredCache::stale_stand_in(const std::shared_ptr<Fetch>& fetch) const {
  std::shared_ptr<const Entry> stale;
  const int64_t now = options_.time.now_ms();
  l1_.visit(fetch->key, now, [&](const L1EntryView& view) {
    if (!view.meta.negative && classify(view.meta, now) != Freshness::Gone) {
      stale = std::make_shared<const Entry>(Entry{view.meta, std::string(view.data)});
    }
  });
  if (!stale && fetch->stale && classify(fetch->stale->meta, now) != Freshness::Gone) {
    stale = std::make_shared<const Entry>(std::move(*fetch->stale));
  }
  return stale;
}

}  // namespace scalecache
