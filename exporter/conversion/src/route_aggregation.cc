#include "exporter/conversion/route_aggregation.h"

#include "exporter/conversion/label_value.h"

namespace exporter::conversion {

FoldedSeries AggregateRoutes(const proxy_client::Snapshot& snapshot, const RouteOptions& options) {
  const auto& by_route = snapshot.connections.by_route;
  const auto* throughput_by_route = snapshot.throughput && snapshot.throughput->by_route
                                        ? &*snapshot.throughput->by_route
                                        : nullptr;
  SeriesFolder folder(by_route ? by_route->size() : 0);
  AddConnectionsAndThroughput(&folder, by_route ? &*by_route : nullptr, throughput_by_route,
                              &FindRawName);
  FoldOptions fold;
  fold.keep = options.max;
  fold.keep_without_connections = true;
  fold.always_other = false;
  fold.connections_reported = by_route.has_value();
  fold.throughput_reported = throughput_by_route != nullptr;
  return std::move(folder).Fold(fold);
}

}  // namespace exporter::conversion
