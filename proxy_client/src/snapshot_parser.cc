#include "proxy_client/snapshot_parser.h"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <new>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "page_memory/large_block.h"
#include "page_memory/page_buffer.h"
#include "proxy_client/name_hash.h"
#include "surrogate_escapes.h"

namespace proxy_client {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

// docs/snapshot-protocol.md, rule 2: unknown fields of any type are skipped at any depth, so a
// newer adapter's nested group cannot take an older exporter down; only the whole document is
// bounded, at 64 levels of objects and arrays (the root object is level 1). The schema itself
// needs 4 (percentiles.bytesTransferred.in, protocols.frontend["h2"]).
constexpr std::size_t kMaxDocumentDepth = 64;
// simdjson (3.0.1, stage 2's json_iterator) counts only non-empty containers against its
// max_depth: with max_depth N it refuses one that opens at level N and admits an empty {} or []
// there. So the parser runs at 64: all it admits is within the limit, and a document it refuses
// for depth holds a non-empty container at level 64 or deeper, which ParseAtDepthLimit decides.
constexpr std::size_t kSimdjsonMaxDepth = kMaxDocumentDepth;
// Counters must be exact in a double, and in JavaScript (Number.MAX_SAFE_INTEGER + 1).
constexpr double kMaxCounter = 9007199254740992.0;  // 2^53
constexpr std::size_t kMaxQuotedLength = 40;
// The largest body whose capacity with the parser's quarter of headroom stays within
// simdjson's limit (4 GiB); a larger one is refused before any buffer is touched.
constexpr std::size_t kMaxParsedBodyBytes = simdjson::SIMDJSON_MAXSIZE_BYTES / 5 * 4;

// A JSON path such as connections.byRoute["api"], kept as a chain of parent pointers so that
// no string is built unless an error is reported.
struct Path {
  const Path* parent = nullptr;
  std::string_view field;  // a schema field name, or
  std::string_view key;    // a map key (printed as ["key"])
  bool is_key = false;

  Path Field(std::string_view name) const { return Path{this, name, {}, false}; }
  Path Key(std::string_view name) const { return Path{this, {}, name, true}; }
};

void AppendQuoted(std::string& out, std::string_view text) {
  out += '"';
  std::size_t shown = 0;
  for (const char c : text) {
    if (shown == kMaxQuotedLength) {
      out += "...";
      break;
    }
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20 || byte == 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\u00";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    } else {
      out += c;
    }
    ++shown;
  }
  out += '"';
}

std::string FormatPath(const Path& path) {
  std::vector<const Path*> chain;
  for (const Path* p = &path; p != nullptr && (p->is_key || !p->field.empty()); p = p->parent) {
    chain.push_back(p);
  }
  std::string out;
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    if ((*it)->is_key) {
      out += '[';
      AppendQuoted(out, (*it)->key);
      out += ']';
    } else {
      if (!out.empty()) out += '.';
      out += (*it)->field;
    }
  }
  return out.empty() ? std::string("(document)") : out;
}

std::string Describe(element value) {
  switch (value.type()) {
    case element_type::ARRAY:
      return "an array";
    case element_type::OBJECT:
      return "an object";
    case element_type::STRING: {
      std::string out;
      AppendQuoted(out, std::string_view(value.get_string().value_unsafe()));
      return out;
    }
    case element_type::INT64:
      return std::to_string(value.get_int64().value_unsafe());
    case element_type::UINT64:
      return std::to_string(value.get_uint64().value_unsafe());
    case element_type::DOUBLE: {
      char buffer[32];
      std::snprintf(buffer, sizeof buffer, "%.17g", value.get_double().value_unsafe());
      return buffer;
    }
    case element_type::BOOL:
      return value.get_bool().value_unsafe() ? "true" : "false";
    case element_type::NULL_VALUE:
      return "null";
  }
  return "an unknown value";
}

// The walk below returns false on the first problem and leaves its message in *error, so that a
// bad snapshot travels up as a value: nothing is thrown on the scrape path.
bool Fail(const Path& path, std::string_view expected, element got, std::string* error) {
  *error = FormatPath(path) + ": expected " + std::string(expected) + ", got " + Describe(got);
  return false;
}

bool FailMissing(const Path& path, std::string_view field, std::string* error) {
  *error = FormatPath(path.Field(field)) + ": required field is missing";
  return false;
}

bool IsNumber(element value) {
  const auto type = value.type();
  return type == element_type::INT64 || type == element_type::UINT64 ||
         type == element_type::DOUBLE;
}

double AsDouble(element value) {
  switch (value.type()) {
    case element_type::INT64:
      return static_cast<double>(value.get_int64().value_unsafe());
    case element_type::UINT64:
      return static_cast<double>(value.get_uint64().value_unsafe());
    default:
      return value.get_double().value_unsafe();
  }
}

// A fresh value in an optional field, for the readers below to fill.
template <typename T>
T* Fresh(std::optional<T>* field) {
  return &field->emplace();
}

// A non-negative finite number (simdjson already refuses NaN and Infinity as invalid JSON).
bool Gauge(element value, const Path& path, double* out, std::string* error) {
  if (!IsNumber(value)) return Fail(path, "a non-negative number", value, error);
  const double number = AsDouble(value);
  if (!(number >= 0) || !std::isfinite(number)) {
    return Fail(path, "a non-negative number", value, error);
  }
  *out = number;
  return true;
}

