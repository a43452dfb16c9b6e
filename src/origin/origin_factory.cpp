#include "origin/origin_factory.hpp"

#include "origin/http_origin.hpp"
#include "origin/simulated_origin.hpp"

namespace scalecache {
namespace {

// origin.kind: queue. The replica hands misses to the worker tier and never
// calls an origin; were it ever asked, it says so instead of inventing data.
class WorkersOnlyOrigin final : public Origin {
 public:
  OriginResponse fetch(const std::string&, std::chrono::milliseconds) override {
    return OriginResponse::failed(OriginStatus::Error, "origin.kind is queue: only workers call the origin");
  }
};

}  // namespace

std::unique_ptr<Origin> make_origin(const OriginConfig& config, const std::string& tag_header) {
  if (config.kind == "http") {
    HttpOrigin::Options options;
    options.base_url = config.url;
    options.connect_timeout = std::chrono::milliseconds(config.connect_timeout_ms);
    options.timeout = std::chrono::milliseconds(config.timeout_ms);
    if (config.max_body_bytes > 0) options.max_body_bytes = static_cast<std::size_t>(config.max_body_bytes);
    options.tag_header = tag_header;
    return std::make_unique<HttpOrigin>(options);
  }
  if (config.kind == "queue") return std::make_unique<WorkersOnlyOrigin>();
  const auto work = config.simulated_work == "cpu" ? SimulatedOrigin::Work::Cpu : SimulatedOrigin::Work::Sleep;
  return std::make_unique<SimulatedOrigin>(std::chrono::milliseconds(config.simulated_delay_ms), work);
}

}  // namespace scalecache
