#pragma once
// The table of configuration keys: name, type, allowed range and where the
// value lives in Config. Loading, environment overrides and --help all walk
// this one table, so a key is declared exactly once.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "config/config.hpp"

namespace scalecache {

struct ConfigKey {
  enum class Type { Integer, Number, Boolean, String };

  std::string section;
  std::string name;
  Type type;
  double min = 0;  // integers and numbers
  double max = 0;
  std::vector<std::string> choices;  // strings: empty means any value
  bool secret = false;               // never echoed back in errors or help
  std::string help;
  std::function<int64_t&(Config&)> integer;
  std::function<double&(Config&)> number;
  std::function<bool&(Config&)> boolean;
  std::function<std::string&(Config&)> string;

  std::string dotted() const { return section + "." + name; }
  std::string env_name() const;  // SCALECACHE_SECTION_KEY_NAME
};

const std::vector<ConfigKey>& config_keys();

}  // namespace scalecache
