#include "exporter/conversion/backend_aggregation.h"

namespace exporter::conversion {
namespace {

using proxy_client::Backend;

void AddBackend(const Backend& from, Backend* into) {
  // Neither a protocol nor a connect time can be summed: the first reported one stays.
  if (!into->protocol) into->protocol = from.protocol;
  if (!into->connect_time_ms) into->connect_time_ms = from.connect_time_ms;
  AddOptional(from.active, &into->active);
  AddOptional(from.total, &into->total);
  AddOptional(from.connect_errors, &into->connect_errors);
  AddOptional(from.handshake_errors, &into->handshake_errors);
  AddOptional(from.request_errors, &into->request_errors);
  AddOptional(from.pool_hits, &into->pool_hits);
  AddOptional(from.pool_misses, &into->pool_misses);
}

}  // namespace

FoldedValues<Backend> AggregateBackends(const proxy_client::Snapshot& snapshot,
                                        const BackendOptions& options) {
  if (!snapshot.backends) return {};
  FoldedValues<Backend> folded =
      FoldNamedValues(*snapshot.backends, options.max, &AddBackend,
                      [](const Backend& backend) { return RankValue(backend.total); });
  if (folded.other) {
    // Several backends have no one protocol or connect time.
    folded.other->protocol.reset();
    folded.other->connect_time_ms.reset();
  }
  return folded;
}

}  // namespace exporter::conversion
