#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "exporter/conversion/metrics_options.h"
#include "exporter/conversion/series_folding.h"
#include "proxy_client/snapshot.h"

// Per-client-IP series: anonymisation to networks, top-N by active connections, "other".
namespace exporter::conversion {

// With `anonymize: prefix`, the label value of every entry that is not an IPv4/IPv6 address.
inline constexpr std::string_view kInvalidIpLabelValue = "invalid";

// The network of `ip` with host bits cleared, as "203.0.113.0/24" or "2001:db8::/64".
// IPv4-mapped IPv6 addresses (::ffff:203.0.113.7, common with dual-stack sockets) are
// treated as IPv4. nullopt when `ip` is not a textual IPv4 or IPv6 address.
std::optional<std::string> IpNetwork(std::string_view ip, unsigned ipv4_prefix,
                                     unsigned ipv6_prefix);

// The per-IP entries of `snapshot` under `options`:
// - label values are valid UTF-8 (invalid sequences replaced by U+FFFD); with `prefix`
//   anonymisation they are networks (or "invalid"), summed per network before the cut;
// - the IP set is that of connections.byIP; throughput.byIP entries outside it (no active
//   connection) are summed into "other";
// - the `options.top` entries with most active connections are kept (ties by name), all
//   others are summed into "other", which is always present (0 when nothing was folded);
// - when the proxy listed fewer IPs than connections.distinctIPs (?ips=N), the unlisted ones
//   are counted as folded and "other" also gets connections.active and throughput.instant
//   less what the listed IPs account for, so the series add up to the proxy's totals;
// - `options.top == 0`: no entries and no "other";
// - when the source already grouped with the configured prefixes (connections.ipGrouping equal
//   to them, protocol 1.1), byIP keys are its networks: kept as they are when written exactly as
//   IpNetwork writes them, else "invalid"; the unlisted ones are counted from
//   connections.distinctNetworks;
// - a list of exactly `options.top` IPs (none for top 0) without connections.distinctIPs may
//   have been cut by the proxy without a count (SmartProxy's topIPs path): "other" gets the
//   unlisted connections and throughput all the same, not counted as folded (how many IPs they
//   are is unknown).
// The result refers to the IP names of `snapshot`: keep the snapshot alive while using it.
FoldedSeries AggregateIps(const proxy_client::Snapshot& snapshot, const IpOptions& options);

// `<namespace>_client_ips`: connections.distinctIPs, else the number of listed IPs when that is
// known to be all of them (not networks from a grouping source, not a list that may have been
// cut at options.top); nullopt when unknown.
std::optional<double> DistinctClientIps(const proxy_client::Snapshot& snapshot,
                                        const IpOptions& options);

}  // namespace exporter::conversion
