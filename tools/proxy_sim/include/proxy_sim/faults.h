#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

// Fault modes: ways a misbehaving proxy answers GET /v1/snapshot. Each one maps to an error
// class of proxy_client (docs/snapshot-protocol.md, "Error classes"), except restart and
// hostile-names, which answer with valid snapshots that stress the consumer.
namespace proxy_sim {

enum class FaultMode {
  kNone,
  kSlow,          // a valid response trickled at FaultOptions::slow_bytes_per_second
  kHang,          // reads the request, never answers (until the client or the server leaves)
  kGarbage,       // 200 application/json, body is not JSON
  kTruncate,      // Content-Length of the full body, about half of it sent, then close
  kHttp500,       // 500 with a short text/plain reason
  kHuge,          // 200 with a body larger than FaultOptions::huge_bytes, streamed
  kRestart,       // every FaultOptions::every snapshots: totals to 0, new instance/startTime
  kHostileNames,  // route names and IPs full of quotes, escapes, control chars, UTF-8
};

struct FaultOptions {
  FaultMode mode = FaultMode::kNone;
  std::uint64_t every = 10;                        // restart: every K faulted snapshots
  std::uint64_t after = 0;                         // fault only once N snapshots were served
  std::uint64_t huge_bytes = 80ULL * 1024 * 1024;  // huge: body is strictly larger
  std::uint64_t slow_bytes_per_second = 1024;      // slow: trickle rate
  // slow: the body is padded with trailing JSON whitespace to last at least this long at the
  // trickle rate, so a small snapshot still misses a client's deadline.
  std::chrono::milliseconds slow_min_duration{4000};
};

// "none", "slow", "hang", "garbage", "truncate", "http500", "huge", "restart", "hostile-names".
std::string_view FaultModeName(FaultMode mode);
// The inverse of FaultModeName; nullopt for an unknown name.
std::optional<FaultMode> ParseFaultMode(std::string_view name);

}  // namespace proxy_sim
