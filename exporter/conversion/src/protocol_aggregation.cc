#include "exporter/conversion/protocol_aggregation.h"

namespace exporter::conversion {
namespace {

using proxy_client::ProtocolConnections;

void AddProtocol(const ProtocolConnections& from, ProtocolConnections* into) {
  AddOptional(from.active, &into->active);
  AddOptional(from.total, &into->total);
}

}  // namespace

FoldedValues<ProtocolConnections> AggregateProtocols(
    const proxy_client::NamedValues<ProtocolConnections>& side) {
  return FoldNamedValues(
      side, kProtocolsPerSide, &AddProtocol,
      [](const ProtocolConnections& protocol) { return RankValue(protocol.total); });
}

}  // namespace exporter::conversion
