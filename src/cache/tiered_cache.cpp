#include "cache/tiered_cache.hpp"

#include <algorithm>
#include <chrono>

#include "cache/entry_codec.hpp"
#include "origin/cache_control.hpp"
#include "util/log.hpp"
#include "util/utf8.hpp"

namespace scalecache {

struct TieredCache::Fetch {
  std::string key;
  std::optional<Entry> stale;  // a past-TTL copy from Redis that may stand in for an origin error
  std::string lease_token;     // set while this replica holds the fleet lease
};

namespace {

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

}  // namespace

TieredCache::TieredCache(Options options, L1Cache& l1, RedisStore* l2, Origin& origin, Metrics& metrics)
    : options_(std::move(options)),
      l1_(l1),
      l2_(l2),
      origin_(origin),
      metrics_(metrics),
      l2_pool_("l2", l2 != nullptr ? options_.l2_threads : 0, options_.l2_max_queue),
      origin_pool_("origin", options_.origin_threads, options_.origin_max_queue) {
  if (l2_ != nullptr) {
    lease_ = std::make_unique<FleetLease>(*l2_, options_.lease_ttl_ms);
    waiter_ = std::make_unique<FillWaiter>(*l2_, *lease_, options_.lease_poll_ms);
    EventBus::Handlers handlers{[this](CacheEvent e, const std::string& key, int64_t stamp) { on_event(e, key, stamp); },
                                [this] { l1_.clear(); }};
    events_ = std::make_unique<EventBus>(
        EventBus::Options{options_.redis_address, options_.redis_password, options_.redis_connect_timeout_ms,
                          options_.events_channel},
        *l2_, std::move(handlers));
  }
}

TieredCache::~TieredCache() { stop(); }

void TieredCache::stop() {
  // Pool tasks publish events and register waits, so the pools stop first
  // (finishing what is queued); then the subscriber, which wakes waiters;
  // then the waiter, whose last callbacks find the pools closed and answer 503.
  l2_pool_.stop();
  origin_pool_.stop();
  events_.reset();
  waiter_.reset();
  std::vector<std::shared_ptr<Fetch>> unread;
  {
    std::lock_guard lock(l2_reads_mutex_);
    unread.swap(l2_reads_);
  }
  for (const auto& fetch : unread) finish(fetch, failure(Answer::Kind::Overloaded, "shutting down"));
}

bool TieredCache::refresh_early(const EntryMeta& meta, int64_t now_ms) const {
  // -ln(u) exceeds 20 with probability e^-20 (2e-9): further from expiry
  // than that lead, skip the random draw that most hits would waste.
  const double max_lead_ms = static_cast<double>(meta.compute_ms) * options_.early_refresh_beta * 20.0;
  if (static_cast<double>(meta.fresh_until_ms - now_ms) > max_lead_ms) return false;
  return should_refresh_early(meta, now_ms, options_.early_refresh_beta, uniform_open_closed());
}

// ---- the miss path -------------------------------------------------------

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
  if (l2_ == nullptr) {
    submit_origin(state);
    return;
  }
  queue_l2_read(state);
}

void TieredCache::queue_l2_read(const std::shared_ptr<Fetch>& fetch) {
  {
    std::lock_guard lock(l2_reads_mutex_);
    if (l2_reads_.size() >= options_.l2_max_queue) {
      // falls through to the Overloaded answer below
    } else {
      l2_reads_.push_back(fetch);
      if (l2_drain_queued_) return;  // the queued drain will take it
      l2_drain_queued_ = true;
      if (l2_pool_.submit([this] { drain_l2_reads(); })) return;
      l2_drain_queued_ = false;
      l2_reads_.pop_back();
    }
  }
  finish(fetch, failure(Answer::Kind::Overloaded, "too many requests waiting for Redis"));
}

