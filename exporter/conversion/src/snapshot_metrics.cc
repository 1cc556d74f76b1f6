#include "exporter/conversion/snapshot_metrics.h"

#include <cassert>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "exporter/conversion/ip_aggregation.h"
#include "exporter/conversion/label_value.h"
#include "exporter/conversion/metric_names.h"
#include "exporter/conversion/route_aggregation.h"

namespace exporter::conversion {
namespace {

using proxy_client::InOut;

constexpr double kMillisecondsPerSecond = 1000.0;

// Writes the families of one conversion, all named `<namespace>_<suffix>`.
class FamilyBuilder {
 public:
  FamilyBuilder(std::string_view metric_namespace, SampleSink* sink)
      : prefix_(metric_namespace), sink_(sink) {
    prefix_.push_back('_');
  }

  // Starts the next family; the samples added from now on are its.
  void Begin(std::string_view suffix, std::string_view help, MetricType type) {
    name_.assign(prefix_).append(suffix);
    sink_->Family({name_, help, type});
  }

  void Add(double value, std::initializer_list<Label> labels = {}) { sink_->Sample(value, labels); }

  void AddSingle(std::string_view suffix, std::string_view help, MetricType type, double value) {
    Begin(suffix, help, type);
    Add(value);
  }

 private:
  std::string prefix_;
  std::string name_;
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

}  // namespace

AggregationCounts WriteSnapshotMetrics(const proxy_client::Snapshot& snapshot,
                                       const MetricsOptions& options,
                                       std::chrono::system_clock::time_point now,
                                       SampleSink* sink) {
  assert(IsValidMetricNamespace(options.metric_namespace) && "validated with the config");
  FamilyBuilder builder(options.metric_namespace, sink);
  const auto& connections = snapshot.connections;
  const FoldedSeries routes = AggregateRoutes(snapshot, options.routes);
  const FoldedSeries ips = AggregateIps(snapshot, options.ips);

  builder.AddSingle("connections_active", "Active connections.", MetricType::kGauge,
                    connections.active);
  builder.AddSingle("connections_total", "Connections accepted since the proxy started.",
                    MetricType::kCounter, connections.total);
  if (connections.distinct_ips || connections.by_ip) {
    builder.AddSingle("client_ips", "Distinct client IPs with active connections.",
                      MetricType::kGauge,
                      connections.distinct_ips ? *connections.distinct_ips
                                               : static_cast<double>(connections.by_ip->size()));
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
      builder.Add(1.0, {{"instance", instance}, {"name", name}, {"version", version}});
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
  return AggregationCounts{ips.folded, routes.folded};
}

}  // namespace exporter::conversion
