#pragma once

#include <cstddef>

#include "exporter/conversion/named_folding.h"
#include "proxy_client/snapshot.h"

// Per-protocol connections of one side (client or backend), limited to a fixed number.
namespace exporter::conversion {

// Protocol names kept per side; the rest fold into protocol="other". Fixed, not configurable:
// a proxy speaks a handful of protocols, so more names than this are not protocols to chart.
inline constexpr std::size_t kProtocolsPerSide = 20;

// The protocols of one side by (UTF-8-repaired) name, equal names summed. The
// kProtocolsPerSide protocols with most connections in total (a missing total counts as 0; ties
// by name) are kept, in the proxy's order; the rest are summed into "other", present only when
// something was folded or a protocol is really named "other". The result views `side`'s names.
FoldedValues<proxy_client::ProtocolConnections> AggregateProtocols(
    const proxy_client::NamedValues<proxy_client::ProtocolConnections>& side);
// A temporary map would leave the result viewing freed names.
FoldedValues<proxy_client::ProtocolConnections> AggregateProtocols(
    proxy_client::NamedValues<proxy_client::ProtocolConnections>&& side) = delete;

}  // namespace exporter::conversion
