#pragma once

#include <optional>
#include <string>
#include <string_view>

// Anonymisation at the source (docs/snapshot-protocol.md, "IP grouping"): client IPs summed per
// network. Pure.
namespace proxy_sim {

// ?ipv4Prefix=P4&ipv6Prefix=P6: the prefix lengths, in bits.
struct IpGrouping {
  unsigned ipv4_prefix = 24;  // 0..32
  unsigned ipv6_prefix = 64;  // 0..128
};

// The key under which every name that is not an IP address is summed.
inline constexpr std::string_view kInvalidNetwork = "invalid";

// The network of `ip` with host bits cleared, as inet_ntop writes it plus "/P":
// "203.0.113.0/24", "2001:db8::/64"; IPv4-mapped IPv6 counts as IPv4. nullopt when `ip` is not
// a textual IPv4 or IPv6 address (inet_pton). The same text as the exporter's own grouping.
std::optional<std::string> IpNetworkOf(std::string_view ip, const IpGrouping& grouping);

}  // namespace proxy_sim
