#include "redis/redis_job_stream.hpp"

#include <hiredis/hiredis.h>

#include <charconv>

#include "redis/lua_script.hpp"
#include "redis/redis_connection.hpp"
#include "util/log.hpp"

namespace scalecache {
namespace {

using Status = RedisStore::Status;
using Command = RedisStore::Command;

constexpr const char* kGroup = "workers";
// Dead letters are for people to look at; the newest this many are kept.
constexpr const char* kDeadKeep = "10000";

// Bounded enqueue. KEYS: stream. ARGV: max length, then the job's fields and
// values. The entry id, or nil when the stream holds max length entries
// already. Entries are deleted only when done, so the length is the backlog.
const LuaScript kEnqueueScript{R"lua(
if redis.call('xlen', KEYS[1]) >= tonumber(ARGV[1]) then return false end
return redis.call('xadd', KEYS[1], '*', unpack(ARGV, 2))
)lua"};

// Done. KEYS: stream, tries. ARGV: group, entry id.
const LuaScript kAckScript{R"lua(
redis.call('xack', KEYS[1], ARGV[1], ARGV[2])
redis.call('xdel', KEYS[1], ARGV[2])
redis.call('hdel', KEYS[2], ARGV[2])
return 1
)lua"};

// Dead letter. KEYS: stream, tries, dead stream. ARGV: group, entry id, kept,
// then the fields and values to keep (the job's and the reason).
const LuaScript kDeadScript{R"lua(
redis.call('xadd', KEYS[3], 'MAXLEN', '~', ARGV[3], '*', unpack(ARGV, 4))
redis.call('xack', KEYS[1], ARGV[1], ARGV[2])
redis.call('xdel', KEYS[1], ARGV[2])
redis.call('hdel', KEYS[2], ARGV[2])
return 1
)lua"};

RedisStore::Options with_scripts(RedisStore::Options options) {
  for (const LuaScript* script : {&kEnqueueScript, &kAckScript, &kDeadScript})
    options.scripts.push_back(script->source);
  return options;
}

std::string text_of(const redisReply* r) {
  return r != nullptr && r->str != nullptr ? std::string(r->str, r->len) : "";
}

// [[id, [field, value, ...]], ...] as deliveries; entries deleted meanwhile come as nil and are skipped.
std::vector<RedisJobStream::Delivery> parse_entries(const redisReply* entries) {
  std::vector<RedisJobStream::Delivery> out;
  if (entries == nullptr || entries->type != REDIS_REPLY_ARRAY) return out;
  for (size_t i = 0; i < entries->elements; ++i) {
    const redisReply* entry = entries->element[i];
    if (entry->type != REDIS_REPLY_ARRAY || entry->elements != 2) continue;
    const redisReply* fields = entry->element[1];
    if (fields->type != REDIS_REPLY_ARRAY) continue;
    RedisJobStream::Delivery delivery;
    delivery.id = text_of(entry->element[0]);
    for (size_t f = 0; f + 1 < fields->elements; f += 2) {
      delivery.fields.emplace_back(text_of(fields->element[f]), text_of(fields->element[f + 1]));
    }
    delivery.job = decode_job(delivery.fields);
    out.push_back(std::move(delivery));
  }
  return out;
}

// The millisecond part of a stream entry id ("1700000000000-0").
int64_t id_ms(const std::string& id) {
  int64_t ms = 0;
  std::from_chars(id.data(), id.data() + id.size(), ms);
  return ms;
}

}  // namespace

void RedisJobStream::ReplyDeleter::operator()(void* reply) const { freeReplyObject(reply); }

RedisJobStream::RedisJobStream(Options options, std::function<void(bool)> on_health)
    : options_(std::move(options)),
      keys_(options_.key_prefix),
      store_(with_scripts(options_.store), std::move(on_health)) {}

RedisJobStream::~RedisJobStream() {
  if (reader_ != nullptr) redisFree(reader_);
}

JobQueue::Enqueued RedisJobStream::enqueue(const Job& job) {
  Command command{"EVALSHA", kEnqueueScript.sha1, "1", keys_.jobs(), std::to_string(options_.max_length)};
  for (auto& [field, value] : encode_job(job)) {
    command.push_back(field);
    command.push_back(value);
  }
  const RedisStore::Reply reply = store_.pipeline({command})[0];
  if (reply.status == Status::Ok) return Enqueued::Queued;
  return reply.nil ? Enqueued::Full : Enqueued::Unavailable;
}

RedisJobStream::RawReply RedisJobStream::reader_command(const std::vector<std::string>& args, int64_t timeout_ms,
                                                        std::string& error) {
  if (reader_ != nullptr && reader_timeout_ms_ != timeout_ms) {
    redisFree(reader_);  // hiredis 0.14 sets the timeout per connection
    reader_ = nullptr;
  }
  if (reader_ == nullptr) {
    reader_ = connect_redis(options_.store.address, options_.store.password, options_.store.connect_timeout_ms,
                            timeout_ms, error);
    reader_timeout_ms_ = timeout_ms;
    if (reader_ == nullptr) return nullptr;
  }
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const std::string& arg : args) {
    argv.push_back(arg.data());
    lens.push_back(arg.size());
  }
  RawReply reply(redisCommandArgv(reader_, static_cast<int>(argv.size()), argv.data(), lens.data()));
  if (!reply || reader_->err != 0) {
    error = reader_->errstr;
    redisFree(reader_);  // a hiredis context is dead after any error
    reader_ = nullptr;
    return nullptr;
  }
  const auto* r = static_cast<const redisReply*>(reply.get());
  if (r->type == REDIS_REPLY_ERROR) {
    error = text_of(r);
    return nullptr;
  }
  return reply;
}

