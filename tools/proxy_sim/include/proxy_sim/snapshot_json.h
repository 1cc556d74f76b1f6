#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proxy_sim/simulation.h"

// Serialises a simulation state as a protocol v1 snapshot (docs/snapshot-protocol.md), in the
// shape of the simulation's Generation (SimulationOptions::generation).
namespace proxy_sim {

// proxy-sim's own version (the project's), served as adapter.version.
std::string_view ProxySimVersion();

struct SnapshotOptions {
  // ?ips=N: only the N IPs with the most active connections (ties: lower index first), in
  // descending order; nullopt: every IP, in index order.
  std::optional<std::size_t> max_ips;
  // Use the hostile names of Simulation (routes, IPs, backends and domains).
  bool hostile_names = false;
};

// Reuses its buffers across calls, so steady-state writes do not allocate. Not thread-safe;
// use one writer per thread.
class SnapshotWriter {
 public:
  // Returns compact UTF-8 JSON, valid until the next Write or the writer's destruction.
  std::string_view Write(const Simulation& simulation, const SnapshotOptions& options);

 private:
  // The IP names of one simulation as JSON keys, `"name":`, escaped once and reused.
  struct KeyCache {
    std::uint64_t simulation_id = 0;  // 0: empty
    std::string text;
    std::vector<std::size_t> offsets;  // key i is text[offsets[i], offsets[i + 1])
  };
  const KeyCache& IpKeys(const Simulation& simulation, bool hostile);

  std::string buffer_;
  std::vector<std::uint32_t> order_;
  KeyCache ip_keys_[2];  // [hostile]
};

// Convenience for tests: one snapshot as an owned string.
std::string RenderSnapshot(const Simulation& simulation, const SnapshotOptions& options = {});

// Appends `text` as a JSON string literal (RFC 8259 section 7): quotes, backslashes and
// control characters escaped; other UTF-8 copied verbatim; a surrogate code point in
// generalised UTF-8 (ED A0..BF xx) written as a \uXXXX escape.
void AppendJsonString(std::string& out, std::string_view text);

// Appends a finite, non-negative number; integral values below 2^53 without a fraction.
void AppendJsonNumber(std::string& out, double value);

}  // namespace proxy_sim