bool Counter(element value, const Path& path, double* out, std::string* error) {
  if (!IsNumber(value)) return Fail(path, "a non-negative integer counter", value, error);
  // Compare before converting: 2^53 + 1 as uint64 would round down to 2^53 as a double.
  if (value.type() == element_type::UINT64 &&
      value.get_uint64().value_unsafe() > (std::uint64_t{1} << 53)) {
    return Fail(path, "a counter no larger than 2^53", value, error);
  }
  if (value.type() == element_type::INT64 &&
      value.get_int64().value_unsafe() > (std::int64_t{1} << 53)) {
    return Fail(path, "a counter no larger than 2^53", value, error);
  }
  const double number = AsDouble(value);
  if (!(number >= 0) || !std::isfinite(number)) {
    return Fail(path, "a non-negative integer counter", value, error);
  }
  if (number > kMaxCounter) return Fail(path, "a counter no larger than 2^53", value, error);
  *out = number;
  return true;
}

bool String(element value, const Path& path, std::string* out, std::string* error) {
  if (value.type() != element_type::STRING) return Fail(path, "a string", value, error);
  *out = std::string_view(value.get_string().value_unsafe());
  return true;
}

bool Object(element value, const Path& path, object* out, std::string* error) {
  if (value.type() != element_type::OBJECT) return Fail(path, "an object", value, error);
  *out = value.get_object().value_unsafe();
  return true;
}

bool ParseInOut(element value, const Path& path, InOut* out, std::string* error) {
  object fields;
  if (!Object(value, path, &fields, error)) return false;
  bool has_in = false;
  bool has_out = false;
  for (auto field : fields) {
    if (field.key == "in") {
      if (!Gauge(field.value, path.Field("in"), &out->in, error)) return false;
      has_in = true;
    } else if (field.key == "out") {
      if (!Gauge(field.value, path.Field("out"), &out->out, error)) return false;
      has_out = true;
    }
  }
  if (!has_in) return FailMissing(path, "in", error);
  if (!has_out) return FailMissing(path, "out", error);
  return true;
}

// Open-addressing index from name to position, so that a repeated name in a map of 100k
// entries costs one probe instead of a node allocation per entry.
class NameIndex {
 public:
  void Reset(std::size_t entries) {
    std::size_t capacity = 16;
    while (capacity < entries * 2) capacity *= 2;
    slots_.assign(capacity, 0);
    mask_ = capacity - 1;
  }

  // Scratch space for one map's name hashes, reused across the maps of a snapshot.
  page_memory::LargeVector<std::size_t>& hashes() { return hashes_; }

  // Frees the table and the hashes (MBs for a map of 100k names) until the next snapshot.
  void Release() {
    page_memory::LargeVector<std::uint64_t>().swap(slots_);
    page_memory::LargeVector<std::size_t>().swap(hashes_);
    mask_ = 0;
  }

  // Fetches the slot `hash` starts at into the cache ahead of its use: the table of a large
  // map does not fit in L2, and without this every entry waits for one cache miss.
  void Prefetch(std::size_t hash) const { __builtin_prefetch(&slots_[hash & mask_]); }

  // Returns the position already stored for `name`, or stores `position` and returns it.
  template <typename Entries>
  std::size_t FindOrInsert(const Entries& entries, std::string_view name, std::size_t hash,
                           std::size_t position) {
    // A slot holds the upper half of the name's hash beside its position, so that a probe
    // past another name compares hashes in the table instead of reaching into `entries` (a
    // cache miss per probe on a large map).
    const std::uint64_t fingerprint = static_cast<std::uint64_t>(hash) >> 32;
    std::size_t slot = hash & mask_;
    while (slots_[slot] != 0) {
      if ((slots_[slot] >> 32) == fingerprint) {
        const std::size_t existing = (slots_[slot] & 0xffffffffu) - 1;
        if (entries[existing].first == name) return existing;
      }
      slot = (slot + 1) & mask_;
    }
    slots_[slot] = (fingerprint << 32) | static_cast<std::uint64_t>(position + 1);
    return position;
  }

 private:
  page_memory::LargeVector<std::uint64_t> slots_;  // (hash >> 32) << 32 | position + 1; 0: empty
  std::size_t mask_ = 0;
  page_memory::LargeVector<std::size_t> hashes_;
};

// `parse_value(element, path, Value*, error)` reads one entry's value.
template <typename Value, typename ParseValue>
bool ParseMap(element value, const Path& path, NameIndex& index, ParseValue parse_value,
              NamedValues<Value>* out, std::string* error) {
  object map;
  if (!Object(value, path, &map, error)) return false;
  NamedValues<Value>& entries = *out;
  const std::size_t size = map.size();
  entries.reserve(size);
  if (size <= 1) {
    for (auto field : map) {
      Value parsed{};
      if (!parse_value(field.value, path.Key(field.key), &parsed, error)) return false;
      entries.emplace_back(std::string(field.key), std::move(parsed));
    }
    return true;
  }
  // Two passes: hash every name first, so that the second pass can prefetch the slot of the
  // entry a few places ahead while it handles this one.
  index.Reset(size);
  auto& hashes = index.hashes();
  hashes.clear();
  hashes.reserve(size);
  for (auto field : map) hashes.push_back(HashName(field.key));
  constexpr std::size_t kPrefetchDistance = 16;
  std::size_t i = 0;
  for (auto field : map) {
    if (i + kPrefetchDistance < hashes.size()) index.Prefetch(hashes[i + kPrefetchDistance]);
    const std::string_view name = field.key;
    Value parsed{};
    if (!parse_value(field.value, path.Key(name), &parsed, error)) return false;
    const std::size_t position = index.FindOrInsert(entries, name, hashes[i++], entries.size());
    if (position != entries.size()) {
      entries[position].second = std::move(parsed);  // a repeated name: the later value wins
      continue;
    }
    entries.emplace_back(std::string(name), std::move(parsed));
  }
  return true;
}

