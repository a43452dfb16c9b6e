#pragma once
// Structured logging: one JSON object per line on stderr, so container
// runtimes and log shippers can parse it without a format of our own.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace scalecache::log {

enum class Level { Error = 0, Warn = 1, Info = 2, Debug = 3 };

// Returns false for an unknown name; the level is left unchanged then.
bool set_level(std::string_view name);
bool enabled(Level level);

using Fields = std::vector<std::pair<std::string_view, std::string>>;

void write(Level level, std::string_view message, const Fields& fields = {});

inline void error(std::string_view msg, const Fields& f = {}) { write(Level::Error, msg, f); }
inline void warn(std::string_view msg, const Fields& f = {}) { write(Level::Warn, msg, f); }
inline void info(std::string_view msg, const Fields& f = {}) { write(Level::Info, msg, f); }
inline void debug(std::string_view msg, const Fields& f = {}) {
  if (enabled(Level::Debug)) write(Level::Debug, msg, f);
}

}  // namespace scalecache::log
