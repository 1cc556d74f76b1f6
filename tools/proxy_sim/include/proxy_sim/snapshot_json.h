#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proxy_sim/ip_grouping.h"
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
  // ?ipv4Prefix=&ipv6Prefix=: connections.byIP and throughput.byIP sum the IPs per network
  // (names that are not addresses under "invalid"), networks in order of first appearance or,
  // with max_ips, the max_ips networks with the most active connections (ties: smaller name);
  // connections gains ipGrouping and distinctNetworks (docs/snapshot-protocol.md).
  std::optional<IpGrouping> ip_grouping;
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

  // The networks of one simulation's IP names under one grouping, numbered by first appearance.
  struct NetworkCache {
    std::uint64_t simulation_id = 0;  // 0: empty
    bool hostile = false;
    IpGrouping grouping;
    std::vector<std::uint32_t> network_of_ip;  // index = IP
    std::vector<std::string> names;            // index = network
    KeyCache keys;                             // the names as JSON keys
  };
  const NetworkCache& Networks(const Simulation& simulation, bool hostile,
                               const IpGrouping& grouping);

  std::string buffer_;
  std::vector<std::uint32_t> order_;
  KeyCache ip_keys_[2];  // [hostile]
  NetworkCache networks_;
  std::vector<std::uint64_t> network_active_;  // per network, one Write
  std::vector<InOutRate> network_throughput_;  // per network, one Write
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
