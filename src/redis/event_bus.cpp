#include "redis/event_bus.hpp"

#include <hiredis/hiredis.h>
#include <poll.h>

#include <charconv>
#include <cstdio>
#include <memory>

#include "redis/redis_connection.hpp"
#include "util/log.hpp"
#include "util/random_token.hpp"

namespace scalecache {
namespace {

// Payload: event byte, instance id (32 hex), ':', stamp (16 hex), ':', key.
constexpr std::size_t kIdLength = 32;
constexpr std::size_t kStampLength = 16;
constexpr std::size_t kHeaderLength = 1 + kIdLength + 1 + kStampLength + 1;

}  // namespace

EventBus::EventBus(Options options, RedisStore& publisher)
    : options_(std::move(options)), publisher_(publisher), instance_id_(random_token()) {}

EventBus::~EventBus() { stop(); }

void EventBus::start(SharedTier::EventHandlers handlers) {
  handlers_ = std::move(handlers);
  stopping_.store(false);
  listener_ = std::thread([this] { listen_loop(); });
}

void EventBus::stop() {
  if (!listener_.joinable()) return;
  stopping_.store(true);
  stop_cv_.notify_all();
  listener_.join();
}

RedisStore::Command EventBus::publish_command(CacheEvent event, std::string_view key, int64_t stamp) const {
  char stamp_hex[kStampLength + 1];
  std::snprintf(stamp_hex, sizeof stamp_hex, "%016llx", static_cast<unsigned long long>(stamp));
  std::string payload;
  payload.reserve(kHeaderLength + key.size());
  payload.push_back(static_cast<char>(event));
  payload.append(instance_id_).push_back(':');
  payload.append(stamp_hex, kStampLength).push_back(':');
  payload.append(key);
  return {"PUBLISH", options_.channel, std::move(payload)};
}

bool EventBus::publish(CacheEvent event, std::string_view key, int64_t stamp) {
  return publisher_.pipeline({publish_command(event, key, stamp)})[0].status == RedisStore::Status::Ok;
}

void EventBus::handle_message(std::string_view payload) {
  if (payload.size() < kHeaderLength || payload[1 + kIdLength] != ':' || payload[kHeaderLength - 1] != ':') return;
  if (payload.substr(1, kIdLength) == instance_id_) return;
  const char type = payload[0];
  if (type != 'F' && type != 'P' && type != 'S') return;
  const std::string_view stamp_hex = payload.substr(2 + kIdLength, kStampLength);
  unsigned long long stamp = 0;
  auto [ptr, ec] = std::from_chars(stamp_hex.data(), stamp_hex.data() + stamp_hex.size(), stamp, 16);
  if (ec != std::errc() || ptr != stamp_hex.data() + stamp_hex.size()) return;
  handlers_.on_event(static_cast<CacheEvent>(type), std::string(payload.substr(kHeaderLength)),
                     static_cast<int64_t>(stamp));
}

void EventBus::listen_loop() {
  bool subscribed_before = false;
  int64_t backoff_ms = 100;
  while (!stopping_.load()) {
    std::string error;
    // Reads are driven by poll() below; the command timeout only bounds a
    // read that poll() said would not block.
    redisContext* c = connect_redis(options_.address, options_.password, options_.connect_timeout_ms, 1000, error);
    if (c != nullptr) {
      const char* argv[] = {"SUBSCRIBE", options_.channel.c_str()};
      const size_t lens[] = {9, options_.channel.size()};
      auto* reply = static_cast<redisReply*>(redisCommandArgv(c, 2, argv, lens));
      if (reply != nullptr) freeReplyObject(reply);
      if (reply == nullptr || c->err != 0) {
        redisFree(c);
        c = nullptr;
      }
    }
    if (c == nullptr) {
      subscribed_.store(false);
      std::unique_lock lock(stop_mutex_);
      stop_cv_.wait_for(lock, std::chrono::milliseconds(backoff_ms), [this] { return stopping_.load(); });
      backoff_ms = std::min<int64_t>(backoff_ms * 2, 5000);
      continue;
    }
    backoff_ms = 100;
    subscribed_.store(true);
    if (subscribed_before) {
      log::warn("invalidation subscription re-established; dropping L1, messages may have been missed");
      if (handlers_.on_resubscribed) handlers_.on_resubscribed();
    }
    subscribed_before = true;

    while (!stopping_.load()) {
      void* raw = nullptr;
      // Replies already read into hiredis' buffer first: poll() won't report them.
      if (redisGetReplyFromReader(c, &raw) != REDIS_OK) break;
      if (raw != nullptr) {
        std::unique_ptr<redisReply, decltype(&freeReplyObject)> msg(static_cast<redisReply*>(raw), &freeReplyObject);
        if (msg->type == REDIS_REPLY_ARRAY && msg->elements == 3 && msg->element[2]->type == REDIS_REPLY_STRING) {
          handle_message(std::string_view(msg->element[2]->str, msg->element[2]->len));
        }
        continue;
      }
      pollfd pfd{c->fd, POLLIN, 0};
      const int ready = poll(&pfd, 1, 200);
      if (ready < 0 && errno != EINTR) break;
      if (ready > 0 && redisBufferRead(c) != REDIS_OK) break;
    }
    subscribed_.store(false);
    redisFree(c);
  }
}

}  // namespace scalecache
