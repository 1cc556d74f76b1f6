#include "proxy_sim/snapshot_json.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <charconv>
#include <cstring>
#include <unordered_map>

namespace proxy_sim {
namespace {

// Bytes that stop the fast copy loop: control characters, '"', '\\' and 0xED (which may
// start a surrogate).
constexpr std::array<bool, 256> MakeSpecialTable() {
  std::array<bool, 256> table{};
  for (int c = 0; c < 0x20; ++c) table[static_cast<std::size_t>(c)] = true;
  table['"'] = true;
  table['\\'] = true;
  table[0xED] = true;
  return table;
}
constexpr std::array<bool, 256> kSpecial = MakeSpecialTable();
constexpr char kHex[] = "0123456789abcdef";
constexpr std::size_t kMaxNumber = 32;  // to_chars of any double or uint64_t fits

char* PutUnsigned(char* p, std::uint64_t value) {
  return std::to_chars(p, p + kMaxNumber, value).ptr;
}

// Integral values below 2^53 without a fraction, others in the shortest round-trip form.
char* PutNumber(char* p, double value) {
  assert(value >= 0 && "protocol numbers are non-negative (rule 3)");
  if (value < 9007199254740992.0 &&
      value == static_cast<double>(static_cast<std::uint64_t>(value))) {
    return PutUnsigned(p, static_cast<std::uint64_t>(value));
  }
  return std::to_chars(p, p + kMaxNumber, value).ptr;
}

template <std::size_t N>
char* PutLiteral(char* p, const char (&literal)[N]) {
  std::memcpy(p, literal, N - 1);
  return p + N - 1;
}

// Appends into a std::string whose size is the capacity in use; `size_` is the real length.
// Growing with resize() zero-fills once; reuse across snapshots keeps the buffer warm.
class Sink {
 public:
  // Writes from buffer[size] on; bytes beyond size() are spare capacity.
  explicit Sink(std::string& buffer, std::size_t size = 0) : buffer_(buffer), size_(size) {}
  std::size_t size() const { return size_; }

  char* Reserve(std::size_t n) {
    if (size_ + n > buffer_.size()) buffer_.resize(std::max(buffer_.size() * 2, size_ + n + 4096));
    return buffer_.data() + size_;
  }
  void Commit(std::size_t n) { size_ += n; }
  void CommitTo(const char* end) { size_ = static_cast<std::size_t>(end - buffer_.data()); }
  void Append(std::string_view text) {
    std::memcpy(Reserve(text.size()), text.data(), text.size());
    size_ += text.size();
  }
  void Append(char c) {
    *Reserve(1) = c;
    ++size_;
  }
  void Unsigned(std::uint64_t value) { CommitTo(PutUnsigned(Reserve(kMaxNumber), value)); }
  void Number(double value) { CommitTo(PutNumber(Reserve(kMaxNumber), value)); }
  void String(std::string_view text) {
    // Worst case: every byte becomes \u00XX.
    char* const start = Reserve(text.size() * 6 + 2);
    char* p = start;
    *p++ = '"';
    const auto* s = reinterpret_cast<const unsigned char*>(text.data());
    const std::size_t n = text.size();
    for (std::size_t i = 0; i < n; ++i) {
      const unsigned char c = s[i];
      if (!kSpecial[c]) {
        *p++ = static_cast<char>(c);
        continue;
      }
      switch (c) {
        case '"':
          p = Put(p, "\\\"");
          break;
        case '\\':
          p = Put(p, "\\\\");
          break;
        case '\b':
          p = Put(p, "\\b");
          break;
        case '\f':
          p = Put(p, "\\f");
          break;
        case '\n':
          p = Put(p, "\\n");
          break;
        case '\r':
          p = Put(p, "\\r");
          break;
        case '\t':
          p = Put(p, "\\t");
          break;
        case 0xED:
          if (i + 2 < n && s[i + 1] >= 0xA0 && s[i + 1] <= 0xBF) {
            // U+D800..U+DFFF: 1101 1xxx xxxx xxxx from ED 101xxxxx 10xxxxxx.
            const unsigned code = 0xD000u | ((s[i + 1] & 0x3Fu) << 6) | (s[i + 2] & 0x3Fu);
            p = Put(p, "\\u");
            for (int shift = 12; shift >= 0; shift -= 4) *p++ = kHex[(code >> shift) & 0xF];
            i += 2;
          } else {
            *p++ = static_cast<char>(c);
          }
          break;
        default:  // other control characters
          p = Put(p, "\\u00");
          *p++ = kHex[c >> 4];
          *p++ = kHex[c & 0xF];
          break;
      }
    }
    *p++ = '"';
    size_ += static_cast<std::size_t>(p - start);
  }