void TieredCache::drain_l2_reads() {
  constexpr std::size_t kMaxPipeline = 64;
  std::vector<std::shared_ptr<Fetch>> batch;
  std::vector<std::shared_ptr<Fetch>> orphaned;
  {
    std::lock_guard lock(l2_reads_mutex_);
    const std::size_t take = std::min(kMaxPipeline, l2_reads_.size());
    batch.assign(l2_reads_.begin(), l2_reads_.begin() + static_cast<std::ptrdiff_t>(take));
    l2_reads_.erase(l2_reads_.begin(), l2_reads_.begin() + static_cast<std::ptrdiff_t>(take));
    // More waiting: another L2 thread starts on them while this one reads.
    l2_drain_queued_ = !l2_reads_.empty() && l2_pool_.submit([this] { drain_l2_reads(); });
    if (!l2_drain_queued_) orphaned.swap(l2_reads_);  // the pool is stopping: nobody will read them
  }
  for (const auto& fetch : orphaned) finish(fetch, failure(Answer::Kind::Overloaded, "shutting down"));
  std::vector<std::string> keys;
  keys.reserve(batch.size());
  for (const auto& fetch : batch) keys.push_back(value_key(fetch->key));
  std::vector<RedisStore::GetResult> values;
  try {
    values = l2_->get_many(keys);
  } catch (const std::exception& e) {
    log::error("Redis read failed", {{"error", e.what()}});
    values.assign(batch.size(), RedisStore::GetResult{RedisStore::Status::Unavailable, {}});
  }
  for (std::size_t i = 0; i < batch.size(); ++i) {
    guarded(batch[i], [&] { on_l2_value(batch[i], std::move(values[i])); });
  }
}

