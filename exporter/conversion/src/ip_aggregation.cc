#include "exporter/conversion/ip_aggregation.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include "exporter/conversion/label_value.h"

namespace exporter::conversion {
namespace {

// Clears every bit after the first `prefix` bits of `bytes`.
void ClearHostBits(unsigned char* bytes, std::size_t size, unsigned prefix) {
  for (std::size_t i = 0; i < size; ++i) {
    const unsigned first_bit = static_cast<unsigned>(i) * 8;
    if (prefix >= first_bit + 8) continue;
    const unsigned keep = prefix > first_bit ? prefix - first_bit : 0;
    bytes[i] = static_cast<unsigned char>(bytes[i] & (0xFF00u >> keep));
  }
}

std::string FormatNetwork(int family, const void* address, unsigned prefix) {
  char text[INET6_ADDRSTRLEN + 8];
  if (inet_ntop(family, address, text, INET6_ADDRSTRLEN) == nullptr) return {};
  std::size_t length = std::strlen(text);
  text[length++] = '/';
  length =
      static_cast<std::size_t>(std::to_chars(text + length, text + sizeof text, prefix).ptr - text);
  return std::string(text, length);
}

// Whether `key` is a network exactly as IpNetwork writes it with these prefixes: what a source
// that grouped with them (connections.ipGrouping) sends as a byIP key.
bool IsGroupedNetwork(std::string_view key, unsigned ipv4_prefix, unsigned ipv6_prefix) {
  const auto slash = key.rfind('/');
  if (slash == std::string_view::npos) return false;
  const std::optional<std::string> network =
      IpNetwork(key.substr(0, slash), ipv4_prefix, ipv6_prefix);
  return network && *network == key;
}

// The entry under which `ip` is counted (no copy when the label value is `ip` itself).
SeriesFolder::EntryId FindIp(SeriesFolder* folder, std::string_view ip, bool unique,
                             const IpOptions& options, bool grouped_at_source) {
  if (options.anonymize == IpAnonymization::kNone) return FindRawName(folder, ip, unique);
  if (grouped_at_source) {
    // Already one key per network: kept as sent when it is one, anything else is "invalid",
    // so that no full address gets through as a label even from a source that claims to group.
    return IsGroupedNetwork(ip, options.ipv4_prefix, options.ipv6_prefix)
               ? FindRawName(folder, ip, unique)
               : folder->FindView(kInvalidIpLabelValue);
  }
  std::optional<std::string> network = IpNetwork(ip, options.ipv4_prefix, options.ipv6_prefix);
  return network ? folder->FindCopy(std::move(*network)) : folder->FindView(kInvalidIpLabelValue);
}

double Sum(const proxy_client::NamedValues<double>& entries) {
  double sum = 0;
  for (const auto& entry : entries) sum += entry.second;
  return sum;
}

proxy_client::InOut Sum(const proxy_client::NamedValues<proxy_client::InOut>& entries) {
  proxy_client::InOut sum;
  for (const auto& entry : entries) {
    sum.in += entry.second.in;
    sum.out += entry.second.out;
  }
  return sum;
}

// With ?ips=N pushed down, the proxy lists only its N busiest IPs and says how many there are
// (distinctIPs). The IPs it left out belong in "other" too, or the series would not add up to
// the proxy's totals: every connection has a client IP, so their connections are the active
// total less the listed ones, and their throughput the last-second total (throughput.instant,
// the window of throughput.byIP) less the listed ones.
// Whether the proxy may have listed only some of its IPs without saying how many it has: the
// exporter pushes ips.top down (?ips=N), and a list of exactly N (or of none, for ?ips=0)
// without distinctIPs may have been cut (SmartProxy's topIPs(N) path gives no count).
bool MaybeCutWithoutCount(const proxy_client::Snapshot& snapshot, const IpOptions& options) {
  const auto& connections = snapshot.connections;
  return options.anonymize == IpAnonymization::kNone && !connections.distinct_ips &&
         connections.by_ip && connections.by_ip->size() == options.top;
}

// A source that grouped lists networks, and counts them in distinctNetworks. Without a count,
// a list that may have been cut still gets the unlisted connections and throughput into
// "other" (every connection has a client IP), though how many IPs they are is unknown.
void AddUnlistedIps(const proxy_client::Snapshot& snapshot, const IpOptions& options,
                    bool grouped_at_source, FoldedSeries* folded) {
  const auto& connections = snapshot.connections;
  if (!folded->other || !connections.by_ip) return;
  const std::optional<double>& distinct =
      grouped_at_source ? connections.distinct_networks : connections.distinct_ips;
  const double listed_entries = static_cast<double>(connections.by_ip->size());
  if (distinct) {
    if (*distinct <= listed_entries) return;
    // distinctIPs is any finite number the proxy sends (1e308 included): clamp first.
    constexpr double kMaxCount = 1e15;
    folded->folded += static_cast<std::size_t>(std::min(*distinct - listed_entries, kMaxCount));
  } else if (grouped_at_source || !MaybeCutWithoutCount(snapshot, options)) {
    return;
  }
  SeriesEntry& other = *folded->other;
  const double unlisted_connections = connections.active - Sum(*connections.by_ip);
  if (unlisted_connections > 0)
    other.connections = other.connections.value_or(0) + unlisted_connections;
  const auto& throughput = snapshot.throughput;
  if (throughput && throughput->by_ip && throughput->instant) {
    const proxy_client::InOut listed = Sum(*throughput->by_ip);
    proxy_client::InOut total = other.throughput.value_or(proxy_client::InOut{});
    if (throughput->instant->in > listed.in) total.in += throughput->instant->in - listed.in;
    if (throughput->instant->out > listed.out) total.out += throughput->instant->out - listed.out;
    other.throughput = total;
  }
}

}  // namespace

std::optional<std::string> IpNetwork(std::string_view ip, unsigned ipv4_prefix,
                                     unsigned ipv6_prefix) {
  // inet_pton needs a terminated string; anything longer than an address is not one.
  char text[INET6_ADDRSTRLEN + 1];
  if (ip.size() >= sizeof text || ip.find('\0') != std::string_view::npos) return std::nullopt;
  std::memcpy(text, ip.data(), ip.size());
  text[ip.size()] = '\0';
  ipv4_prefix = ipv4_prefix > 32 ? 32 : ipv4_prefix;
  ipv6_prefix = ipv6_prefix > 128 ? 128 : ipv6_prefix;

  in_addr v4{};
  if (inet_pton(AF_INET, text, &v4) == 1) {
    ClearHostBits(reinterpret_cast<unsigned char*>(&v4), sizeof v4, ipv4_prefix);
    return FormatNetwork(AF_INET, &v4, ipv4_prefix);
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, text, &v6) == 1) {
    if (IN6_IS_ADDR_V4MAPPED(&v6)) {
      std::memcpy(&v4, v6.s6_addr + 12, sizeof v4);
      ClearHostBits(reinterpret_cast<unsigned char*>(&v4), sizeof v4, ipv4_prefix);
      return FormatNetwork(AF_INET, &v4, ipv4_prefix);
    }
    ClearHostBits(v6.s6_addr, sizeof v6.s6_addr, ipv6_prefix);
    return FormatNetwork(AF_INET6, &v6, ipv6_prefix);
  }
  return std::nullopt;
}

