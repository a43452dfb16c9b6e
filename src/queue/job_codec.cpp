#include "queue/job_codec.hpp"

#include <charconv>

namespace scalecache {
namespace {

std::optional<int64_t> parse_int(const std::string& text) {
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

StreamFields encode_job(const Job& job) {
  StreamFields fields{{"key", job.key},
                      {"attempt", std::to_string(job.attempt)},
                      {"deadline", std::to_string(job.deadline_ms)},
                      {"rid", job.request_id},
                      {"token", job.lease.token},
                      {"enqueued", std::to_string(job.enqueued_ms)}};
  // No generation: the store could not be asked when the lease was taken,
  // and the fill will not be shared (SharedTier::store_fill).
  if (job.lease.generation) fields.emplace_back("gen", std::to_string(*job.lease.generation));
  return fields;
}

std::optional<Job> decode_job(const StreamFields& fields) {
  Job job;
  bool has_key = false, has_token = false;
  std::optional<int64_t> attempt, deadline, enqueued;
  for (const auto& [name, value] : fields) {
    if (name == "key") {
      job.key = value;
      has_key = true;
    } else if (name == "attempt") {
      attempt = parse_int(value);
    } else if (name == "deadline") {
      deadline = parse_int(value);
    } else if (name == "rid") {
      job.request_id = value;
    } else if (name == "token") {
      job.lease.token = value;
      has_token = true;
    } else if (name == "enqueued") {
      enqueued = parse_int(value);
    } else if (name == "gen") {
      job.lease.generation = parse_int(value);
      if (!job.lease.generation) return std::nullopt;
    }
  }
  if (!has_key || !has_token || !attempt || !deadline || !enqueued) return std::nullopt;
  job.attempt = *attempt;
  job.deadline_ms = *deadline;
  job.enqueued_ms = *enqueued;
  return job;
}

}  // namespace scalecache
