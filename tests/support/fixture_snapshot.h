#pragma once

#include <chrono>

#include "proxy_client/snapshot.h"

// A hand-written snapshot with every protocol group set, in code: the values of
// tests/fixtures/snapshot_golden.json, from which tests/golden/snapshot_full.prom is made.
namespace exporter_test {

inline proxy_client::Snapshot FullSnapshot() {
  proxy_client::Snapshot s;
  s.schema_version = 1;
  s.timestamp_ms = 1764043200123;
  s.proxy = proxy_client::ProxyInfo{"smartproxy", "19.6.7", "a1b2c3", 1764040000000};
  s.connections.active = 42;
  s.connections.total = 123456;
  s.connections.by_route = proxy_client::NamedValues<double>{{"api", 30}, {"web", 12}};
  s.connections.by_ip = proxy_client::NamedValues<double>{
      {"203.0.113.7", 3}, {"2001:db8::1", 1}, {"198.51.100.20", 5}, {"198.51.100.21", 2}};
  s.connections.distinct_ips = 5012;
  s.requests = proxy_client::Requests{99999, 12.5, 700};
  s.bytes = proxy_client::InOut{123456789, 987654321};
  proxy_client::Throughput t;
  t.instant = proxy_client::InOut{1000, 2000};
  t.recent = proxy_client::InOut{900, 1800};
  t.average = proxy_client::InOut{800.5, 1600.25};
  t.by_route = proxy_client::NamedValues<proxy_client::InOut>{{"api", {10, 20}}, {"web", {5, 7}}};
  t.by_ip = proxy_client::NamedValues<proxy_client::InOut>{
      {"203.0.113.7", {1, 2}}, {"198.51.100.20", {3, 4}}, {"2001:db8::1", {0.5, 0.25}}};
  s.throughput = t;
  proxy_client::Percentiles p;
  p.connection_duration_ms = proxy_client::Quantiles{120, 900, 2500};
  p.bytes_transferred_in = proxy_client::Quantiles{1024, 65536, 1048576};
  p.bytes_transferred_out = proxy_client::Quantiles{2048, std::nullopt, 4194304};
  s.percentiles = p;
  return s;
}

// The conversion time used with FullSnapshot: 1.5 s after the snapshot was taken.
inline std::chrono::system_clock::time_point FullSnapshotNow() {
  return std::chrono::system_clock::time_point(std::chrono::milliseconds(1764043201623));
}

}  // namespace exporter_test
