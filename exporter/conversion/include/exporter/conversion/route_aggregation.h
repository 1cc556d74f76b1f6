#pragma once

#include "exporter/conversion/metrics_options.h"
#include "exporter/conversion/series_folding.h"
#include "proxy_client/snapshot.h"

// Per-route series, limited to `routes.max`.
namespace exporter::conversion {

// The per-route entries of `snapshot`: the union of connections.byRoute and
// throughput.byRoute by (UTF-8-repaired) name, equal names summed. The `options.max` routes
// with most active connections (ties by name) are kept; the rest are summed into "other",
// which is present only when something was folded or a route is really named "other".
// The result refers to the route names of `snapshot`: keep the snapshot alive while using it.
FoldedSeries AggregateRoutes(const proxy_client::Snapshot& snapshot, const RouteOptions& options);

}  // namespace exporter::conversion
