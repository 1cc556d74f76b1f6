#include "exporter/snapshot_metrics.h"

#include <cassert>
#include <string>
#include <string_view>
#include <utility>

#include "exporter/ip_aggregation.h"
#include "exporter/label_value.h"
#include "exporter/metric_family_builder.h"
#include "exporter/route_aggregation.h"

namespace exporter {
namespace {

using prometheus::MetricFamily;
using prometheus::MetricType;
using proxy_client::InOut;

constexpr double kMillisecondsPerSecond = 1000.0;

// Builds the families of one conversion, all named `<namespace>_<suffix>`.
class FamilyBuilder {
 public:
  explicit FamilyBuilder(std::string_view metric_namespace) : prefix_(metric_namespace) {
    prefix_.push_back('_');
    families_.reserve(24);
  }

  MetricFamily& Add(std::string_view suffix, std::string help, MetricType type,
                    std::size_t expected_samples) {
    std::string name;
    name.reserve(prefix_.size() + suffix.size());
    name.append(prefix_).append(suffix);
    return families_.emplace_back(
        MakeFamily(std::move(name), std::move(help), type, expected_samples));
  }

  void AddSingle(std::string_view suffix, std::string help, MetricType type, double value) {
    AddSample(&Add(suffix, std::move(help), type, 1), value);
  }

  std::vector<MetricFamily> Take() && { return std::move(families_); }