bool RedisJobStream::ensure_group() {
  const RedisStore::Reply reply = store_.run({"XGROUP", "CREATE", keys_.jobs(), kGroup, "0", "MKSTREAM"});
  // An error reply is Unavailable too; BUSYGROUP says the group is there already.
  return reply.status == Status::Ok || reply.text.starts_with("BUSYGROUP");
}

std::vector<RedisJobStream::Delivery> RedisJobStream::read(const std::string& consumer, std::size_t count,
                                                           int64_t block_ms) {
  std::string error;
  const RawReply reply =
      reader_command({"XREADGROUP", "GROUP", kGroup, consumer, "COUNT", std::to_string(count), "BLOCK",
                      std::to_string(block_ms), "STREAMS", keys_.jobs(), ">"},
                     block_ms + options_.store.timeout_ms + options_.store.connect_timeout_ms, error);
  if (!reply) {
    if (error.starts_with("NOGROUP")) ensure_group();  // the stream was deleted under us
    if (!error.empty()) log::debug("job read failed", {{"error", error}});
    return {};
  }
  const auto* r = static_cast<const redisReply*>(reply.get());
  if (r->type != REDIS_REPLY_ARRAY || r->elements == 0) return {};  // nil: nothing within block_ms
  const redisReply* stream = r->element[0];
  if (stream->type != REDIS_REPLY_ARRAY || stream->elements != 2) return {};
  return parse_entries(stream->element[1]);
}

std::vector<RedisJobStream::Delivery> RedisJobStream::claim_idle(const std::string& consumer, std::size_t count,
                                                                 int64_t min_idle_ms) {
  std::string error;
  const RawReply reply = reader_command({"XAUTOCLAIM", keys_.jobs(), kGroup, consumer, std::to_string(min_idle_ms),
                                         "0-0", "COUNT", std::to_string(count)},
                                        options_.store.timeout_ms + options_.store.connect_timeout_ms, error);
  if (!reply) return {};
  const auto* r = static_cast<const redisReply*>(reply.get());
  if (r->type != REDIS_REPLY_ARRAY || r->elements < 2) return {};
  return parse_entries(r->element[1]);
}

void RedisJobStream::keep(const std::string& consumer, const std::vector<std::string>& ids) {
  if (ids.empty()) return;
  Command command{"XCLAIM", keys_.jobs(), kGroup, consumer, "0"};
  command.insert(command.end(), ids.begin(), ids.end());
  command.emplace_back("JUSTID");  // JUSTID: the delivery count stays as it is
  store_.pipeline({command});
}

void RedisJobStream::hand_back(const std::string& consumer, const std::vector<std::string>& ids, int64_t idle_ms) {
  if (ids.empty()) return;
  Command command{"XCLAIM", keys_.jobs(), kGroup, consumer, "0"};
  command.insert(command.end(), ids.begin(), ids.end());
  command.insert(command.end(), {"IDLE", std::to_string(idle_ms), "JUSTID"});
  store_.pipeline({command});
}

int64_t RedisJobStream::count_try(const std::string& id) {
  const RedisStore::Reply reply = store_.pipeline({{"HINCRBY", keys_.job_tries(), id, "1"}})[0];
  return reply.status == Status::Ok ? reply.integer : 0;
}

bool RedisJobStream::ack(const std::string& id) {
  return store_.pipeline({{"EVALSHA", kAckScript.sha1, "2", keys_.jobs(), keys_.job_tries(), kGroup, id}})[0].status ==
         Status::Ok;
}

bool RedisJobStream::dead_letter(const std::string& id, const StreamFields& fields, const std::string& reason) {
  Command command{"EVALSHA",         kDeadScript.sha1, "3", keys_.jobs(), keys_.job_tries(),
                  keys_.dead_jobs(), kGroup,           id,  kDeadKeep};
  for (const auto& [field, value] : fields) {
    command.push_back(field);
    command.push_back(value);
  }
  command.insert(command.end(), {"id", id, "reason", reason});
  return store_.pipeline({command})[0].status == Status::Ok;
}

RedisJobStream::Stats RedisJobStream::stats() {
  const std::vector<RedisStore::Reply> replies = store_.pipeline(
      {{"XLEN", keys_.jobs()}, {"XPENDING", keys_.jobs(), kGroup}, {"XRANGE", keys_.jobs(), "-", "+", "COUNT", "1"}});
  Stats stats;
  if (replies[0].status != Status::Ok) return stats;
  stats.ok = true;
  stats.length = replies[0].integer;
  // XPENDING's summary: [count, smallest id, largest id, [[consumer, count]...]]
  if (replies[1].status == Status::Ok && !replies[1].elements_int.empty()) stats.pending = replies[1].elements_int[0];
  // XRANGE: [[id, [fields]]], read flattened: the id first.
  if (replies[2].status == Status::Ok && !replies[2].elements.empty()) {
    stats.oldest_enqueued_ms = id_ms(replies[2].elements[0]);
  }
  return stats;
}

}  // namespace scalecache