// One optional number of a group: its JSON name, its check (Gauge or Counter) and its member.
template <typename Group>
struct NumberMember {
  std::string_view key;
  bool (*check)(element, const Path&, double*, std::string*);
  std::optional<double> Group::*member;
};

// Reads `value` into the member named `key`, if `members` has one; any other key is an unknown
// field and skipped. Returns false on a bad value.
template <typename Group, std::size_t N>
bool ReadNumberMember(const std::array<NumberMember<Group>, N>& members, std::string_view key,
                      element value, const Path& path, Group* group, std::string* error) {
  for (const NumberMember<Group>& number : members) {
    if (key == number.key) {
      return number.check(value, path.Field(number.key), Fresh(&(group->*number.member)), error);
    }
  }
  return true;
}

// A group whose members are all optional numbers.
template <typename Group, std::size_t N>
bool ParseNumberGroup(const std::array<NumberMember<Group>, N>& members, element value,
                      const Path& path, Group* group, std::string* error) {
  object fields;
  if (!Object(value, path, &fields, error)) return false;
  for (auto field : fields) {
    if (!ReadNumberMember(members, field.key, field.value, path, group, error)) return false;
  }
  return true;
}

constexpr std::array<NumberMember<Quantiles>, 3> kQuantileMembers{{
    {"p50", Gauge, &Quantiles::p50},
    {"p95", Gauge, &Quantiles::p95},
    {"p99", Gauge, &Quantiles::p99},
}};

constexpr std::array<NumberMember<Requests>, 3> kRequestsMembers{{
    {"total", Counter, &Requests::total},
    {"perSecond", Gauge, &Requests::per_second},
    {"perMinute", Gauge, &Requests::per_minute},
}};

constexpr std::array<NumberMember<DomainRequests>, 2> kDomainRequestsMembers{{
    {"perSecond", Gauge, &DomainRequests::per_second},
    {"perMinute", Gauge, &DomainRequests::per_minute},
}};

constexpr std::array<NumberMember<Backend>, 8> kBackendMembers{{
    {"active", Gauge, &Backend::active},
    {"total", Counter, &Backend::total},
    {"connectErrors", Counter, &Backend::connect_errors},
    {"handshakeErrors", Counter, &Backend::handshake_errors},
    {"requestErrors", Counter, &Backend::request_errors},
    {"connectTimeMs", Gauge, &Backend::connect_time_ms},
    {"poolHits", Counter, &Backend::pool_hits},
    {"poolMisses", Counter, &Backend::pool_misses},
}};

constexpr std::array<NumberMember<ProtocolConnections>, 2> kProtocolConnectionsMembers{{
    {"active", Gauge, &ProtocolConnections::active},
    {"total", Counter, &ProtocolConnections::total},
}};

constexpr std::array<NumberMember<Udp>, 4> kUdpMembers{{
    {"activeSessions", Gauge, &Udp::active_sessions},
    {"totalSessions", Counter, &Udp::total_sessions},
    {"datagramsIn", Counter, &Udp::datagrams_in},
    {"datagramsOut", Counter, &Udp::datagrams_out},
}};

bool ParseProxy(element value, const Path& path, ProxyInfo* proxy, std::string* error) {
  object fields;
  if (!Object(value, path, &fields, error)) return false;
  for (auto field : fields) {
    bool ok = true;
    if (field.key == "name") {
      ok = String(field.value, path.Field("name"), Fresh(&proxy->name), error);
    } else if (field.key == "version") {
      ok = String(field.value, path.Field("version"), Fresh(&proxy->version), error);
    } else if (field.key == "instance") {
      ok = String(field.value, path.Field("instance"), Fresh(&proxy->instance), error);
    } else if (field.key == "startTime") {
      ok = Gauge(field.value, path.Field("startTime"), Fresh(&proxy->start_time_ms), error);
    }
    if (!ok) return false;
  }
  return true;
}

// A prefix length: an integer from 0 to `max`.
bool PrefixLength(element value, const Path& path, unsigned max, unsigned* out,
                  std::string* error) {
  const std::string expected = "an integer prefix length from 0 to " + std::to_string(max);
  if (!IsNumber(value)) return Fail(path, expected, value, error);
  const double number = AsDouble(value);
  if (!(number >= 0 && number <= max) || number != std::floor(number)) {
    return Fail(path, expected, value, error);
  }
  *out = static_cast<unsigned>(number);
  return true;
}

// connections.ipGrouping (protocol 1.1): both prefixes are required.
bool ParseIpGrouping(element value, const Path& path, IpGrouping* grouping, std::string* error) {
  object fields;
  if (!Object(value, path, &fields, error)) return false;
  bool has_ipv4 = false;
  bool has_ipv6 = false;
  for (auto field : fields) {
    bool ok = true;
    if (field.key == "ipv4Prefix") {
      ok = PrefixLength(field.value, path.Field("ipv4Prefix"), 32, &grouping->ipv4_prefix, error);
      has_ipv4 = true;
    } else if (field.key == "ipv6Prefix") {
      ok = PrefixLength(field.value, path.Field("ipv6Prefix"), 128, &grouping->ipv6_prefix, error);
      has_ipv6 = true;
    }
    if (!ok) return false;
  }
  if (!has_ipv4) return FailMissing(path, "ipv4Prefix", error);
  if (!has_ipv6) return FailMissing(path, "ipv6Prefix", error);
  return true;
}