 private:
  template <std::size_t N>
  static char* Put(char* p, const char (&literal)[N]) {
    std::memcpy(p, literal, N - 1);
    return p + N - 1;
  }

  std::string& buffer_;
  std::size_t size_;
};

void InOut(Sink& out, const InOutRate& value) {
  out.Append("{\"in\":");
  out.Number(value.in);
  out.Append(",\"out\":");
  out.Number(value.out);
  out.Append('}');
}

void Quantiles(Sink& out, const QuantileValues& q) {
  out.Append("{\"p50\":");
  out.Number(q.p50);
  out.Append(",\"p95\":");
  out.Number(q.p95);
  out.Append(",\"p99\":");
  out.Number(q.p99);
  out.Append('}');
}

// The SmartProxy release each generation stands for: the last with IProxyStats only, the
// release whose metrics types the adapter was written against, and the first with byDomain.
std::string_view SmartProxyVersion(Generation generation) {
  switch (generation) {
    case Generation::k19_6:
      return "19.6.2";
    case Generation::k21_1:
      return "21.1.3";
    case Generation::k27:
      return "27.8.0";
  }
  return "27.8.0";
}

// ,"byDomain":{...} inside requests.
void WriteDomains(Sink& out, const std::vector<std::string>& names,
                  const std::vector<DomainRate>& domains) {
  out.Append(",\"byDomain\":{");
  for (std::size_t d = 0; d < domains.size(); ++d) {
    if (d > 0) out.Append(',');
    out.String(names[d]);
    out.Append(":{\"perSecond\":");
    out.Number(domains[d].per_second);
    out.Append(",\"perMinute\":");
    out.Number(domains[d].per_minute);
    out.Append('}');
  }
  out.Append('}');
}

void WriteBackends(Sink& out, const Simulation& simulation, bool hostile) {
  const auto& names = simulation.backend_names(hostile);
  const auto& protocols = simulation.protocol_of_backend();
  const auto& backends = simulation.state().backends;
  out.Append(",\"backends\":{");
  for (std::size_t b = 0; b < backends.size(); ++b) {
    const BackendState& backend = backends[b];
    if (b > 0) out.Append(',');
    out.String(names[b]);
    out.Append(":{\"protocol\":");
    out.String(protocols[b]);
    out.Append(",\"active\":");
    out.Unsigned(backend.active);
    out.Append(",\"total\":");
    out.Unsigned(backend.total);
    out.Append(",\"connectErrors\":");
    out.Unsigned(backend.connect_errors);
    out.Append(",\"handshakeErrors\":");
    out.Unsigned(backend.handshake_errors);
    out.Append(",\"requestErrors\":");
    out.Unsigned(backend.request_errors);
    out.Append(",\"connectTimeMs\":");
    out.Number(backend.connect_time_ms);
    out.Append(",\"poolHits\":");
    out.Unsigned(backend.pool_hits);
    out.Append(",\"poolMisses\":");
    out.Unsigned(backend.pool_misses);
    out.Append('}');
  }
  out.Append('}');
}

void WriteProtocolSide(Sink& out, const std::vector<std::string>& names,
                       const std::vector<ProtocolState>& values) {
  out.Append('{');
  for (std::size_t p = 0; p < values.size(); ++p) {
    if (p > 0) out.Append(',');
    out.String(names[p]);
    out.Append(":{\"active\":");
    out.Unsigned(values[p].active);
    out.Append(",\"total\":");
    out.Unsigned(values[p].total);
    out.Append('}');
  }
  out.Append('}');
}

void WriteProtocols(Sink& out, const Simulation& simulation) {
  const SimulationState& s = simulation.state();
  out.Append(",\"protocols\":{\"frontend\":");
  WriteProtocolSide(out, simulation.frontend_protocols(), s.frontend_protocols);
  out.Append(",\"backend\":");
  WriteProtocolSide(out, simulation.backend_protocols(), s.backend_protocols);
  out.Append('}');
}

void WriteUdp(Sink& out, const UdpState& udp) {
  out.Append(",\"udp\":{\"activeSessions\":");
  out.Unsigned(udp.active_sessions);
  out.Append(",\"totalSessions\":");
  out.Unsigned(udp.total_sessions);
  out.Append(",\"datagramsIn\":");
  out.Unsigned(udp.datagrams_in);
  out.Append(",\"datagramsOut\":");
  out.Unsigned(udp.datagrams_out);
  out.Append('}');
}

}  // namespace

std::string_view ProxySimVersion() { return PROXY_SIM_VERSION; }

std::string_view SnapshotWriter::Write(const Simulation& simulation,
                                       const SnapshotOptions& options) {
  const SimulationState& s = simulation.state();
  const auto& routes = simulation.route_names(options.hostile_names);
  const std::size_t ip_count = s.ip_active.size();

  // The entries of the two per-IP maps: the IPs, or (grouped) their networks with summed values,
  // in index order, which for networks is the order of first appearance.
  const NetworkCache* networks = nullptr;
  if (options.ip_grouping) {
    networks = &Networks(simulation, options.hostile_names, *options.ip_grouping);
    network_active_.assign(networks->names.size(), 0);
    network_throughput_.assign(networks->names.size(), {});
    for (std::size_t i = 0; i < ip_count; ++i) {
      const std::uint32_t n = networks->network_of_ip[i];
      network_active_[n] += s.ip_active[i];
      network_throughput_[n].in += s.ip_throughput[i].in;
      network_throughput_[n].out += s.ip_throughput[i].out;
    }
  }
  const std::size_t entry_count = networks ? networks->names.size() : ip_count;
  const auto active_of = [&](std::size_t j) -> std::uint64_t {
    return networks ? network_active_[j] : s.ip_active[j];
  };
  const auto throughput_of = [&](std::size_t j) -> const InOutRate& {
    return networks ? network_throughput_[j] : s.ip_throughput[j];
  };

  // ?ips=N selects the top N by active connections: nth_element and a sort of the N winners,
  // O(n + N log N), instead of sorting all n. Ties: lower index first for IPs, the smaller name
  // for networks (as the exporter breaks them when it groups).
  const bool limited = options.max_ips && *options.max_ips < entry_count;
  std::size_t selected = entry_count;
  if (limited) {
    selected = *options.max_ips;
    order_.resize(entry_count);
    for (std::size_t i = 0; i < entry_count; ++i) order_[i] = static_cast<std::uint32_t>(i);
    const auto more_active = [&](std::uint32_t a, std::uint32_t b) {
      const std::uint64_t active_a = active_of(a);
      const std::uint64_t active_b = active_of(b);
      if (active_a != active_b) return active_a > active_b;
      return networks ? networks->names[a] < networks->names[b] : a < b;
    };
    if (selected > 0) {
      std::nth_element(order_.begin(), order_.begin() + static_cast<std::ptrdiff_t>(selected - 1),
                       order_.end(), more_active);
      std::sort(order_.begin(), order_.begin() + static_cast<std::ptrdiff_t>(selected),
                more_active);
    }
  }
  const auto entry_at = [&](std::size_t k) -> std::size_t { return limited ? order_[k] : k; };

  const Generation generation = simulation.options().generation;
  const bool stats_api = generation == Generation::k19_6;
  Sink out(buffer_);
  out.Append("{\"schemaVersion\":1,\"timestamp\":");
  out.Unsigned(static_cast<std::uint64_t>(s.timestamp_ms));
  out.Append(",\"adapter\":{\"name\":\"proxy-sim\",\"version\":");
  out.String(ProxySimVersion());
  out.Append(stats_api ? ",\"api\":\"IProxyStats\"" : ",\"api\":\"IMetrics\"");
  out.Append(",\"skipped\":0},\"proxy\":{\"name\":\"smartproxy\",\"version\":");
  out.String(SmartProxyVersion(generation));
  out.Append(",\"instance\":");
  out.String(s.instance);
  out.Append(",\"startTime\":");
  out.Unsigned(static_cast<std::uint64_t>(s.start_time_ms));
  out.Append("},\"connections\":{\"active\":");
  out.Unsigned(s.connections_active);
  out.Append(",\"total\":");
  out.Unsigned(s.connections_total);
  out.Append(",\"byRoute\":{");
  for (std::size_t r = 0; r < routes.size(); ++r) {
    if (r > 0) out.Append(',');
    out.String(routes[r]);
    out.Append(':');
    out.Unsigned(s.route_active[r]);
  }
  out.Append("},\"byIP\":{");
  // The hot loops: one capacity check per entry, then raw writes.
  const KeyCache& keys = networks ? networks->keys : IpKeys(simulation, options.hostile_names);
  const auto key = [&keys](std::size_t i) {
    return std::string_view(keys.text).substr(keys.offsets[i],
                                              keys.offsets[i + 1] - keys.offsets[i]);
  };
  for (std::size_t k = 0; k < selected; ++k) {
    const std::size_t i = entry_at(k);
    const std::string_view name = key(i);
    char* p = out.Reserve(1 + name.size() + kMaxNumber);
    if (k > 0) *p++ = ',';
    std::memcpy(p, name.data(), name.size());
    p = PutUnsigned(p + name.size(), active_of(i));
    out.CommitTo(p);
  }
  out.Append("},\"distinctIPs\":");
  out.Unsigned(ip_count);
  if (networks) {
    out.Append(",\"ipGrouping\":{\"ipv4Prefix\":");
    out.Unsigned(networks->grouping.ipv4_prefix);
    out.Append(",\"ipv6Prefix\":");
    out.Unsigned(networks->grouping.ipv6_prefix);
    out.Append("},\"distinctNetworks\":");
    out.Unsigned(networks->names.size());
  }
  if (stats_api) {
    // IProxyStats: getRequestsPerSecond() (requests of the last 60 s / 60) times 60, and
    // getThroughput(), the bytes of the connections open now. Nothing else.
    out.Append("},\"requests\":{\"perMinute\":");
    out.Number(s.requests_per_minute);
    out.Append("},\"openConnectionBytes\":");
    InOut(out, s.open_connection_bytes);
    out.Append('}');
    return {buffer_.data(), out.size()};
  }
  out.Append("},\"requests\":{\"total\":");
  out.Unsigned(s.requests_total);
  out.Append(",\"perSecond\":");
  out.Number(s.requests_per_second);
  out.Append(",\"perMinute\":");
  out.Number(s.requests_per_minute);
  const bool groups_1_1 = generation == Generation::k27;
  if (groups_1_1) WriteDomains(out, simulation.domain_names(options.hostile_names), s.domains);
  out.Append("},\"bytes\":{\"in\":");
  out.Unsigned(s.bytes_in);
  out.Append(",\"out\":");
  out.Unsigned(s.bytes_out);
  out.Append("},\"throughput\":{\"instant\":");
  InOut(out, s.instant);
  out.Append(",\"recent\":");
  InOut(out, s.recent);
  out.Append(",\"average\":");
  InOut(out, s.average);
  out.Append(",\"byRoute\":{");
  for (std::size_t r = 0; r < routes.size(); ++r) {
    if (r > 0) out.Append(',');
    out.String(routes[r]);
    out.Append(':');
    InOut(out, s.route_throughput[r]);
  }
  out.Append("},\"byIP\":{");
  for (std::size_t k = 0; k < selected; ++k) {
    const std::size_t i = entry_at(k);
    const std::string_view name = key(i);
    const InOutRate& pair = throughput_of(i);
    char* p = out.Reserve(1 + name.size() + 16 + 2 * kMaxNumber);
    if (k > 0) *p++ = ',';
    std::memcpy(p, name.data(), name.size());
    p = PutLiteral(p + name.size(), "{\"in\":");
    p = PutNumber(p, pair.in);
    p = PutLiteral(p, ",\"out\":");
    p = PutNumber(p, pair.out);
    *p++ = '}';
    out.CommitTo(p);
  }
  out.Append("}},\"percentiles\":{\"connectionDurationMs\":");
  Quantiles(out, s.connection_duration_ms);
  out.Append(",\"bytesTransferred\":{\"in\":");
  Quantiles(out, s.bytes_transferred_in);
  out.Append(",\"out\":");
  Quantiles(out, s.bytes_transferred_out);
  out.Append("}}");
  if (groups_1_1) {
    WriteBackends(out, simulation, options.hostile_names);
    WriteProtocols(out, simulation);
    WriteUdp(out, s.udp);
  }
  out.Append('}');
  return {buffer_.data(), out.size()};
}

const SnapshotWriter::KeyCache& SnapshotWriter::IpKeys(const Simulation& simulation, bool hostile) {
  KeyCache& cache = ip_keys_[hostile ? 1 : 0];
  if (cache.simulation_id == simulation.id()) return cache;
  const auto& names = simulation.ip_names(hostile);
  cache.text.clear();
  cache.offsets.clear();
  cache.offsets.reserve(names.size() + 1);
  for (const std::string& name : names) {
    cache.offsets.push_back(cache.text.size());
    AppendJsonString(cache.text, name);
    cache.text += ':';
  }
  cache.offsets.push_back(cache.text.size());
  cache.simulation_id = simulation.id();
  return cache;
}

const SnapshotWriter::NetworkCache& SnapshotWriter::Networks(const Simulation& simulation,
                                                             bool hostile,
                                                             const IpGrouping& grouping) {
  NetworkCache& cache = networks_;
  if (cache.simulation_id == simulation.id() && cache.hostile == hostile &&
      cache.grouping.ipv4_prefix == grouping.ipv4_prefix &&
      cache.grouping.ipv6_prefix == grouping.ipv6_prefix) {
    return cache;
  }
  const auto& ips = simulation.ip_names(hostile);
  cache.network_of_ip.clear();
  cache.names.clear();
  std::unordered_map<std::string, std::uint32_t> index;
  for (const std::string& ip : ips) {
    std::string name = IpNetworkOf(ip, grouping).value_or(std::string(kInvalidNetwork));
    const auto [it, added] = index.try_emplace(name, static_cast<std::uint32_t>(index.size()));
    if (added) cache.names.push_back(std::move(name));
    cache.network_of_ip.push_back(it->second);
  }
  cache.keys.text.clear();
  cache.keys.offsets.clear();
  for (const std::string& name : cache.names) {
    cache.keys.offsets.push_back(cache.keys.text.size());
    AppendJsonString(cache.keys.text, name);
    cache.keys.text += ':';
  }
  cache.keys.offsets.push_back(cache.keys.text.size());
  cache.simulation_id = simulation.id();
  cache.hostile = hostile;
  cache.grouping = grouping;
  return cache;
}

std::string RenderSnapshot(const Simulation& simulation, const SnapshotOptions& options) {
  SnapshotWriter writer;
  return std::string(writer.Write(simulation, options));
}

void AppendJsonString(std::string& out, std::string_view text) {
  const std::size_t start = out.size();
  out.resize(start + text.size() * 6 + 2);  // the worst case, so Sink never grows it
  Sink sink(out, start);
  sink.String(text);
  out.resize(sink.size());
}

void AppendJsonNumber(std::string& out, double value) {
  const std::size_t start = out.size();
  out.resize(start + kMaxNumber);
  Sink sink(out, start);
  sink.Number(value);
  out.resize(sink.size());
}

}  // namespace proxy_sim
