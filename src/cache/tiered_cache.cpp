#include "cache/tiered_cache.hpp"

#include <algorithm>
#include <chrono>

#include "cache/entry_codec.hpp"
#include "util/log.hpp"
#include "util/utf8.hpp"

namespace scalecache {
namespace {

FetchResult overloaded() {
  return {FetchResult::Status::Overloaded, CacheSource::Origin, nullptr,
          "too many requests waiting for the origin"};
}

}  // namespace

TieredCache::TieredCache(Options options, L1Cache& l1, RedisStore* l2, Origin& origin, Metrics& metrics)
    : options_(options),
      l1_(l1),
      l2_(l2),
      origin_(origin),
      metrics_(metrics),
      l2_pool_("l2-read", l2 != nullptr ? options.l2_threads : 0, options.l2_max_queue),
      origin_pool_("origin", options.origin_threads, options.origin_max_queue) {}

TieredCache::~TieredCache() { stop(); }

void TieredCache::stop() {
  l2_pool_.stop();
  origin_pool_.stop();
}

void TieredCache::fetch(const std::string& key, Done done) {
  if (!flights_.join(key, std::move(done))) {
    metrics_.coalesced();
    return;
  }
  if (l2_ != nullptr) {
    if (!l2_pool_.submit([this, key] { guarded(key, [&] { read_l2(key); }); })) {
      flights_.complete(key, overloaded());
    }
    return;
  }
  start_origin_call(key);
}

void TieredCache::start_origin_call(const std::string& key) {
  if (!origin_pool_.submit([this, key] { guarded(key, [&] { call_origin(key); }); })) {
    flights_.complete(key, overloaded());
  }
}

void TieredCache::guarded(const std::string& key, const std::function<void()>& step) {
  try {
    step();
  } catch (const std::exception& e) {
    // Every waiter must get an answer, whatever went wrong on the way.
    log::error("fetch failed", {{"error", e.what()}});
    flights_.complete(key, {FetchResult::Status::OriginError, CacheSource::Origin, nullptr, "internal error"});
  }
}

void TieredCache::fill_l1(const std::string& key, const Entry& entry) {
  const int64_t expires = std::min(entry.meta.stored_at_ms + options_.l1_ttl_ms, entry.meta.fresh_until_ms);
  l1_.put(key, entry.meta, entry.data, expires);
}

void TieredCache::read_l2(const std::string& key) {
  RedisStore::GetResult got = l2_->get(key);
  if (got.status == RedisStore::Status::Ok) {
    std::optional<Entry> entry = decode_entry(got.value);
    if (entry && entry->meta.fresh_until_ms > wall_clock_ms()) {
      fill_l1(key, *entry);
      auto shared = std::make_shared<const Entry>(std::move(*entry));
      flights_.complete(key, {FetchResult::Status::Ok, CacheSource::L2, std::move(shared), {}});
      return;
    }
  }
  // A miss, an unreadable entry or an unreachable Redis all mean: ask the origin.
  start_origin_call(key);
}

void TieredCache::call_origin(const std::string& key) {
  const auto started = std::chrono::steady_clock::now();
  OriginResponse response = origin_.fetch(key);
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);

  switch (response.status) {
    case OriginResponse::Status::Ok: {
      metrics_.origin_result(OriginResult::Ok);
      auto entry = std::make_shared<Entry>();
      entry->meta.stored_at_ms = wall_clock_ms();
      entry->meta.fresh_until_ms = entry->meta.stored_at_ms + options_.ttl_ms;
      entry->meta.compute_ms = static_cast<int32_t>(std::min<int64_t>(took.count(), INT32_MAX));
      // The body becomes a JSON string: make it valid UTF-8 once, here.
      entry->data = valid_utf8(response.body) ? std::move(response.body) : to_valid_utf8(response.body);
      if (entry->data.size() <= options_.max_object_bytes) {
        // Redis first, so a replica asked right after this answer finds it there.
        if (l2_ != nullptr) l2_->set(key, encode_entry(*entry), options_.ttl_ms);
        fill_l1(key, *entry);
      } else {
        log::debug("origin answer too large to cache", {{"bytes", std::to_string(entry->data.size())}});
      }
      flights_.complete(key, {FetchResult::Status::Ok, CacheSource::Origin, std::move(entry), {}});
      return;
    }
    case OriginResponse::Status::NotFound:
      metrics_.origin_result(OriginResult::NotFound);
      flights_.complete(key, {FetchResult::Status::NotFound, CacheSource::Origin, nullptr, response.detail});
      return;
    case OriginResponse::Status::Timeout:
      metrics_.origin_result(OriginResult::Timeout);
      flights_.complete(key, {FetchResult::Status::OriginTimeout, CacheSource::Origin, nullptr, response.detail});
      return;
    case OriginResponse::Status::Error:
      metrics_.origin_result(OriginResult::Error);
      flights_.complete(key, {FetchResult::Status::OriginError, CacheSource::Origin, nullptr, response.detail});
      return;
  }
}

void TieredCache::purge(const std::string& key, std::function<void(bool)> done) {
  l1_.erase(key);
  if (l2_ == nullptr) {
    done(true);
    return;
  }
  auto shared_done = std::make_shared<std::function<void(bool)>>(std::move(done));
  if (!l2_pool_.submit([this, key, shared_done] {
        (*shared_done)(l2_->del(key) != RedisStore::Status::Unavailable);
      })) {
    (*shared_done)(false);
  }
}

}  // namespace scalecache