bool ParseConnections(element value, const Path& path, NameIndex& index, Connections* connections,
                      std::string* error) {
  object fields;
  if (!Object(value, path, &fields, error)) return false;
  bool has_active = false;
  bool has_total = false;
  for (auto field : fields) {
    bool ok = true;
    if (field.key == "active") {
      ok = Gauge(field.value, path.Field("active"), &connections->active, error);
      has_active = true;
    } else if (field.key == "total") {
      ok = Counter(field.value, path.Field("total"), &connections->total, error);
      has_total = true;
    } else if (field.key == "byRoute") {
      ok = ParseMap<double>(field.value, path.Field("byRoute"), index, Gauge,
                            Fresh(&connections->by_route), error);
    } else if (field.key == "byIP") {
      ok = ParseMap<double>(field.value, path.Field("byIP"), index, Gauge,
                            Fresh(&connections->by_ip), error);
    } else if (field.key == "distinctIPs") {
      ok = Gauge(field.value, path.Field("distinctIPs"), Fresh(&connections->distinct_ips), error);
    } else if (field.key == "ipGrouping") {
      ok = ParseIpGrouping(field.value, path.Field("ipGrouping"), Fresh(&connections->ip_grouping),
                           error);
    } else if (field.key == "distinctNetworks") {
      ok = Gauge(field.value, path.Field("distinctNetworks"),
                 Fresh(&connections->distinct_networks), error);
    }
    if (!ok) return false;
  }
  if (!has_active) return FailMissing(path, "active", error);
  if (!has_total) return FailMissing(path, "total", error);
  return true;
}

bool ParseDomainRequests(element value, const Path& path, DomainRequests* domain,
                         std::string* error) {
  return ParseNumberGroup(kDomainRequestsMembers, value, path, domain, error);
}

bool ParseRequests(element value, const Path& path, NameIndex& index, Requests* requests,
                   std::string* error) {
  object fields;
  if (!Object(value, path, &fields, error)) return false;
  for (auto field : fields) {
    bool ok = true;
    if (field.key == "byDomain") {
      ok = ParseMap<DomainRequests>(field.value, path.Field("byDomain"), index, ParseDomainRequests,
                                    Fresh(&requests->by_domain), error);
    } else {
      ok = ReadNumberMember(kRequestsMembers, field.key, field.value, path, requests, error);
    }
    if (!ok) return false;
  }
  return true;
}

bool ParseByteTotals(element value, const Path& path, InOut* totals, std::string* error) {
  object fields;
  if (!Object(value, path, &fields, error)) return false;
  bool has_in = false;
  bool has_out = false;
  for (auto field : fields) {
    bool ok = true;
    if (field.key == "in") {
      ok = Counter(field.value, path.Field("in"), &totals->in, error);
      has_in = true;
    } else if (field.key == "out") {
      ok = Counter(field.value, path.Field("out"), &totals->out, error);
      has_out = true;
    }
    if (!ok) return false;
  }
  if (!has_in) return FailMissing(path, "in", error);
  if (!has_out) return FailMissing(path, "out", error);
  return true;
}

bool ParseThroughput(element value, const Path& path, NameIndex& index, Throughput* throughput,
                     std::string* error) {
  object fields;
  if (!Object(value, path, &fields, error)) return false;
  for (auto field : fields) {
    bool ok = true;
    if (field.key == "instant") {
      ok = ParseInOut(field.value, path.Field("instant"), Fresh(&throughput->instant), error);
    } else if (field.key == "recent") {
      ok = ParseInOut(field.value, path.Field("recent"), Fresh(&throughput->recent), error);
    } else if (field.key == "average") {
      ok = ParseInOut(field.value, path.Field("average"), Fresh(&throughput->average), error);
    } else if (field.key == "byRoute") {
      ok = ParseMap<InOut>(field.value, path.Field("byRoute"), index, ParseInOut,
                           Fresh(&throughput->by_route), error);
    } else if (field.key == "byIP") {
      ok = ParseMap<InOut>(field.value, path.Field("byIP"), index, ParseInOut,
                           Fresh(&throughput->by_ip), error);
    }
    if (!ok) return false;
  }
  return true;
}

bool ParseQuantiles(element value, const Path& path, Quantiles* quantiles, std::string* error) {
  return ParseNumberGroup(kQuantileMembers, value, path, quantiles, error);
}

bool ParsePercentiles(element value, const Path& path, Percentiles* percentiles,
                      std::string* error) {
  object fields;
  if (!Object(value, path, &fields, error)) return false;
  for (auto field : fields) {
    if (field.key == "connectionDurationMs") {
      if (!ParseQuantiles(field.value, path.Field("connectionDurationMs"),
                          Fresh(&percentiles->connection_duration_ms), error)) {
        return false;
      }
    } else if (field.key == "bytesTransferred") {
      const Path transferred = path.Field("bytesTransferred");
      object directions;
      if (!Object(field.value, transferred, &directions, error)) return false;
      for (auto direction : directions) {
        bool ok = true;
        if (direction.key == "in") {
          ok = ParseQuantiles(direction.value, transferred.Field("in"),
                              Fresh(&percentiles->bytes_transferred_in), error);
        } else if (direction.key == "out") {
          ok = ParseQuantiles(direction.value, transferred.Field("out"),
                              Fresh(&percentiles->bytes_transferred_out), error);
        }
        if (!ok) return false;
      }
    }
  }
  return true;
}

bool ParseAdapter(element value, const Path& path, AdapterInfo* adapter, std::string* error) {
  object fields;
  if (!Object(value, path, &fields, error)) return false;
  for (auto field : fields) {
    bool ok = true;
    if (field.key == "name") {
      ok = String(field.value, path.Field("name"), Fresh(&adapter->name), error);
    } else if (field.key == "version") {
      ok = String(field.value, path.Field("version"), Fresh(&adapter->version), error);
    } else if (field.key == "api") {
      ok = String(field.value, path.Field("api"), Fresh(&adapter->api), error);
    } else if (field.key == "skipped") {
      ok = Gauge(field.value, path.Field("skipped"), Fresh(&adapter->skipped), error);
    }
    if (!ok) return false;
  }
  return true;
}