void TieredCache::finish(const std::shared_ptr<Fetch>& fetch, Answer answer) {
  if (!fetch->lease_token.empty()) {
    lease_->release(fetch->key, fetch->lease_token);
    fetch->lease_token.clear();
  }
  flights_.complete(fetch->key, answer);
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

void TieredCache::submit_origin(const std::shared_ptr<Fetch>& fetch) {
  if (!origin_pool_.submit([this, fetch] { guarded(fetch, [&] { call_origin(fetch); }); })) {
    finish(fetch, failure(Answer::Kind::Overloaded, "too many requests waiting for the origin"));
  }
}

void TieredCache::on_l2_value(const std::shared_ptr<Fetch>& fetch, RedisStore::GetResult got) {
  if (got.status == RedisStore::Status::Unavailable) {
    submit_origin(fetch);  // no Redis, no lease: the in-process flight is all we have
    return;
  }
  if (got.status == RedisStore::Status::Ok) {
    if (std::optional<Entry> entry = decode_entry(got.value)) {
      const int64_t now = wall_clock_ms();
      switch (classify(entry->meta, now)) {
        case Freshness::Fresh: {
          fill_l1(fetch->key, *entry);
          const EntryMeta meta = entry->meta;
          finish(fetch, from_entry(std::make_shared<const Entry>(std::move(*entry)), CacheSource::L2));
          if (!meta.negative && refresh_early(meta, now)) refresh(fetch->key, meta.stored_at_ms, RefreshTrigger::Early);
          return;
        }
        case Freshness::Revalidate:
          if (!entry->meta.negative) {
            fill_l1(fetch->key, *entry);
            const int64_t stored_at = entry->meta.stored_at_ms;
            Answer answer = from_entry(std::make_shared<const Entry>(std::move(*entry)), CacheSource::Stale);
            answer.stale = StaleReason::Revalidate;
            finish(fetch, std::move(answer));
            refresh(fetch->key, stored_at, RefreshTrigger::Stale);
            return;
          }
          break;
        case Freshness::StaleIfError:
          if (!entry->meta.negative) fetch->stale = std::move(*entry);
          break;
        case Freshness::Gone:
          break;
      }
    }
  }
  lease_then_origin(fetch);
}

void TieredCache::lease_then_origin(const std::shared_ptr<Fetch>& fetch) {
  switch (lease_->acquire(fetch->key, fetch->lease_token)) {
    case FleetLease::Outcome::Acquired:
      metrics_.lease(LeaseOutcome::Acquired);
      submit_origin(fetch);
      return;
    case FleetLease::Outcome::Unavailable:
      fetch->lease_token.clear();
      submit_origin(fetch);
      return;
    case FleetLease::Outcome::HeldElsewhere:
      fetch->lease_token.clear();
      metrics_.lease(LeaseOutcome::Waited);
      break;
  }
  const int64_t deadline = wall_clock_ms() + options_.lease_wait_ms;
  waiter_->wait(fetch->key, deadline, [this, fetch](FillWaiter::Outcome outcome, std::optional<Entry> entry) {
    switch (outcome) {
      case FillWaiter::Outcome::Filled: {
        fill_l1(fetch->key, *entry);
        Answer answer = from_entry(std::make_shared<const Entry>(std::move(*entry)), CacheSource::L2);
        answer.collapsed = true;
        finish(fetch, std::move(answer));
        return;
      }
      case FillWaiter::Outcome::LeaseGone:
        // The holder finished without a value or died: try to take over.
        if (!l2_pool_.submit([this, fetch] { guarded(fetch, [&] { lease_then_origin(fetch); }); })) {
          finish(fetch, failure(Answer::Kind::Overloaded, "too many requests waiting for Redis"));
        }
        return;
      case FillWaiter::Outcome::TimedOut:
        metrics_.lease(LeaseOutcome::TimedOut);
        submit_origin(fetch);
        return;
    }
  });
}

void TieredCache::call_origin(const std::shared_ptr<Fetch>& fetch) {
  const auto started = std::chrono::steady_clock::now();
  OriginResponse response = origin_.fetch(fetch->key);
  const int64_t took_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();

  switch (response.status) {
    case OriginResponse::Status::Ok:
    case OriginResponse::Status::NotFound: {
      const bool found = response.status == OriginResponse::Status::Ok;
      record_origin_result(response.status);
      std::shared_ptr<const Entry> stored = store_origin_answer(fetch->key, response, took_ms, fetch->lease_token);
      Answer answer;
      answer.kind = found ? Answer::Kind::Data : Answer::Kind::NotFound;
      answer.source = CacheSource::Origin;
      answer.stored = stored != nullptr;
      if (stored) {
        answer.entry = std::move(stored);
      } else if (found) {
        auto entry = std::make_shared<Entry>();
        entry->meta.stored_at_ms = wall_clock_ms();
        entry->meta.fresh_until_ms = entry->meta.stored_at_ms;  // not cached: no freshness to give
        entry->data = valid_utf8(response.body) ? std::move(response.body) : to_valid_utf8(response.body);
        entry->meta.etag = content_hash(entry->data);
        answer.entry = std::move(entry);
      }
      if (!found) answer.detail = response.detail;
      finish(fetch, std::move(answer));
      return;
    }
    case OriginResponse::Status::Timeout:
    case OriginResponse::Status::Error: {
      const bool timeout = response.status == OriginResponse::Status::Timeout;
      record_origin_result(response.status);
      // An error never replaces a good entry; a stale one may stand in for it.
      std::shared_ptr<const Entry> stale;
      const int64_t now = wall_clock_ms();
      l1_.visit(fetch->key, now, [&](const L1EntryView& view) {
        if (!view.meta.negative && classify(view.meta, now) != Freshness::Gone) {
          stale = std::make_shared<const Entry>(Entry{view.meta, std::string(view.data)});
        }
      });
      if (!stale && fetch->stale && classify(fetch->stale->meta, now) != Freshness::Gone) {
        stale = std::make_shared<const Entry>(std::move(*fetch->stale));
      }
      if (stale) {
        Answer answer = from_entry(std::move(stale), CacheSource::Stale);
        answer.stale = StaleReason::Error;
        answer.detail = response.detail;
        finish(fetch, std::move(answer));
        return;
      }
      finish(fetch, failure(timeout ? Answer::Kind::OriginTimeout : Answer::Kind::OriginError, response.detail));
      return;
    }
  }
}

std::shared_ptr<const Entry> TieredCache::store_origin_answer(const std::string& key, OriginResponse& response,
                                                              int64_t compute_ms, std::string& lease_token) {
  const bool found = response.status == OriginResponse::Status::Ok;
  if (!found && options_.negative_ttl_ms <= 0) return nullptr;
  if (found && response.body.size() > options_.max_object_bytes) {
    log::debug("origin answer too large to cache", {{"bytes", std::to_string(response.body.size())}});
    return nullptr;
  }
  auto entry = std::make_shared<Entry>();
  EntryMeta& meta = entry->meta;
  meta.stored_at_ms = wall_clock_ms();
  meta.compute_ms = static_cast<int32_t>(std::min<int64_t>(compute_ms, INT32_MAX));
  if (found) {
    int64_t ttl_ms = jittered_ttl_ms(key, options_.ttl_ms, options_.ttl_jitter);
    int64_t swr_s = options_.stale_while_revalidate_s;
    int64_t sie_s = options_.stale_if_error_s;
    if (options_.respect_origin_headers && !response.cache_control.empty()) {
      const OriginCachePolicy policy = parse_cache_control(response.cache_control);
      if (policy.no_store) return nullptr;
      if (policy.max_age_s) {
        if (*policy.max_age_s == 0) return nullptr;  // stale at once: nothing worth keeping
        ttl_ms = *policy.max_age_s * 1000;
      }
      swr_s = policy.stale_while_revalidate_s.value_or(swr_s);
      sie_s = policy.stale_if_error_s.value_or(sie_s);
    }
    meta.fresh_until_ms = meta.stored_at_ms + ttl_ms;
    meta.stale_while_revalidate_s = static_cast<int32_t>(std::min<int64_t>(swr_s, INT32_MAX));
    meta.stale_if_error_s = static_cast<int32_t>(std::min<int64_t>(sie_s, INT32_MAX));
    // The body becomes a JSON string: make it valid UTF-8 once, here.
    entry->data = valid_utf8(response.body) ? std::move(response.body) : to_valid_utf8(response.body);
  } else {
    meta.negative = true;
    meta.fresh_until_ms = meta.stored_at_ms + options_.negative_ttl_ms;
  }
  meta.etag = content_hash(entry->data);

  if (l2_ != nullptr) {
    // Redis first, so a replica asked right after this answer finds it
    // there. One pipeline, run by Redis in this order: the value, its tags,
    // the notice that wakes other replicas' waiters, then the lease release.
    const int64_t keep_ms = std::max<int64_t>(1, retention_ms(meta, meta.stored_at_ms));
    const std::string keep = std::to_string(keep_ms);
    std::vector<RedisStore::Command> fill;
    fill.push_back({"SET", l2_->namespaced(value_key(key)), encode_entry(*entry), "PX", keep});
    for (const std::string& tag : response.tags) {
      const std::string set = l2_->namespaced(tag_key(tag));
      fill.push_back({"SADD", set, key});
      // The tag set lives at least as long as its longest-kept member.
      fill.push_back({"PEXPIRE", set, keep, "GT"});
      fill.push_back({"PEXPIRE", set, keep, "NX"});
    }
    const std::size_t notice = fill.size();
    fill.push_back(events_->publish_command(CacheEvent::Filled, key, meta.stored_at_ms));
    if (!lease_token.empty()) fill.push_back(lease_->release_command(key, lease_token));
    const std::vector<RedisStore::Reply> replies = l2_->pipeline(fill);
    if (replies[notice].status == RedisStore::Status::Ok) metrics_.invalidation_sent();
    // Released only if the release ran; otherwise the caller tries again on
    // another connection (the script deletes only our own lease, so a retry
    // is safe), rather than leaving other replicas waiting out the lease TTL.
    if (!lease_token.empty() && replies.back().status == RedisStore::Status::Ok) lease_token.clear();
  }
  fill_l1(key, *entry);
  return entry;
}

void TieredCache::fill_l1(const std::string& key, const Entry& entry) {
  l1_.put(key, entry.meta, entry.data, wall_clock_ms());
}

// ---- background refresh (stale-while-revalidate, early refresh) ----------

void TieredCache::refresh(const std::string& key, int64_t known_stored_at_ms, RefreshTrigger trigger) {
  if (!refreshes_.join(key, [](const bool&) {})) return;  // already refreshing here
  if (trigger == RefreshTrigger::Early) metrics_.early_refresh();
  // Redis work on the L2 pool, the origin call on the origin pool: a slow
  // origin must not hold the threads that serve L2 reads.
  auto guarded_step = [this, key](auto step) {
    return [this, key, step] {
      try {
        if (step()) return;  // the step handed on to the next one
      } catch (const std::exception& e) {
        log::error("refresh failed", {{"error", e.what()}});
      }
      refreshes_.complete(key, true);
    };
  };
  auto origin_step = [this, key](std::string token) {
    const auto started = std::chrono::steady_clock::now();
    OriginResponse response = origin_.fetch(key);
    const int64_t took_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
    record_origin_result(response.status);
    // A failed refresh leaves the current entry alone: it keeps being served
    // stale until its windows end.
    if (response.status == OriginResponse::Status::Ok || response.status == OriginResponse::Status::NotFound) {
      store_origin_answer(key, response, took_ms, token);  // releases the lease when it writes to Redis
    }
    if (!token.empty()) lease_->release(key, token);
    return false;
  };
  auto l2_step = [this, key, known_stored_at_ms, origin_step, guarded_step]() {
    std::string token;
    if (refreshed_elsewhere(key, known_stored_at_ms)) return false;
    switch (lease_->acquire(key, token)) {
      case FleetLease::Outcome::HeldElsewhere:
        return false;  // that replica refreshes for everyone
      case FleetLease::Outcome::Acquired:
        metrics_.lease(LeaseOutcome::Acquired);
        break;
      case FleetLease::Outcome::Unavailable:
        token.clear();
        break;
    }
    if (origin_pool_.submit(guarded_step([origin_step, token] { return origin_step(token); }))) return true;
    if (!token.empty()) lease_->release(key, token);
    return false;
  };
  const bool queued = l2_ != nullptr ? l2_pool_.submit(guarded_step(l2_step))
                                     : origin_pool_.submit(guarded_step([origin_step] { return origin_step({}); }));
  if (!queued) refreshes_.complete(key, false);  // busy: the next read tries again
}

bool TieredCache::refreshed_elsewhere(const std::string& key, int64_t known_stored_at_ms) {
  const auto got = l2_->get(value_key(key));
  if (got.status != RedisStore::Status::Ok) return false;
  std::optional<Entry> entry = decode_entry(got.value);
  if (!entry || entry->meta.stored_at_ms <= known_stored_at_ms ||
      classify(entry->meta, wall_clock_ms()) != Freshness::Fresh) {
    return false;
  }
  fill_l1(key, *entry);
  return true;
}

void TieredCache::record_origin_result(OriginResponse::Status status) {
  switch (status) {
    case OriginResponse::Status::Ok: metrics_.origin_result(OriginResult::Ok); return;
    case OriginResponse::Status::NotFound: metrics_.origin_result(OriginResult::NotFound); return;
    case OriginResponse::Status::Timeout: metrics_.origin_result(OriginResult::Timeout); return;
    case OriginResponse::Status::Error: metrics_.origin_result(OriginResult::Error); return;
  }
}

// ---- purges and events from other replicas -------------------------------

void TieredCache::mark_stale_in_l2(const std::string& key) {
  const auto got = l2_->get(value_key(key));
  if (got.status != RedisStore::Status::Ok) return;
  std::optional<Entry> entry = decode_entry(got.value);
  if (!entry) return;
  const int64_t now = wall_clock_ms();
  entry->meta.fresh_until_ms = std::min(entry->meta.fresh_until_ms, now);
  entry->meta.stored_at_ms = std::min(entry->meta.stored_at_ms, entry->meta.fresh_until_ms);
  const int64_t keep_ms = retention_ms(entry->meta, now);
  if (keep_ms <= 0) {
    l2_->del(value_key(key));
  } else {
    l2_->set(value_key(key), encode_entry(*entry), keep_ms);
  }
}

void TieredCache::purge(const std::string& key, bool soft, std::function<void(bool)> done) {
  metrics_.purge(soft ? PurgeKind::Soft : PurgeKind::Key);
  if (soft) {
    l1_.mark_stale(key, wall_clock_ms());
  } else {
    l1_.erase(key);
  }
  if (l2_ == nullptr) {
    done(true);
    return;
  }
  auto shared_done = std::make_shared<std::function<void(bool)>>(std::move(done));
  const bool queued = l2_pool_.submit([this, key, soft, shared_done] {
    bool ok = false;
    if (soft) {
      mark_stale_in_l2(key);
      ok = events_->publish(CacheEvent::MarkedStale, key);
    } else {
      ok = l2_->del(value_key(key)) != RedisStore::Status::Unavailable &&
           events_->publish(CacheEvent::Purged, key);
    }
    if (ok) metrics_.invalidation_sent();
    (*shared_done)(ok);
  });
  if (!queued) (*shared_done)(false);
}

void TieredCache::purge_tag(const std::string& tag, bool soft, std::function<void(bool, std::size_t)> done) {
  metrics_.purge(PurgeKind::Tag);
  if (l2_ == nullptr) {
    done(false, 0);  // tags live in Redis only
    return;
  }
  auto shared_done = std::make_shared<std::function<void(bool, std::size_t)>>(std::move(done));
  const bool queued = l2_pool_.submit([this, tag, soft, shared_done] {
    const std::string set = l2_->namespaced(tag_key(tag));
    const auto members = l2_->run({"SMEMBERS", set});
    if (members.status != RedisStore::Status::Ok) {
      (*shared_done)(false, 0);
      return;
    }
    const int64_t now = wall_clock_ms();
    for (const std::string& key : members.elements) {
      if (soft) {
        l1_.mark_stale(key, now);
        mark_stale_in_l2(key);
      } else {
        l1_.erase(key);
        l2_->del(value_key(key));
      }
      if (events_->publish(soft ? CacheEvent::MarkedStale : CacheEvent::Purged, key)) metrics_.invalidation_sent();
    }
    if (!soft) l2_->run({"DEL", set});
    (*shared_done)(true, members.elements.size());
  });
  if (!queued) (*shared_done)(false, 0);
}

void TieredCache::on_event(CacheEvent event, const std::string& key, int64_t stamp) {
  metrics_.invalidation_received();
  switch (event) {
    case CacheEvent::Filled:
      // Another replica stored an answer: drop ours if it is older, so the
      // next read takes the new one from Redis, and wake anyone waiting for it.
      l1_.erase_if_older(key, stamp);
      waiter_->notify_filled(key);
      return;
    case CacheEvent::Purged:
      l1_.erase(key);
      return;
    case CacheEvent::MarkedStale:
      l1_.mark_stale(key, wall_clock_ms());
      return;
  }
}

}  // namespace scalecache
