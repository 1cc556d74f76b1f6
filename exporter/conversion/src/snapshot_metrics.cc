#include "exporter/conversion/snapshot_metrics.h"

#include <algorithm>
#include <cassert>
#include <initializer_list>
#include <iterator>
#include <string>
#include <string_view>
#include <utility>

#include "exporter/conversion/backend_aggregation.h"
#include "exporter/conversion/domain_aggregation.h"
#include "exporter/conversion/ip_aggregation.h"
#include "exporter/conversion/label_value.h"
#include "exporter/conversion/metric_names.h"
#include "exporter/conversion/named_folding.h"
#include "exporter/conversion/protocol_aggregation.h"
#include "exporter/conversion/route_aggregation.h"

namespace exporter::conversion {
namespace {

using proxy_client::Backend;
using proxy_client::InOut;
using proxy_client::ProtocolConnections;

constexpr double kMillisecondsPerSecond = 1000.0;

// Writes the families of one conversion, all named `<namespace>_<suffix>`.
class FamilyBuilder {
 public:
  // `counters_created`: when the proxy's counters started from zero (its startTime), if known.
  FamilyBuilder(std::string_view metric_namespace, std::optional<double> counters_created,
                SampleSink* sink)
      : prefix_(metric_namespace), counters_created_(counters_created), sink_(sink) {
    prefix_.push_back('_');
  }

  // Starts the next family; the samples added from now on are its.
  void Begin(std::string_view suffix, std::string_view help, MetricType type) {
    name_.assign(prefix_).append(suffix);
    sink_->Family(
        {name_, help, type, type == MetricType::kCounter ? counters_created_ : std::nullopt});
  }

  void Add(double value, std::initializer_list<Label> labels = {}) { sink_->Sample(value, labels); }

  void AddSingle(std::string_view suffix, std::string_view help, MetricType type, double value) {
    Begin(suffix, help, type);
    Add(value);
  }