bool ParseBackend(element value, const Path& path, Backend* backend, std::string* error) {
  object fields;
  if (!Object(value, path, &fields, error)) return false;
  for (auto field : fields) {
    bool ok = true;
    if (field.key == "protocol") {
      ok = String(field.value, path.Field("protocol"), Fresh(&backend->protocol), error);
    } else {
      ok = ReadNumberMember(kBackendMembers, field.key, field.value, path, backend, error);
    }
    if (!ok) return false;
  }
  return true;
}

bool ParseProtocolConnections(element value, const Path& path, ProtocolConnections* connections,
                              std::string* error) {
  return ParseNumberGroup(kProtocolConnectionsMembers, value, path, connections, error);
}

bool ParseProtocols(element value, const Path& path, NameIndex& index, Protocols* protocols,
                    std::string* error) {
  object fields;
  if (!Object(value, path, &fields, error)) return false;
  for (auto field : fields) {
    bool ok = true;
    if (field.key == "frontend") {
      ok = ParseMap<ProtocolConnections>(field.value, path.Field("frontend"), index,
                                         ParseProtocolConnections, Fresh(&protocols->frontend),
                                         error);
    } else if (field.key == "backend") {
      ok = ParseMap<ProtocolConnections>(field.value, path.Field("backend"), index,
                                         ParseProtocolConnections, Fresh(&protocols->backend),
                                         error);
    }
    if (!ok) return false;
  }
  return true;
}

bool ParseUdp(element value, const Path& path, Udp* udp, std::string* error) {
  return ParseNumberGroup(kUdpMembers, value, path, udp, error);
}

// schemaVersion is read before anything else, so that a v2 document is reported as an
// unsupported version rather than as whatever v2 changed. On success `*schema_version` is the
// version read (docs/snapshot-protocol.md: 1 is the only one accepted, also written as 1.0).
ParseError CheckSchemaVersion(object root, const Path& path, std::int64_t* schema_version,
                              bool* ok) {
  *ok = false;
  element version;
  bool found = false;
  for (auto field : root) {
    if (field.key == "schemaVersion") {
      version = field.value;
      found = true;
    }
  }
  if (!found) return ParseError{false, "schemaVersion: required field is missing"};
  const auto type = version.type();
  if (type != element_type::INT64 && type != element_type::UINT64 &&
      !(type == element_type::DOUBLE &&
        std::floor(version.get_double().value_unsafe()) == version.get_double().value_unsafe())) {
    return ParseError{false, FormatPath(path.Field("schemaVersion")) +
                                 ": expected an integer, got " + Describe(version)};
  }
  const double number = AsDouble(version);
  if (number != 1) {
    return ParseError{true, "schemaVersion: unsupported version " + Describe(version) +
                                ", this exporter speaks version 1"};
  }
  *schema_version = static_cast<std::int64_t>(number);
  *ok = true;
  return {};
}

bool ParseRoot(object root, const Path& path, NameIndex& index, Snapshot* snapshot,
               std::string* error) {
  bool has_timestamp = false;
  bool has_connections = false;
  for (auto field : root) {
    const std::string_view key = field.key;
    bool ok = true;
    if (key == "timestamp") {
      ok = Gauge(field.value, path.Field("timestamp"), &snapshot->timestamp_ms, error);
      has_timestamp = true;
    } else if (key == "proxy") {
      ok = ParseProxy(field.value, path.Field("proxy"), Fresh(&snapshot->proxy), error);
    } else if (key == "connections") {
      ok = ParseConnections(field.value, path.Field("connections"), index, &snapshot->connections,
                            error);
      has_connections = true;
    } else if (key == "requests") {
      ok = ParseRequests(field.value, path.Field("requests"), index, Fresh(&snapshot->requests),
                         error);
    } else if (key == "bytes") {
      ok = ParseByteTotals(field.value, path.Field("bytes"), Fresh(&snapshot->bytes), error);
    } else if (key == "throughput") {
      ok = ParseThroughput(field.value, path.Field("throughput"), index,
                           Fresh(&snapshot->throughput), error);
    } else if (key == "percentiles") {
      ok = ParsePercentiles(field.value, path.Field("percentiles"), Fresh(&snapshot->percentiles),
                            error);
    } else if (key == "adapter") {
      ok = ParseAdapter(field.value, path.Field("adapter"), Fresh(&snapshot->adapter), error);
    } else if (key == "openConnectionBytes") {
      // Gauges, unlike bytes: the open connections' sums fall when one closes.
      ok = ParseInOut(field.value, path.Field("openConnectionBytes"),
                      Fresh(&snapshot->open_connection_bytes), error);
    } else if (key == "backends") {
      ok = ParseMap<Backend>(field.value, path.Field("backends"), index, ParseBackend,
                             Fresh(&snapshot->backends), error);
    } else if (key == "protocols") {
      ok = ParseProtocols(field.value, path.Field("protocols"), index, Fresh(&snapshot->protocols),
                          error);
    } else if (key == "udp") {
      ok = ParseUdp(field.value, path.Field("udp"), Fresh(&snapshot->udp), error);
    }
    if (!ok) return false;
  }
  if (!has_timestamp) return FailMissing(path, "timestamp", error);
  if (!has_connections) return FailMissing(path, "connections", error);
  return true;
}

