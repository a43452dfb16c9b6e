#pragma once
// What the shared tier needs from Redis, whatever its topology: commands in
// pipelines, reduced replies, and whether Redis is up. RedisStore serves one
// server (standalone); ClusterStore routes each command to the node owning
// its key's slot, over one RedisStore per node. redis_shared_tier and
// event_bus see only this interface, so they work the same on both.

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace scalecache {

class RedisCommands {
 public:
  enum class Status { Ok, Miss, Unavailable };
  // A reply reduced to what scalecache uses. status is Unavailable when the
  // command could not be run or Redis answered with an error (text holds it).
  struct Reply {
    Status status = Status::Unavailable;
    std::string text;                     // string or status reply, or the error's text
    long long integer = 0;                // integer reply
    std::vector<std::string> elements;    // an array's strings, a nested array's flattened into it
    std::vector<long long> elements_int;  // an array's integers (a script's {a, b})
    bool nil = false;
  };
  using Command = std::vector<std::string>;

  virtual ~RedisCommands() = default;

  // Several commands, run by Redis in order for each server they go to; one
  // reply per command, in the order given. Replies the store could not get
  // are Unavailable (their commands may or may not have run). Binary-safe.
  virtual std::vector<Reply> pipeline(const std::vector<Command>& commands) = 0;
  // One command: a pipeline of one.
  Reply run(std::initializer_list<std::string_view> args) { return pipeline({Command(args.begin(), args.end())})[0]; }
  // As pipeline(), on connections of their own, opened and closed for these
  // commands: for what must get through when every pooled connection is busy
  // or broken. Commands that must share a connection (ASKING and the command
  // it allows) can, which one fresh connection per command would not allow.
  virtual std::vector<Reply> pipeline_once_fresh(const std::vector<Command>& commands) = 0;
  // One command so: a fresh pipeline of one.
  Reply run_once_fresh(const Command& command) { return pipeline_once_fresh({command})[0]; }

  virtual bool up() const = 0;
  virtual std::string endpoint() const = 0;  // where Redis is, for logs; never a password
};

}  // namespace scalecache
