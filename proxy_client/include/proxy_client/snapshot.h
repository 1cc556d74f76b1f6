#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

// The typed form of a protocol v1 snapshot (docs/snapshot-protocol.md). Plain data: every
// optional group of the protocol is a std::optional, absent means "not reported by the proxy".
// All numbers are finite and non-negative (the parser guarantees it); counters are integers
// no larger than 2^53, so a double holds them exactly.
namespace proxy_client {

// (name, value) pairs in document order; each name appears once (a repeated name keeps its
// first position and its last value). Names are valid UTF-8 but otherwise untrusted.
template <typename Value>
using NamedValues = std::vector<std::pair<std::string, Value>>;

// Bytes per second, or bytes, in each direction ("in": received from clients).
struct InOut {
  double in = 0;
  double out = 0;
};

struct ProxyInfo {
  std::optional<std::string> name;
  std::optional<std::string> version;
  std::optional<std::string> instance;
  std::optional<double> start_time_ms;  // ms since the Unix epoch
};

struct Connections {
  double active = 0;                            // required
  double total = 0;                             // required, counter
  std::optional<NamedValues<double>> by_route;  // active connections per route
  std::optional<NamedValues<double>> by_ip;     // active connections per client IP
  std::optional<double> distinct_ips;           // distinct client IPs before any ?ips= limit
};

struct Requests {
  std::optional<double> total;  // counter
  std::optional<double> per_second;
  std::optional<double> per_minute;
};

struct Throughput {
  std::optional<InOut> instant;  // last 1 s, bytes/s
  std::optional<InOut> recent;   // last 10 s, bytes/s
  std::optional<InOut> average;  // last 60 s, bytes/s
  std::optional<NamedValues<InOut>> by_route;
  std::optional<NamedValues<InOut>> by_ip;
};

struct Quantiles {
  std::optional<double> p50;
  std::optional<double> p95;
  std::optional<double> p99;
};

struct Percentiles {
  std::optional<Quantiles> connection_duration_ms;
  std::optional<Quantiles> bytes_transferred_in;
  std::optional<Quantiles> bytes_transferred_out;
};

struct Snapshot {
  std::int64_t schema_version = 0;  // the document's schemaVersion, stored by the parser; 0: none
  double timestamp_ms = 0;          // ms since the Unix epoch when the proxy took the snapshot
  std::optional<ProxyInfo> proxy;
  Connections connections;
  std::optional<Requests> requests;
  std::optional<InOut> bytes;  // totals since proxy start, counters
  std::optional<Throughput> throughput;
  std::optional<Percentiles> percentiles;
};

}  // namespace proxy_client