// Whether `value`, at `level` (the root object is level 1), is or holds a container deeper than
// kMaxDocumentDepth. Recurses at most kMaxDocumentDepth + 1 deep: it only sees documents that
// simdjson parsed with that limit.
bool HasContainerPastLimit(element value, std::size_t level) {
  const auto type = value.type();
  if (type != element_type::ARRAY && type != element_type::OBJECT) return false;
  if (level > kMaxDocumentDepth) return true;
  if (type == element_type::ARRAY) {
    const simdjson::dom::array items = value.get_array().value_unsafe();
    for (const element item : items) {
      if (HasContainerPastLimit(item, level + 1)) return true;
    }
    return false;
  }
  const object fields = value.get_object().value_unsafe();
  for (auto field : fields) {
    if (HasContainerPastLimit(field.value, level + 1)) return true;
  }
  return false;
}

// A document refused by the main parser for its depth holds a non-empty container at level 64
// or deeper: parsed again by `*parser`, made here with room for one level more, it is within
// the limit unless a container (then an empty one) opens at level 65. Only documents that reach
// the limit pay for this; a real snapshot nests 4 levels.
simdjson::error_code ParseAtDepthLimit(const char* data, std::size_t size,
                                       std::optional<simdjson::dom::parser>* parser,
                                       element* root) {
  simdjson::dom::parser& deeper = parser->emplace(simdjson::SIMDJSON_MAXSIZE_BYTES);
  if (const auto code = deeper.allocate(size, kMaxDocumentDepth + 1); code != simdjson::SUCCESS) {
    return code;
  }
  if (const auto code = deeper.parse(data, size, false).get(*root); code != simdjson::SUCCESS) {
    return code;
  }
  return HasContainerPastLimit(*root, 1) ? simdjson::DEPTH_ERROR : simdjson::SUCCESS;
}

std::string JsonErrorMessage(simdjson::error_code code) {
  switch (code) {
    case simdjson::UTF8_ERROR:
      return "body is not valid UTF-8";
    case simdjson::DEPTH_ERROR:
      return "document nests deeper than " + std::to_string(kMaxDocumentDepth) + " levels";
    case simdjson::CAPACITY:
      return "document is larger than the parser can hold";
    case simdjson::MEMALLOC:
      return "out of memory while parsing the document";
    default:
      return std::string("invalid JSON: ") + simdjson::error_message(code);
  }
}

}  // namespace

static_assert(kParsePaddingBytes >= simdjson::SIMDJSON_PADDING);
// DocumentMappings reaches into simdjson 3.0.1's parser (its buffers and the counts it
// allocates for a capacity): recheck it on another major.
static_assert(simdjson::SIMDJSON_VERSION_MAJOR == 3);

namespace {

// simdjson 3.0.1 allocates the document's tape and strings and stage 1's structural indexes
// with new[]: glibc maps the two largest with a 16-byte header in front, so that their first
// 2 MiB are not aligned to a huge page and stay resident (written by every parse, never given
// back), and puts the strings on its heap. Each is replaced, right after simdjson allocated it,
// by an aligned mapping of the same size (page_memory::MapAligned), and taken back before
// simdjson would free or replace it.
class DocumentMappings {
 public:
  struct Region {
    void* data = nullptr;
    std::size_t bytes = 0;
  };
  enum : std::size_t { kTape, kStrings, kStructurals, kRegionCount };

  // After parser.allocate(capacity) and parser.doc.allocate(capacity). A buffer whose mapping
  // the kernel refuses stays simdjson's own; its aligned part is still given back.
  void Adopt(simdjson::dom::parser& parser, std::size_t capacity) {
    // The counts simdjson used (document::allocate, dom_parser_implementation::set_capacity).
    Adopt(parser.doc.tape, SIMDJSON_ROUNDUP_N(capacity + 3, 64), kTape);
    Adopt(parser.doc.string_buf,
          SIMDJSON_ROUNDUP_N(5 * capacity / 3 + simdjson::SIMDJSON_PADDING, 64), kStrings);
    Adopt(parser.implementation->structural_indexes, SIMDJSON_ROUNDUP_N(capacity, 64) + 2 + 7,
          kStructurals);
  }
  // Before parser.allocate or parser.doc.allocate, and before the parser is destroyed.
  void Disown(simdjson::dom::parser& parser) {
    Disown(parser.doc.tape, kTape);
    Disown(parser.doc.string_buf, kStrings);
    if (parser.implementation) Disown(parser.implementation->structural_indexes, kStructurals);
  }
  // After a parse: the buffer's contents are done with. A mapping's pages go to the pool
  // (page_memory/page_pool.h) for the snapshot and the text to take; simdjson's own block is
  // given back to the kernel where it spans huge pages.
  // `used`: how many bytes from the buffer's start this parse wrote, where known. Every resident
  // page goes to the pool; the next parse takes back as far as this one wrote (and as far as
  // pages were resident), so that pages taken from the pool once and never written do not
  // cycle back into the buffer at every parse.
  void Release(std::size_t which, std::size_t used = std::numeric_limits<std::size_t>::max()) {
    const Region& region = regions_[which];
    if (mapped_[which]) {
      const std::size_t resident = page_memory::ReleaseMappedPages(region.data, region.bytes);
      lent_[which] = std::max(lent_[which], std::min(resident, RoundUpToHugePage(used)));
    } else {
      page_memory::ReleaseHugePages(region.data, region.bytes);
    }
  }
  // Before a parse writes the buffers again: the pages the last parse wrote (and lent) come
  // back, or pooled ones in their place; the rest of a buffer (simdjson sizes them for the
  // worst case: the tape's 68 MB for a 7 MB body hold 15 MB) takes fresh pages if written.
  void Reclaim() {
    for (std::size_t which = 0; which < kRegionCount; ++which) {
      // All its own pages come back, wherever simdjson writes this time.
      if (mapped_[which]) {
        page_memory::ReclaimMappedPages(regions_[which].data, regions_[which].bytes, lent_[which]);
      }
      lent_[which] = 0;
    }
  }