namespace {

bool GroupedAtSource(const proxy_client::Snapshot& snapshot, const IpOptions& options) {
  return options.anonymize == IpAnonymization::kPrefix && snapshot.connections.ip_grouping &&
         *snapshot.connections.ip_grouping ==
             proxy_client::IpGrouping{options.ipv4_prefix, options.ipv6_prefix};
}

}  // namespace

std::optional<double> DistinctClientIps(const proxy_client::Snapshot& snapshot,
                                        const IpOptions& options) {
  const auto& connections = snapshot.connections;
  if (connections.distinct_ips) return *connections.distinct_ips;
  if (!connections.by_ip || GroupedAtSource(snapshot, options) ||
      MaybeCutWithoutCount(snapshot, options)) {
    return std::nullopt;
  }
  return static_cast<double>(connections.by_ip->size());
}

FoldedSeries AggregateIps(const proxy_client::Snapshot& snapshot, const IpOptions& options) {
  if (options.top == 0) return {};
  const bool grouped_at_source = GroupedAtSource(snapshot, options);
  const auto& by_ip = snapshot.connections.by_ip;
  const auto* throughput_by_ip =
      snapshot.throughput && snapshot.throughput->by_ip ? &*snapshot.throughput->by_ip : nullptr;
  FoldOptions fold;
  fold.keep = options.top;
  fold.keep_without_connections = false;
  fold.always_other = true;
  FoldedSeries folded = FoldConnectionsAndThroughput(
      by_ip ? &*by_ip : nullptr, throughput_by_ip,
      [&](SeriesFolder* f, std::string_view ip, bool unique) {
        return FindIp(f, ip, unique, options, grouped_at_source);
      },
      fold);
  AddUnlistedIps(snapshot, options, grouped_at_source, &folded);
  return folded;
}

}  // namespace exporter::conversion
