#include "exporter/route_aggregation.h"

#include "exporter/label_value.h"

namespace exporter {

FoldedSeries AggregateRoutes(const proxy_client::Snapshot& snapshot, const RouteOptions& options) {
  const auto& by_route = snapshot.connections.by_route;
  const auto* throughput_by_route = snapshot.throughput && snapshot.throughput->by_route
                                        ? &*snapshot.throughput->by_route
                                        : nullptr;
  SeriesFolder folder(by_route ? by_route->size() : 0);
  if (by_route) {
    for (const auto& [route, connections] : *by_route) {
      if (IsValidUtf8(route)) {
        folder.AddConnections(route, connections);
      } else {
        folder.AddConnections(ToValidUtf8(route), connections);
      }
    }
  }
  if (throughput_by_route) {
    for (const auto& [route, throughput] : *throughput_by_route) {
      if (IsValidUtf8(route)) {
        folder.AddThroughput(route, throughput);
      } else {
        folder.AddThroughput(ToValidUtf8(route), throughput);
      }
    }
  }
  FoldOptions fold;
  fold.keep = options.max;
  fold.keep_without_connections = true;
  fold.always_other = false;
  fold.connections_reported = by_route.has_value();
  fold.throughput_reported = throughput_by_route != nullptr;
  return std::move(folder).Fold(fold);
}

}  // namespace exporter
