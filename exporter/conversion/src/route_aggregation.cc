#include "exporter/conversion/route_aggregation.h"

#include "exporter/conversion/label_value.h"

namespace exporter::conversion {

FoldedSeries AggregateRoutes(const proxy_client::Snapshot& snapshot, const RouteOptions& options) {
  const auto& by_route = snapshot.connections.by_route;
  const auto* throughput_by_route = snapshot.throughput && snapshot.throughput->by_route
                                        ? &*snapshot.throughput->by_route
                                        : nullptr;
  FoldOptions fold;
  fold.keep = options.max;
  fold.keep_without_connections = true;
  fold.always_other = false;
  return FoldConnectionsAndThroughput(by_route ? &*by_route : nullptr, throughput_by_route,
                                      &FindRawName, fold);
}

}  // namespace exporter::conversion
