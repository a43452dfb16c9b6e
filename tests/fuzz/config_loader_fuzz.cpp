// libFuzzer target: scalecache::load_config (src/config/config.hpp).
// Input: YAML, optionally followed by a line "%%ENV%%" and NAME=value lines
// given as the environment. The YAML goes to a private temporary file, as
// the service reads it. ConfigError is the one allowed outcome for bad input;
// any other exception, a crash or undefined behaviour is a bug.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace {

const std::string& temp_path() {
  static const std::string path = [] {
    char tmpl[] = "/tmp/scalecache-config-fuzz-XXXXXX";
    const int fd = mkstemp(tmpl);
    if (fd < 0) std::abort();
    close(fd);
    return std::string(tmpl);
  }();
  return path;
}

struct RemoveAtExit {
  ~RemoveAtExit() { std::remove(temp_path().c_str()); }
} remove_at_exit;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  constexpr std::string_view kSeparator = "\n%%ENV%%\n";
  const auto split = input.find(kSeparator);
  const std::string_view yaml = input.substr(0, split);

  std::vector<std::string> env_storage;
  if (split != std::string_view::npos) {
    std::string_view rest = input.substr(split + kSeparator.size());
    while (!rest.empty() && env_storage.size() < 32) {
      const auto nl = rest.find('\n');
      std::string line(rest.substr(0, nl));
      // Environment entries are C strings: they can't hold a NUL.
      if (line.find('\0') == std::string::npos && !line.empty()) env_storage.push_back(line);
      rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
    }
  }
  std::vector<char*> env;
  for (auto& e : env_storage) env.push_back(e.data());
  env.push_back(nullptr);

  {
    std::ofstream out(temp_path(), std::ios::binary | std::ios::trunc);
    out.write(yaml.data(), static_cast<std::streamsize>(yaml.size()));
  }
  try {
    (void)scalecache::load_config(temp_path(), env.data());
  } catch (const scalecache::ConfigError&) {
    // The documented outcome for bad configuration.
  } catch (const std::exception& e) {
    std::fprintf(stderr, "config_loader_fuzz: load_config threw %s: %s\n", typeid(e).name(), e.what());
    std::abort();
  }
  return 0;
}