 private:
  std::string prefix_;
  std::vector<MetricFamily> families_;
};

void AddLabeled(MetricFamily* family, double value, std::string_view name,
                std::string_view label_value) {
  AddLabel(&AddSample(family, value), std::string(name), std::string(label_value));
}

void AddLabeled(MetricFamily* family, double value, std::string_view name1, std::string_view value1,
                std::string_view name2, std::string_view value2) {
  auto& metric = AddSample(family, value);
  metric.label.reserve(2);
  AddLabel(&metric, std::string(name1), std::string(value1));
  AddLabel(&metric, std::string(name2), std::string(value2));
}

// The entries (kept, then "other") of a fold in label order.
template <typename Series, typename Visit>
void ForEachEntry(Series& series, Visit visit) {
  for (auto& entry : series.kept) visit(entry);
  if (series.other) visit(*series.other);
}

// `<prefix>_connections_active{<label>}` from the folded entries' connections.
void AddConnectionFamily(FamilyBuilder* builder, const FoldedSeries& series,
                         std::string_view suffix, std::string help, std::string_view label) {
  std::size_t count = 0;
  ForEachEntry(series, [&](const SeriesEntry& entry) { count += entry.connections ? 1 : 0; });
  if (count == 0) return;
  MetricFamily& family = builder->Add(suffix, std::move(help), MetricType::Gauge, count);
  ForEachEntry(series, [&](const SeriesEntry& entry) {
    if (entry.connections) AddLabeled(&family, *entry.connections, label, entry.name);
  });
}

// The last user of the entries' names: moves them into the labels instead of copying.
void AddThroughputFamily(FamilyBuilder* builder, FoldedSeries* series, std::string_view suffix,
                         std::string help, std::string_view label) {
  std::size_t count = 0;
  ForEachEntry(*series, [&](const SeriesEntry& entry) { count += entry.throughput ? 2 : 0; });
  if (count == 0) return;
  MetricFamily& family = builder->Add(suffix, std::move(help), MetricType::Gauge, count);
  ForEachEntry(*series, [&](SeriesEntry& entry) {
    if (!entry.throughput) return;
    AddLabeled(&family, entry.throughput->in, label, entry.name, "direction", "in");
    auto& metric = AddSample(&family, entry.throughput->out);
    metric.label.reserve(2);
    AddLabel(&metric, std::string(label), std::move(entry.name));
    AddLabel(&metric, "direction", "out");
  });
}

void AddPercentiles(MetricFamily* family, const proxy_client::Quantiles& quantiles, double divisor,
                    std::string_view direction) {
  const std::pair<std::string_view, const std::optional<double>*> points[] = {
      {"50", &quantiles.p50}, {"95", &quantiles.p95}, {"99", &quantiles.p99}};
  for (const auto& [percentile, value] : points) {
    if (!value->has_value()) continue;
    if (direction.empty()) {
      AddLabeled(family, **value / divisor, "percentile", percentile);
    } else {
      AddLabeled(family, **value / divisor, "direction", direction, "percentile", percentile);
    }
  }
}

std::size_t PercentileCount(const std::optional<proxy_client::Quantiles>& quantiles) {
  if (!quantiles) return 0;
  return (quantiles->p50 ? 1 : 0) + (quantiles->p95 ? 1 : 0) + (quantiles->p99 ? 1 : 0);
}

}  // namespace

std::vector<MetricFamily> SnapshotToMetricFamilies(const proxy_client::Snapshot& snapshot,
                                                   const MetricsOptions& options,
                                                   std::chrono::system_clock::time_point now,
                                                   AggregationCounts* folded) {
  assert(IsValidMetricNamespace(options.metric_namespace) && "validated with the config");
  FamilyBuilder builder(IsValidMetricNamespace(options.metric_namespace)
                            ? std::string_view(options.metric_namespace)
                            : std::string_view("smartproxy"));
  const auto& connections = snapshot.connections;
  FoldedSeries routes = AggregateRoutes(snapshot, options.routes);
  FoldedSeries ips = AggregateIps(snapshot, options.ips);
  if (folded != nullptr) *folded = AggregationCounts{ips.folded, routes.folded};

  builder.AddSingle("connections_active", "Active connections.", MetricType::Gauge,
                    connections.active);
  builder.AddSingle("connections_total", "Connections accepted since the proxy started.",
                    MetricType::Counter, connections.total);
  if (connections.distinct_ips || connections.by_ip) {
    builder.AddSingle("client_ips", "Distinct client IPs with active connections.",
                      MetricType::Gauge,
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
      builder.AddSingle("requests_total", "Requests since the proxy started.", MetricType::Counter,
                        *requests->total);
    }
    if (requests->per_second || requests->per_minute) {
      MetricFamily& family =
          builder.Add("requests_per_second", "Request rate over the window.", MetricType::Gauge, 2);
      if (requests->per_second) AddLabeled(&family, *requests->per_second, "window", "1s");
      if (requests->per_minute) AddLabeled(&family, *requests->per_minute / 60.0, "window", "60s");
    }
  }
  if (const auto& bytes = snapshot.bytes) {
    builder.AddSingle("received_bytes_total",
                      "Bytes received from clients since the proxy started.", MetricType::Counter,
                      bytes->in);
    builder.AddSingle("sent_bytes_total", "Bytes sent to clients since the proxy started.",
                      MetricType::Counter, bytes->out);
  }
  if (const auto& throughput = snapshot.throughput) {
    const std::pair<std::string_view, const std::optional<InOut>*> windows[] = {
        {"1s", &throughput->instant}, {"10s", &throughput->recent}, {"60s", &throughput->average}};
    std::size_t count = 0;
    for (const auto& window : windows) count += window.second->has_value() ? 2 : 0;
    if (count > 0) {
      MetricFamily& family = builder.Add("throughput_bytes_per_second",
                                         "Bytes per second received from (in) and sent to (out) "
                                         "clients over the window.",
                                         MetricType::Gauge, count);
      for (const auto& [window, value] : windows) {
        if (!value->has_value()) continue;
        AddLabeled(&family, (*value)->in, "direction", "in", "window", window);
        AddLabeled(&family, (*value)->out, "direction", "out", "window", window);
      }
    }
  }
  AddThroughputFamily(&builder, &routes, "route_throughput_bytes_per_second",
                      "Bytes per second received from (in) and sent to (out) clients per route; "
                      "routes beyond the limit are summed in "
                      "route=\"other\".",
                      "route");
  AddThroughputFamily(&builder, &ips, "ip_throughput_bytes_per_second",
                      "Bytes per second received from (in) and sent to (out) the client IPs of "
                      "ip_connections_active; the rest are "
                      "summed in ip=\"other\".",
                      "ip");

  if (const auto& percentiles = snapshot.percentiles) {
    if (std::size_t count = PercentileCount(percentiles->connection_duration_ms); count > 0) {
      MetricFamily& family = builder.Add("connection_duration_seconds",
                                         "Connection duration percentiles as estimated by the "
                                         "proxy.",
                                         MetricType::Gauge, count);
      AddPercentiles(&family, *percentiles->connection_duration_ms, kMillisecondsPerSecond, {});
    }
    const std::size_t count = PercentileCount(percentiles->bytes_transferred_in) +
                              PercentileCount(percentiles->bytes_transferred_out);
    if (count > 0) {
      MetricFamily& family = builder.Add("connection_transferred_bytes",
                                         "Percentiles of the bytes one connection received (in) "
                                         "and sent (out), as estimated by the proxy.",
                                         MetricType::Gauge, count);
      if (percentiles->bytes_transferred_in) {
        AddPercentiles(&family, *percentiles->bytes_transferred_in, 1.0, "in");
      }
      if (percentiles->bytes_transferred_out) {
        AddPercentiles(&family, *percentiles->bytes_transferred_out, 1.0, "out");
      }
    }
  }

  if (const auto& proxy = snapshot.proxy) {
    if (proxy->name || proxy->version || proxy->instance) {
      MetricFamily& family = builder.Add(
          "proxy_info", "Identity of the proxy; the value is always 1.", MetricType::Gauge, 1);
      auto& metric = AddSample(&family, 1.0);
      metric.label.reserve(3);
      AddLabel(&metric, "instance", ToValidUtf8(proxy->instance.value_or("")));
      AddLabel(&metric, "name", ToValidUtf8(proxy->name.value_or("")));
      AddLabel(&metric, "version", ToValidUtf8(proxy->version.value_or("")));
    }
    if (proxy->start_time_ms) {
      builder.AddSingle("proxy_start_time_seconds",
                        "Start time of the proxy since the Unix epoch in seconds.",
                        MetricType::Gauge, *proxy->start_time_ms / kMillisecondsPerSecond);
    }
  }
  const double now_ms = static_cast<double>(
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count());
  builder.AddSingle("snapshot_age_seconds",
                    "Time between the proxy taking the snapshot and this conversion.",
                    MetricType::Gauge, (now_ms - snapshot.timestamp_ms) / kMillisecondsPerSecond);
  return std::move(builder).Take();
}

}  // namespace exporter
