#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "page_memory/large_block.h"

// The typed form of a protocol v1 snapshot (docs/snapshot-protocol.md). Plain data: every
// optional group of the protocol is a std::optional, absent means "not reported by the proxy".
// All numbers are finite and non-negative (the parser guarantees it); counters are integers
// no larger than 2^53, so a double holds them exactly.
namespace proxy_client {

// (name, value) pairs in document order; each name appears once (a repeated name keeps its
// first position and its last value). Names are valid UTF-8 but otherwise untrusted. A map of
// 100k client IPs takes 4-5 MB, freed after each scrape: in a mapping of its own
// (page_memory/large_block.h), so that it is not resident while the next body is parsed.
template <typename Value>
using NamedValues = std::vector<std::pair<std::string, Value>,
                                page_memory::LargeBlockAllocator<std::pair<std::string, Value>>>;

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

// Client IPs summed per network at the source (protocol 1.1, ?ipv4Prefix=&ipv6Prefix=).
struct IpGrouping {
  unsigned ipv4_prefix = 24;  // 0..32
  unsigned ipv6_prefix = 64;  // 0..128

  bool operator==(const IpGrouping&) const = default;
};

struct Connections {
  double active = 0;                            // required
  double total = 0;                             // required, counter
  std::optional<NamedValues<double>> by_route;  // active connections per route
  // Active connections per client IP, or per network when ip_grouping is set.
  std::optional<NamedValues<double>> by_ip;
  std::optional<double> distinct_ips;  // distinct client IPs before any ?ips= limit
  // The grouping the source applied to the keys of byIP (connections and throughput), when it
  // grouped; then distinct_networks counts the networks before any ?ips= limit.
  std::optional<IpGrouping> ip_grouping = std::nullopt;
  std::optional<double> distinct_networks = std::nullopt;
};

// HTTP request rates of one domain (Host header or SNI), protocol 1.1.
struct DomainRequests {
  std::optional<double> per_second;
  std::optional<double> per_minute;
};

struct Requests {
  std::optional<double> total;  // counter
  std::optional<double> per_second;
  std::optional<double> per_minute;
  std::optional<NamedValues<DomainRequests>> by_domain;  // protocol 1.1
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

// Who wrote the snapshot (protocol 1.1): the adapter's name and version, the proxy API it read
// ("IMetrics" or "IProxyStats"), and how many fields it could not read this time.
struct AdapterInfo {
  std::optional<std::string> name;
  std::optional<std::string> version;
  std::optional<std::string> api;
  std::optional<double> skipped;
};

// One backend (upstream target) of the proxy, protocol 1.1. Every member is optional.
struct Backend {
  std::optional<std::string> protocol;  // e.g. "h1", "h2"
  std::optional<double> active;
  std::optional<double> total;             // counter
  std::optional<double> connect_errors;    // counter
  std::optional<double> handshake_errors;  // counter
  std::optional<double> request_errors;    // counter
  std::optional<double> connect_time_ms;
  std::optional<double> pool_hits;    // counter
  std::optional<double> pool_misses;  // counter
};

struct ProtocolConnections {
  std::optional<double> active;
  std::optional<double> total;  // counter
};

// Connections per protocol name ("h1", "h2", "tls", ...), client side and backend side.
struct Protocols {
  std::optional<NamedValues<ProtocolConnections>> frontend;
  std::optional<NamedValues<ProtocolConnections>> backend;
};

struct Udp {
  std::optional<double> active_sessions;
  std::optional<double> total_sessions;  // counter
  std::optional<double> datagrams_in;    // counter
  std::optional<double> datagrams_out;   // counter
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
  // Protocol 1.1 additions.
  std::optional<AdapterInfo> adapter;
  // Bytes moved so far by the connections open now (SmartProxy 19.x's IProxyStats
  // getThroughput()): falls when a connection closes, so a gauge, never a counter.
  std::optional<InOut> open_connection_bytes;
  std::optional<NamedValues<Backend>> backends;
  std::optional<Protocols> protocols;
  std::optional<Udp> udp;
};

}  // namespace proxy_client
