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

EventBus::EventBus(Options options, RedisCommands& publisher)
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

RedisCommands::Command EventBus::publish_command(CacheEvent event, std::string_view key, int64_t stamp) const {
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
  return publisher_.pipeline({publish_command(event, key, stamp)})[0].status == RedisCommands::Status::Ok;
}

void EventBus::handle_message(std::string_view payload) {
  if (payload.size() < kHeaderLength || payload[1 + kIdLength] != ':' || payload[kHeaderLength - 1] != ':') return;
  if (payload.substr(1, kIdLength) == instance_id_) return;
  const char type = payload[0];
  if (type != 'F' && type != 'P' && type != 'S' && type != 'U' && type != 'X') return;
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
    bool listened = false;
    try {
      listened = listen_once(subscribed_before);
    } catch (const std::exception& e) {
      // Whatever broke (bad_alloc included), invalidations must not stop for good.
      log::error("invalidation listener failed; reconnecting", {{"error", e.what()}});
    }
    subscribed_.store(false);
    if (listened) {
      backoff_ms = 100;  // it was subscribed until the connection broke: reconnect at once
      continue;
    }
    std::unique_lock lock(stop_mutex_);
    stop_cv_.wait_for(lock, std::chrono::milliseconds(backoff_ms), [this] { return stopping_.load(); });
    backoff_ms = std::min<int64_t>(backoff_ms * 2, 5000);
  }
}

bool EventBus::subscribe(redisContext* c) {
  const char* argv[] = {"SUBSCRIBE", options_.channel.c_str()};
  const size_t lens[] = {9, options_.channel.size()};
  std::unique_ptr<redisReply, decltype(&freeReplyObject)> reply(
      static_cast<redisReply*>(redisCommandArgv(c, 2, argv, lens)), &freeReplyObject);
  if (!reply || c->err != 0) return false;
  // The confirmation is ["subscribe", channel, count]; anything else (an
  // error such as NOPERM from an ACL) means no message will ever arrive.
  const bool confirmed = reply->type == REDIS_REPLY_ARRAY && reply->elements == 3 &&
                         reply->element[0]->type == REDIS_REPLY_STRING &&
                         std::string_view(reply->element[0]->str, reply->element[0]->len) == "subscribe";
  if (!confirmed) {
    const std::string why = reply->type == REDIS_REPLY_ERROR ? std::string(reply->str, reply->len) : "unexpected reply";
    log::warn("invalidation subscription refused; retrying", {{"channel", options_.channel}, {"reason", why}});
    if (options_.on_subscribe_error) options_.on_subscribe_error();
  }
  return confirmed;
}

bool EventBus::listen_once(bool& subscribed_before) {
  std::string error;
  // Reads are driven by poll() below; the command timeout only bounds a
  // read that poll() said would not block.
  redisContext* c = connect_redis(options_.address(), options_.password, options_.connect_timeout_ms, 1000, error);
  if (c == nullptr) return false;
  std::unique_ptr<redisContext, decltype(&redisFree)> owned(c, &redisFree);
  if (!subscribe(c)) return false;
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
  return true;
}

}  // namespace scalecache
