#pragma once

#include "exporter/conversion/metrics_options.h"
#include "exporter/conversion/named_folding.h"
#include "proxy_client/snapshot.h"

// Per-backend series, limited to `backends.max`.
namespace exporter::conversion {

// The backends of `snapshot` by (UTF-8-repaired) name, equal names merged: every count summed,
// the protocol and connect time of the first that has them. The `options.max` backends with
// most connections in total (a missing total counts as 0; ties by name) are kept, in the proxy's
// order; the rest are summed into "other" (counts only: no protocol, no connect time), which is
// present only when something was folded or a backend is really named "other".
// Empty without `backends`. The result refers to the names of `snapshot`: keep it alive.
FoldedValues<proxy_client::Backend> AggregateBackends(const proxy_client::Snapshot& snapshot,
                                                      const BackendOptions& options);
// A temporary snapshot would leave the result viewing freed names.
FoldedValues<proxy_client::Backend> AggregateBackends(proxy_client::Snapshot&& snapshot,
                                                      const BackendOptions& options) = delete;

}  // namespace exporter::conversion
