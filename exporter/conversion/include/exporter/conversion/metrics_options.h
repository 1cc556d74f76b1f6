#pragma once

#include <string>

// Options of the snapshot → metrics conversion (config section `metrics:`).
namespace exporter::conversion {

enum class IpAnonymization {
  kNone,    // export client IPs as the proxy reports them
  kPrefix,  // reduce each IP to its network (203.0.113.0/24) and sum per network
};

struct IpOptions {
  unsigned top = 20;  // series for the N IPs with most active connections, plus ip="other"; 0: none
  IpAnonymization anonymize = IpAnonymization::kNone;
  unsigned ipv4_prefix = 24;  // 0..32
  unsigned ipv6_prefix = 64;  // 0..128
};

struct RouteOptions {
  unsigned max = 500;  // beyond it, the smallest routes fold into route="other"
};

struct BackendOptions {
  unsigned max = 20;  // the N backends with most connections in total; the rest in backend="other"
};

struct DomainOptions {
  unsigned top = 20;  // the N domains with most requests per minute; the rest in domain="other"
};

struct MetricsOptions {
  // The prefix of every metric name; [a-zA-Z_][a-zA-Z0-9_]*.
  std::string metric_namespace = "smartproxy";
  IpOptions ips;
  RouteOptions routes;
  BackendOptions backends;
  DomainOptions domains;
};

}  // namespace exporter::conversion