 private:
  std::string prefix_;
  std::string name_;
  std::optional<double> counters_created_;
  SampleSink* sink_;
};

// The entries (kept, then "other") of a fold in label order.
template <typename Series, typename Visit>
void ForEachEntry(Series& series, Visit visit) {
  for (auto& entry : series.kept) visit(entry);
  if (series.other) visit(*series.other);
}

// `<prefix>_connections_active{<label>}` from the folded entries' connections.
void AddConnectionFamily(FamilyBuilder* builder, const FoldedSeries& series,
                         std::string_view suffix, std::string_view help, std::string_view label) {
  bool any = false;
  ForEachEntry(series, [&](const SeriesEntry& entry) { any = any || entry.connections; });
  if (!any) return;
  builder->Begin(suffix, help, MetricType::kGauge);
  ForEachEntry(series, [&](const SeriesEntry& entry) {
    if (entry.connections) builder->Add(*entry.connections, {{label, entry.name}});
  });
}

void AddThroughputFamily(FamilyBuilder* builder, const FoldedSeries& series,
                         std::string_view suffix, std::string_view help, std::string_view label) {
  bool any = false;
  ForEachEntry(series, [&](const SeriesEntry& entry) { any = any || entry.throughput; });
  if (!any) return;
  builder->Begin(suffix, help, MetricType::kGauge);
  ForEachEntry(series, [&](const SeriesEntry& entry) {
    if (!entry.throughput) return;
    builder->Add(entry.throughput->in, {{label, entry.name}, {"direction", "in"}});
    builder->Add(entry.throughput->out, {{label, entry.name}, {"direction", "out"}});
  });
}

void AddPercentiles(FamilyBuilder* builder, const proxy_client::Quantiles& quantiles,
                    double divisor, std::string_view direction) {
  const std::pair<std::string_view, const std::optional<double>*> points[] = {
      {"50", &quantiles.p50}, {"95", &quantiles.p95}, {"99", &quantiles.p99}};
  for (const auto& [percentile, value] : points) {
    if (!value->has_value()) continue;
    if (direction.empty()) {
      builder->Add(**value / divisor, {{"percentile", percentile}});
    } else {
      builder->Add(**value / divisor, {{"direction", direction}, {"percentile", percentile}});
    }
  }
}

std::size_t PercentileCount(const std::optional<proxy_client::Quantiles>& quantiles) {
  if (!quantiles) return 0;
  return (quantiles->p50 ? 1 : 0) + (quantiles->p95 ? 1 : 0) + (quantiles->p99 ? 1 : 0);
}

// The entries of a fold of records (kept, then "other") as (label value, record).
template <typename Value, typename Visit>
void ForEachNamed(const FoldedValues<Value>& folded, Visit visit) {
  for (const auto& entry : folded.kept) visit(entry.name, entry.value);
  if (folded.other) visit(kOtherLabelValue, *folded.other);
}

template <typename Value, typename Has>
bool AnyNamed(const FoldedValues<Value>& folded, Has has) {
  bool any = false;
  ForEachNamed(folded, [&](std::string_view, const Value& value) { any = any || has(value); });
  return any;
}

struct FamilyText {
  std::string_view suffix;
  std::string_view help;
  MetricType type = MetricType::kGauge;
};

// `family{<label>=name}` = the record's `field` / `divisor`, for each entry that reports the
// field; no family when none does.
template <typename Value>
void AddFieldFamily(FamilyBuilder* builder, const FoldedValues<Value>& folded,
                    const FamilyText& family, std::string_view label,
                    std::optional<double> Value::*field, double divisor = 1.0) {
  if (!AnyNamed(folded, [&](const Value& value) { return (value.*field).has_value(); })) return;
  builder->Begin(family.suffix, family.help, family.type);
  ForEachNamed(folded, [&](std::string_view name, const Value& value) {
    if (value.*field) builder->Add(*(value.*field) / divisor, {{label, name}});
  });
}

void AddBackendFamilies(FamilyBuilder* builder, const FoldedValues<Backend>& backends) {
  // "other" has neither a protocol nor a connect time (AggregateBackends).
  if (AnyNamed(backends, [](const Backend& backend) { return backend.protocol.has_value(); })) {
    builder->Begin("backend_info",
                   "Protocol the proxy speaks to each backend; the value is always 1.",
                   MetricType::kInfo);
    ForEachNamed(backends, [&](std::string_view name, const Backend& backend) {
      if (backend.protocol) {
        builder->Add(1.0, {{"backend", name}, {"protocol", ToValidUtf8(*backend.protocol)}});
      }
    });
  }
  AddFieldFamily(builder, backends,
                 {"backend_connections_active",
                  "Active connections per backend; backends beyond the limit are summed in "
                  "backend=\"other\"."},
                 "backend", &Backend::active);
  AddFieldFamily(builder, backends,
                 {"backend_connections_total",
                  "Connections per backend since the proxy started; backends beyond the limit "
                  "are summed in backend=\"other\".",
                  MetricType::kCounter},
                 "backend", &Backend::total);
  const std::pair<std::string_view, std::optional<double> Backend::*> errors[] = {
      {"connect", &Backend::connect_errors},
      {"handshake", &Backend::handshake_errors},
      {"request", &Backend::request_errors}};
  const auto has_errors = [&](const Backend& backend) {
    return std::any_of(std::begin(errors), std::end(errors),
                       [&](const auto& kind) { return (backend.*kind.second).has_value(); });
  };
  if (AnyNamed(backends, has_errors)) {
    builder->Begin("backend_errors_total",
                   "Backend errors since the proxy started, by kind; backends beyond the limit "
                   "are summed in backend=\"other\".",
                   MetricType::kCounter);
    ForEachNamed(backends, [&](std::string_view name, const Backend& backend) {
      for (const auto& [kind, field] : errors) {
        if (backend.*field) builder->Add(*(backend.*field), {{"backend", name}, {"kind", kind}});
      }
    });
  }
  AddFieldFamily(builder, backends,
                 {"backend_connect_time_seconds",
                  "Time to connect to each backend, as reported by the proxy."},
                 "backend", &Backend::connect_time_ms, kMillisecondsPerSecond);
  AddFieldFamily(builder, backends,
                 {"backend_pool_hits_total",
                  "Connection pool hits per backend since the proxy started; backends beyond the "
                  "limit are summed in backend=\"other\".",
                  MetricType::kCounter},
                 "backend", &Backend::pool_hits);
  AddFieldFamily(builder, backends,
                 {"backend_pool_misses_total",
                  "Connection pool misses per backend since the proxy started; backends beyond "
                  "the limit are summed in backend=\"other\".",
                  MetricType::kCounter},
                 "backend", &Backend::pool_misses);
}

// The protocols of one side, "frontend" (the clients') or "backend", folded on its own.
struct ProtocolSide {
  std::string_view name;
  FoldedValues<ProtocolConnections> folded;
};

struct ProtocolSides {
  ProtocolSide sides[2] = {{"frontend", {}}, {"backend", {}}};
  std::size_t folded = 0;
};

ProtocolSides AggregateProtocolSides(const proxy_client::Snapshot& snapshot) {
  ProtocolSides result;
  if (!snapshot.protocols) return result;
  if (snapshot.protocols->frontend) {
    result.sides[0].folded = AggregateProtocols(*snapshot.protocols->frontend);
  }
  if (snapshot.protocols->backend) {
    result.sides[1].folded = AggregateProtocols(*snapshot.protocols->backend);
  }
  result.folded = result.sides[0].folded.folded + result.sides[1].folded.folded;
  return result;
}

void AddProtocolFamily(FamilyBuilder* builder, const ProtocolSides& protocols,
                       const FamilyText& family,
                       std::optional<double> ProtocolConnections::*field) {
  const auto has = [&](const ProtocolConnections& value) { return (value.*field).has_value(); };
  if (!AnyNamed(protocols.sides[0].folded, has) && !AnyNamed(protocols.sides[1].folded, has)) {
    return;
  }
  builder->Begin(family.suffix, family.help, family.type);
  for (const ProtocolSide& side : protocols.sides) {
    ForEachNamed(side.folded, [&](std::string_view name, const ProtocolConnections& value) {
      if (value.*field) builder->Add(*(value.*field), {{"side", side.name}, {"protocol", name}});
    });
  }
}

void AddAdapterFamilies(FamilyBuilder* builder, const proxy_client::AdapterInfo& adapter) {
  builder->Begin("adapter_info",
                 "Version of the adapter that wrote the snapshot and the proxy API it read; the "
                 "value is always 1.",
                 MetricType::kInfo);
  builder->Add(1.0, {{"api", ToValidUtf8(adapter.api.value_or(""))},
                     {"version", ToValidUtf8(adapter.version.value_or(""))}});
  if (adapter.skipped) {
    builder->AddSingle("adapter_skipped_fields",
                       "Fields of the proxy the adapter could not read for this snapshot.",
                       MetricType::kGauge, *adapter.skipped);
  }
}

void AddUdpFamilies(FamilyBuilder* builder, const proxy_client::Udp& udp) {
  if (udp.active_sessions) {
    builder->AddSingle("udp_sessions_active", "Active UDP sessions.", MetricType::kGauge,
                       *udp.active_sessions);
  }
  if (udp.total_sessions) {
    builder->AddSingle("udp_sessions_total", "UDP sessions since the proxy started.",
                       MetricType::kCounter, *udp.total_sessions);
  }
  if (udp.datagrams_in || udp.datagrams_out) {
    builder->Begin("udp_datagrams_total",
                   "UDP datagrams received from (in) and sent to (out) clients since the proxy "
                   "started.",
                   MetricType::kCounter);
    if (udp.datagrams_in) builder->Add(*udp.datagrams_in, {{"direction", "in"}});
    if (udp.datagrams_out) builder->Add(*udp.datagrams_out, {{"direction", "out"}});
  }
}

void AddDomainFamily(FamilyBuilder* builder,
                     const FoldedValues<proxy_client::DomainRequests>& domains) {
  const auto has_rate = [](const proxy_client::DomainRequests& domain) {
    return domain.per_second || domain.per_minute;
  };
  if (!AnyNamed(domains, has_rate)) return;
  builder->Begin("domain_requests_per_second",
                 "HTTP request rate per domain (Host header or SNI) over the window; domains "
                 "beyond the top are summed in domain=\"other\".",
                 MetricType::kGauge);
  ForEachNamed(domains, [&](std::string_view name, const proxy_client::DomainRequests& domain) {
    if (domain.per_second) builder->Add(*domain.per_second, {{"domain", name}, {"window", "1s"}});
    if (domain.per_minute) {
      builder->Add(*domain.per_minute / 60.0, {{"domain", name}, {"window", "60s"}});
    }
  });
}

}  // namespace

AggregationCounts WriteSnapshotMetrics(const proxy_client::Snapshot& snapshot,
                                       const MetricsOptions& options,
                                       std::chrono::system_clock::time_point now,
                                       SampleSink* sink) {
  assert(IsValidMetricNamespace(options.metric_namespace) && "validated with the config");
  // Every counter of a snapshot counts since the proxy started (docs/snapshot-protocol.md).
  std::optional<double> counters_created;
  if (snapshot.proxy && snapshot.proxy->start_time_ms) {
    counters_created = *snapshot.proxy->start_time_ms / kMillisecondsPerSecond;
  }
  FamilyBuilder builder(options.metric_namespace, counters_created, sink);
  const auto& connections = snapshot.connections;
  const FoldedSeries routes = AggregateRoutes(snapshot, options.routes);
  const FoldedSeries ips = AggregateIps(snapshot, options.ips);
  const FoldedValues<Backend> backends = AggregateBackends(snapshot, options.backends);
  const FoldedValues<proxy_client::DomainRequests> domains =
      AggregateDomains(snapshot, options.domains);
  const ProtocolSides protocols = AggregateProtocolSides(snapshot);

  builder.AddSingle("connections_active", "Active connections.", MetricType::kGauge,
                    connections.active);
  builder.AddSingle("connections_total", "Connections accepted since the proxy started.",
                    MetricType::kCounter, connections.total);
  if (const std::optional<double> client_ips = DistinctClientIps(snapshot, options.ips)) {
    builder.AddSingle("client_ips", "Distinct client IPs with active connections.",
                      MetricType::kGauge, *client_ips);
  }
  AddConnectionFamily(&builder, routes, "route_connections_active",
                      "Active connections per route; routes beyond the limit are summed in "
                      "route=\"other\".",
                      "route");
  AddConnectionFamily(&builder, ips, "ip_connections_active",
                      "Active connections of the client IPs with most connections; the rest "
                      "are summed in ip=\"other\".",
                      "ip");

  if (const auto& requests = snapshot.requests) {
    if (requests->total) {
      builder.AddSingle("requests_total", "Requests since the proxy started.", MetricType::kCounter,
                        *requests->total);
    }
    if (requests->per_second || requests->per_minute) {
      builder.Begin("requests_per_second", "Request rate over the window.", MetricType::kGauge);
      if (requests->per_second) builder.Add(*requests->per_second, {{"window", "1s"}});
      if (requests->per_minute) builder.Add(*requests->per_minute / 60.0, {{"window", "60s"}});
    }
  }
  if (const auto& bytes = snapshot.bytes) {
    builder.AddSingle("received_bytes_total",
                      "Bytes received from clients since the proxy started.", MetricType::kCounter,
                      bytes->in);
    builder.AddSingle("sent_bytes_total", "Bytes sent to clients since the proxy started.",
                      MetricType::kCounter, bytes->out);
  }
  if (const auto& throughput = snapshot.throughput) {
    const std::pair<std::string_view, const std::optional<InOut>*> windows[] = {
        {"1s", &throughput->instant}, {"10s", &throughput->recent}, {"60s", &throughput->average}};
    if (throughput->instant || throughput->recent || throughput->average) {
      builder.Begin("throughput_bytes_per_second",
                    "Bytes per second received from (in) and sent to (out) clients over the "
                    "window.",
                    MetricType::kGauge);
      for (const auto& [window, value] : windows) {
        if (!value->has_value()) continue;
        builder.Add((*value)->in, {{"direction", "in"}, {"window", window}});
        builder.Add((*value)->out, {{"direction", "out"}, {"window", window}});
      }
    }
  }
  AddThroughputFamily(&builder, routes, "route_throughput_bytes_per_second",
                      "Bytes per second received from (in) and sent to (out) clients per route; "
                      "routes beyond the limit are summed in "
                      "route=\"other\".",
                      "route");
  AddThroughputFamily(&builder, ips, "ip_throughput_bytes_per_second",
                      "Bytes per second received from (in) and sent to (out) the client IPs of "
                      "ip_connections_active; the rest are "
                      "summed in ip=\"other\".",
                      "ip");

  if (const auto& percentiles = snapshot.percentiles) {
    if (std::size_t count = PercentileCount(percentiles->connection_duration_ms); count > 0) {
      builder.Begin("connection_duration_seconds",
                    "Connection duration percentiles as estimated by the proxy.",
                    MetricType::kGauge);
      AddPercentiles(&builder, *percentiles->connection_duration_ms, kMillisecondsPerSecond, {});
    }
    const std::size_t count = PercentileCount(percentiles->bytes_transferred_in) +
                              PercentileCount(percentiles->bytes_transferred_out);
    if (count > 0) {
      builder.Begin("connection_transferred_bytes",
                    "Percentiles of the bytes one connection received (in) and sent (out), as "
                    "estimated by the proxy.",
                    MetricType::kGauge);
      if (percentiles->bytes_transferred_in) {
        AddPercentiles(&builder, *percentiles->bytes_transferred_in, 1.0, "in");
      }
      if (percentiles->bytes_transferred_out) {
        AddPercentiles(&builder, *percentiles->bytes_transferred_out, 1.0, "out");
      }
    }
  }

  if (const auto& proxy = snapshot.proxy) {
    if (proxy->name || proxy->version || proxy->instance) {
      const std::string instance = ToValidUtf8(proxy->instance.value_or(""));
      const std::string name = ToValidUtf8(proxy->name.value_or(""));
      const std::string version = ToValidUtf8(proxy->version.value_or(""));
      builder.Begin("proxy_info", "Identity of the proxy; the value is always 1.",
                    MetricType::kInfo);
      // Not `instance`: Prometheus would store it as exported_instance (docs/metrics.md).
      builder.Add(1.0, {{"proxy_instance", instance}, {"name", name}, {"version", version}});
    }
    if (proxy->start_time_ms) {
      builder.AddSingle("proxy_start_time_seconds",
                        "Start time of the proxy since the Unix epoch in seconds.",
                        MetricType::kGauge, *proxy->start_time_ms / kMillisecondsPerSecond);
    }
  }
  const double now_ms = static_cast<double>(
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count());
  builder.AddSingle("snapshot_age_seconds",
                    "Time between the proxy taking the snapshot and this conversion.",
                    MetricType::kGauge, (now_ms - snapshot.timestamp_ms) / kMillisecondsPerSecond);

  // Protocol 1.1 groups.
  if (snapshot.adapter) AddAdapterFamilies(&builder, *snapshot.adapter);
  if (const auto& open = snapshot.open_connection_bytes) {
    builder.AddSingle("open_connections_received_bytes",
                      "Bytes received from clients so far by the connections open now; falls "
                      "when a connection closes.",
                      MetricType::kGauge, open->in);
    builder.AddSingle("open_connections_sent_bytes",
                      "Bytes sent to clients so far by the connections open now; falls when a "
                      "connection closes.",
                      MetricType::kGauge, open->out);
  }
  AddBackendFamilies(&builder, backends);
  AddProtocolFamily(&builder, protocols,
                    {"protocol_connections_active",
                     "Active connections per protocol, on the client (frontend) and the backend "
                     "side; protocols beyond 20 per side are summed in protocol=\"other\"."},
                    &ProtocolConnections::active);
  AddProtocolFamily(&builder, protocols,
                    {"protocol_connections_total",
                     "Connections per protocol since the proxy started, on the client (frontend) "
                     "and the backend side; protocols beyond 20 per side are summed in "
                     "protocol=\"other\".",
                     MetricType::kCounter},
                    &ProtocolConnections::total);
  if (snapshot.udp) AddUdpFamilies(&builder, *snapshot.udp);
  AddDomainFamily(&builder, domains);
  return AggregationCounts{ips.folded, routes.folded, backends.folded, domains.folded,
                           protocols.folded};
}

}  // namespace exporter::conversion