 private:
  template <typename T>
  void Adopt(std::unique_ptr<T[]>& buffer, std::size_t count, std::size_t which) {
    regions_[which] = {buffer.get(), count * sizeof(T)};
    mapped_[which] = false;
    if (!page_memory::MapsLargeBlock(count * sizeof(T))) return;  // small: nothing to gain
    // Fresh: simdjson writes a part of each (Reclaim takes pooled pages as far as it wrote).
    void* mapped = page_memory::MapAlignedFresh(count * sizeof(T));
    if (mapped == nullptr) return;
    // simdjson writes before it reads (set_capacity's structural_indexes[0] = 0 included): a
    // mapping of unspecified contents stands in for the uninitialised new[] block.
    buffer.reset(static_cast<T*>(mapped));
    regions_[which].data = mapped;
    mapped_[which] = true;
  }
  template <typename T>
  void Disown(std::unique_ptr<T[]>& buffer, std::size_t which) {
    if (mapped_[which]) {
      static_cast<void>(buffer.release());
      page_memory::UnmapAligned(regions_[which].data, regions_[which].bytes);
      mapped_[which] = false;
    }
    regions_[which] = {};
    lent_[which] = 0;
  }

  std::array<Region, kRegionCount> regions_{};
  std::array<bool, kRegionCount> mapped_{};
  std::array<std::size_t, kRegionCount> lent_{};  // bytes from the start lent to the pool

  static std::size_t RoundUpToHugePage(std::size_t bytes) {
    constexpr std::size_t kUnit = std::size_t{2} << 20;  // only an upper bound: any unit will do
    return bytes > std::numeric_limits<std::size_t>::max() - kUnit
               ? bytes
               : (bytes + kUnit - 1) / kUnit * kUnit;
  }
};

// How far into each of the document's buffers a parse of `parser` wrote, `root` its result:
// the tape up to its final root word (tape[0] holds its index), the structural indexes up to
// their count with room for stage 1's writes past it, and the strings up to the end of the
// last one in document order, found by following the last member of each container.
std::array<std::size_t, DocumentMappings::kRegionCount> DocumentUse(
    const simdjson::dom::parser& parser, element root) {
  std::array<std::size_t, DocumentMappings::kRegionCount> used{};
  used[DocumentMappings::kTape] =
      ((parser.doc.tape[0] & simdjson::internal::JSON_VALUE_MASK) + 1) * sizeof(std::uint64_t);
  used[DocumentMappings::kStructurals] =
      (std::size_t{parser.implementation->n_structural_indexes} + 128) * sizeof(std::uint32_t);
  const char* const strings = reinterpret_cast<const char*>(parser.doc.string_buf.get());
  const char* end = strings;
  const auto note_end = [&](std::string_view text) {
    end = std::max(end, text.data() + text.size() + 1);  // simdjson ends each with a NUL
  };
  element value = root;
  while (true) {
    object members;
    simdjson::dom::array items;
    std::string_view text;
    if (value.get_object().get(members) == simdjson::SUCCESS) {
      std::optional<simdjson::dom::key_value_pair> last;
      for (auto field : members) last = field;
      if (!last) break;
      note_end(last->key);
      value = last->value;
    } else if (value.get_array().get(items) == simdjson::SUCCESS) {
      std::optional<element> last;
      for (auto item : items) last = item;
      if (!last) break;
      value = *last;
    } else {
      if (value.get_string().get(text) == simdjson::SUCCESS) note_end(text);
      break;
    }
  }
  used[DocumentMappings::kStrings] = static_cast<std::size_t>(end - strings);
  return used;
}

}  // namespace

struct SnapshotParser::Impl {
  simdjson::dom::parser parser;
  DocumentMappings mappings;
  std::string buffer;  // the body plus simdjson's padding; rewritten in place
  NameIndex index;

  Impl() : parser(simdjson::SIMDJSON_MAXSIZE_BYTES) {}
  ~Impl() { mappings.Disown(parser); }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  bool Allocate(std::size_t capacity) {
    // parse() reallocates a document below this size itself: it must not meet a mapping.
    capacity = std::max(capacity, simdjson::dom::MINIMAL_DOCUMENT_CAPACITY);
    mappings.Disown(parser);
    if (parser.allocate(capacity, kSimdjsonMaxDepth) != simdjson::SUCCESS ||
        parser.doc.allocate(capacity) != simdjson::SUCCESS ||
        // Disown left the structural indexes to set_capacity, which runs when the capacity
        // changes: it always does here, checked all the same.
        !parser.implementation->structural_indexes) {
      // A parser left with the buffers Disown took but its old capacities would let the next
      // body within them write through null pointers: start again from an empty one.
      parser = simdjson::dom::parser(simdjson::SIMDJSON_MAXSIZE_BYTES);
      return false;
    }
    mappings.Adopt(parser, capacity);
    return true;
  }
  // The document is needed only until the snapshot is built (page_memory/page_buffer.h).
  // `used`: the bytes of each buffer the parse wrote, where known (DocumentUse).
  void ReleaseDocument() {
    for (std::size_t which = 0; which < DocumentMappings::kRegionCount; ++which) {
      mappings.Release(which, used[which]);
    }
    used.fill(std::numeric_limits<std::size_t>::max());
    index.Release();
  }
  std::array<std::size_t, DocumentMappings::kRegionCount> used = Unknown();

