#include "util/log.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace scalecache::log {
namespace {

std::atomic<int> current_level{static_cast<int>(Level::Info)};

const char* level_name(Level level) {
  switch (level) {
    case Level::Error: return "error";
    case Level::Warn: return "warn";
    case Level::Info: return "info";
    case Level::Debug: return "debug";
  }
  return "info";
}

std::string timestamp() {
  using namespace std::chrono;
  const auto now = system_clock::now();
  const auto secs = system_clock::to_time_t(now);
  const auto millis = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(millis));
  return buf;
}

}  // namespace

bool set_level(std::string_view name) {
  for (Level l : {Level::Error, Level::Warn, Level::Info, Level::Debug}) {
    if (name == level_name(l)) {
      current_level.store(static_cast<int>(l));
      return true;
    }
  }
  return false;
}

bool enabled(Level level) { return static_cast<int>(level) <= current_level.load(); }

void write(Level level, std::string_view message, const Fields& fields) {
  if (!enabled(level)) return;
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("ts");
  const std::string ts = timestamp();
  w.String(ts.data(), static_cast<rapidjson::SizeType>(ts.size()));
  w.Key("level");
  w.String(level_name(level));
  w.Key("msg");
  w.String(message.data(), static_cast<rapidjson::SizeType>(message.size()));
  for (const auto& [key, value] : fields) {
    w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
    w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
  }
  w.EndObject();
  // One fwrite per line keeps lines from different threads whole.
  std::string line(buf.GetString(), buf.GetSize());
  line.push_back('\n');
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace scalecache::log