  static std::array<std::size_t, DocumentMappings::kRegionCount> Unknown() {
    std::array<std::size_t, DocumentMappings::kRegionCount> unknown{};
    unknown.fill(std::numeric_limits<std::size_t>::max());
    return unknown;
  }

  // consumed_body: the buffer holding `data`, whose pages go to the pool once the document is
  // built; nullptr when the caller keeps the body.
  Expected<Snapshot, ParseError> Parse(char* data, std::size_t size,
                                       page_memory::PageBuffer* consumed_body);
};

SnapshotParser::SnapshotParser() : impl_(std::make_unique<Impl>()) {}
SnapshotParser::~SnapshotParser() = default;

namespace {

// simdjson 3.0.1 can read past the end of an invalid number at the document root (fixed in
// 3.2.2); a v1 document is an object, so nothing else is ever handed to it.
std::optional<ParseError> CheckStartsWithObject(std::string_view json) {
  std::size_t start = 0;
  while (start < json.size() && (json[start] == ' ' || json[start] == '\t' || json[start] == '\n' ||
                                 json[start] == '\r')) {
    ++start;
  }
  if (start == json.size()) return ParseError{false, "body is empty, expected a JSON object"};
  if (json[start] != '{') {
    return ParseError{false, "body is not a JSON object (it must start with '{')"};
  }
  return std::nullopt;
}

}  // namespace

Expected<Snapshot, ParseError> SnapshotParser::Impl::Parse(char* data, std::size_t size,
                                                           page_memory::PageBuffer* consumed_body) {
  if (auto error = CheckStartsWithObject({data, size})) return *error;
  try {
    if (size > kMaxParsedBodyBytes) {
      return ParseError{false, "body of " + std::to_string(size) +
                                   " bytes is larger than the parser can hold (at most " +
                                   std::to_string(kMaxParsedBodyBytes) + ")"};
    }
    if (parser.capacity() < size || parser.max_depth() != kSimdjsonMaxDepth) {
      // Headroom so that a snapshot growing by a few entries does not reallocate every scrape.
      // simdjson 3.0.1's allocate sizes the parser only; parse sizes the document to the body
      // whenever the body outgrows it. Without sizing it here too, every body a byte longer
      // than all before reallocated the document (69 MB at 100k IPs, ~15 MB of it written).
      if (!Allocate(size + size / 4)) {
        return ParseError{
            false, "out of memory while parsing a body of " + std::to_string(size) + " bytes"};
      }
    }
    struct ReleaseDocumentAtExit {
      Impl& impl;
      ~ReleaseDocumentAtExit() { impl.ReleaseDocument(); }
    } release_document{*this};
    mappings.Reclaim();
    detail::ReplaceLoneSurrogateEscapes(data, size);
    element root;
    auto code = parser.parse(data, size, false).get(root);
    std::optional<simdjson::dom::parser> parser_at_limit;  // holds `root`'s document if used
    if (code == simdjson::DEPTH_ERROR) {
      code = ParseAtDepthLimit(data, size, &parser_at_limit, &root);
    }
    if (code != simdjson::SUCCESS) return ParseError{false, JsonErrorMessage(code)};
    if (!parser_at_limit) used = DocumentUse(parser, root);
    // Stage 1's indexes and (when the caller allows) the body are done with: the tape and
    // the strings hold everything the snapshot is built from.
    mappings.Release(DocumentMappings::kStructurals, used[DocumentMappings::kStructurals]);
    if (consumed_body != nullptr) consumed_body->ReleasePages();
    const Path path;
    const object root_object = root.get_object().value_unsafe();
    bool version_ok = false;
    std::int64_t schema_version = 0;
    ParseError version_error = CheckSchemaVersion(root_object, path, &schema_version, &version_ok);
    if (!version_ok) return version_error;
    Snapshot snapshot;
    snapshot.schema_version = schema_version;
    std::string error;
    if (!ParseRoot(root_object, path, index, &snapshot, &error)) {
      return ParseError{false, std::move(error)};
    }
    return snapshot;
  } catch (const std::bad_alloc&) {
    return ParseError{false, "out of memory while building the snapshot"};
  }
}

Expected<Snapshot, ParseError> SnapshotParser::ParseInPlace(char* data, std::size_t size) {
  return impl_->Parse(data, size, nullptr);
}

Expected<Snapshot, ParseError> SnapshotParser::ParseConsuming(page_memory::PageBuffer* body,
                                                              std::size_t size) {
  return impl_->Parse(body->data(), size, body);
}

Expected<Snapshot, ParseError> SnapshotParser::Parse(std::string_view json) {
  std::string& buffer = impl_->buffer;
  try {
    buffer.resize(json.size() + simdjson::SIMDJSON_PADDING);
  } catch (const std::bad_alloc&) {
    return ParseError{
        false, "out of memory while copying a body of " + std::to_string(json.size()) + " bytes"};
  }
  std::memcpy(buffer.data(), json.data(), json.size());
  return ParseInPlace(buffer.data(), json.size());
}

Expected<Snapshot, ParseError> SnapshotParser::ParseInPlace(std::string* json) {
  const std::size_t size = json->size();
  try {
    // The padding lives in the string's spare capacity: simdjson reads it, never its contents.
    json->reserve(size + kParsePaddingBytes);
  } catch (const std::bad_alloc&) {
    return ParseError{false,
                      "out of memory while parsing a body of " + std::to_string(size) + " bytes"};
  }
  return ParseInPlace(json->data(), size);
}

Expected<Snapshot, ParseError> ParseSnapshot(std::string_view json) {
  SnapshotParser parser;
  return parser.Parse(json);
}

}  // namespace proxy_client
