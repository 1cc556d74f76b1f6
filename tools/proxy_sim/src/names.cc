#include "names.h"

#include <array>
#include <cstdio>
#include <string_view>

namespace proxy_sim::internal {
namespace {

constexpr std::array<std::string_view, 12> kRouteNames = {
    "api",  "web",     "admin",      "static", "websocket", "grpc",
    "auth", "uploads", "metrics-ui", "legacy", "cdn",       "mail"};

constexpr std::array<std::string_view, 6> kBackendNames = {
    "api-1.internal:8443", "api-2.internal:8443",  "web-1.internal:8080",
    "web-2.internal:8080", "grpc-1.internal:9090", "static.internal:80"};

constexpr std::array<std::string_view, 8> kDomainNames = {
    "www.example.com", "api.example.com",  "example.com",        "shop.example.com",
    "cdn.example.com", "auth.example.com", "status.example.com", "mail.example.org"};

// Names from a fixed list while it lasts, then "<prefix><index><suffix>".
template <std::size_t N>
std::vector<std::string> ListThenNumbered(std::size_t count,
                                          const std::array<std::string_view, N>& list,
                                          std::string_view prefix, std::string_view suffix) {
  std::vector<std::string> names;
  names.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    if (i < list.size()) {
      names.emplace_back(list[i]);
    } else {
      names.push_back(std::string(prefix) + std::to_string(i) + std::string(suffix));
    }
  }
  return names;
}

// First octets of the simulated IPv4 clients; the lower 24 bits come from a bijection of the
// IP's index, so addresses never repeat.
constexpr std::array<unsigned, 8> kIpv4FirstOctets = {203, 198, 192, 100, 81, 45, 172, 10};

// A string literal with its embedded NULs.
template <std::size_t N>
std::string Bytes(const char (&literal)[N]) {
  return std::string(literal, N - 1);
}

std::string MakeLongName(std::size_t bytes, std::string_view unit) {
  std::string name;
  while (name.size() < bytes) name += unit;
  return name;
}

// Hostile names come first in order of importance, so that small route counts still carry
// the worst of them. Pairs that differ only in one hostile character sit next to each other.
// "\xED\xA0\x80" is U+D800 in generalised UTF-8: the JSON writer emits it as "\ud800", as
// Node's JSON.stringify does for a lone surrogate (docs/snapshot-protocol.md, rule 5).
std::vector<std::string> HostileRouteSamples() {
  return {
      "say \"hello\"",
      "back\\slash\\",
      "multi\nline\r\nwith\ttab",
      "route{le=\"+Inf\"}=1",
      "caf\xC3\xA9",                                        // café, precomposed U+00E9
      "cafe\xCC\x81",                                       // café, e + combining acute U+0301
      "\xE8\xB7\xAF\xE7\x94\xB1-\xE6\xB5\x8B\xE8\xAF\x95",  // 路由-测试
      "\xF0\x9F\x9A\x80 rocket \xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x92\xBB",  // 🚀 👩‍💻
      "lone \xED\xA0\x80 surrogate",
      MakeLongName(4096, "long-route-name/"),
      Bytes("ctrl\x01\x1f\x7f nul\0byte"),
      "say 'hello'",
      "back/slash/",
      "multi line with tab",
      "x\",evil=\"1",
      "  padded  ",
      "sep\xE2\x80\xA8line\xE2\x80\xA9para",  // U+2028, U+2029
      "\xEF\xBB\xBF"
      "bom",
      MakeLongName(6000, "\xC3\xA9\\\""),  // é\" repeated: 6 KB of escapes
      "{}",
      "=",
      "a=b,c=\"d\"}",
  };
}

std::vector<std::string> HostileIpSamples() {
  return {
      "203.0.113.7\"",
      "2001:db8::1\n",
      "10.0.0.1\\",
      "{}=",
      "203.0.113.7 ",             // differs from a plain IPv4 only by a space
      "203.0.113.7\xE2\x80\x8B",  // ... or by a zero-width space U+200B
      "fe80::1%eth0",             // a zone id, legal in a text form
      "\xC3\xBCn\xC3\xAF"
      "c\xC3\xB6"
      "d\xC3\xA9",                 // ünïcödé
      "\xF0\x9F\x99\x82",          // 🙂
      "\xE5\x9C\xB0\xE5\x9D\x80",  // 地址
      "ip \xED\xB0\x80 low",       // lone low surrogate U+DC00
      MakeLongName(3000, "::ffff:"),
      "tab\there",
      Bytes("nul\0ip"),
      "ip=\"1\",le=\"x\"",
  };
}

}  // namespace

std::vector<std::string> MakeRouteNames(std::size_t count) {
  return ListThenNumbered(count, kRouteNames, "route-", "");
}

std::vector<std::string> MakeBackendNames(std::size_t count) {
  return ListThenNumbered(count, kBackendNames, "backend-", ".internal:8080");
}

std::vector<std::string> MakeDomainNames(std::size_t count) {
  return ListThenNumbered(count, kDomainNames, "site-", ".example.com");
}

std::vector<std::string> MakeIpNames(std::size_t count, std::uint64_t seed) {
  std::vector<std::string> names;
  names.reserve(count);
  const std::uint64_t offset = Mix(seed, 0x1b);
  char text[64];
  for (std::size_t i = 0; i < count; ++i) {
    const std::uint64_t index = i;
    const std::uint64_t h = Mix(seed, index);
    int n = 0;
    if (i % 3 == 2) {
      // The index is spelled out in the address, so the IPv6 addresses never repeat.
      const auto high = static_cast<unsigned>((index >> 16) & 0xffff);
      const auto low = static_cast<unsigned>(index & 0xffff);
      const auto host = static_cast<unsigned>(h % 0xfffe + 1);
      switch ((i / 3) % 3) {
        case 0:
          n = std::snprintf(text, sizeof text, "2001:db8:%x:%x::%x", high, low, host);
          break;
        case 1:  // the full form, with leading zeros
          n = std::snprintf(text, sizeof text, "2001:0db8:%04x:%04x:0000:0000:0000:%04x", high, low,
                            host);
          break;
        default:
          n = std::snprintf(text, sizeof text, "2a02:%x:%x:%x:%x:%x:%x:%x",
                            static_cast<unsigned>((h >> 16) & 0xffff), high, low,
                            static_cast<unsigned>((h >> 32) & 0xffff),
                            static_cast<unsigned>((h >> 48) & 0xffff), host, 1u);
          break;
      }
    } else {
      // An odd multiplier is a bijection modulo 2^24: the lower 24 bits never repeat below
      // 2^24 IPs, whatever the first octet.
      const std::uint64_t low24 = (index * 0x9E3779ULL + offset) & 0xffffff;
      n = std::snprintf(text, sizeof text, "%u.%u.%u.%u", kIpv4FirstOctets[i % 8],
                        static_cast<unsigned>(low24 >> 16),
                        static_cast<unsigned>((low24 >> 8) & 0xff),
                        static_cast<unsigned>(low24 & 0xff));
    }
    names.emplace_back(text, static_cast<std::size_t>(n));
  }
  return names;
}

std::vector<std::string> MakeHostileRouteNames(std::size_t count) {
  const std::vector<std::string> samples = HostileRouteSamples();
  std::vector<std::string> names;
  names.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    if (i < samples.size()) {
      names.push_back(samples[i]);
    } else {
      names.push_back(samples[i % samples.size()] + " #" + std::to_string(i));
    }
  }
  return names;
}

std::vector<std::string> MakeHostileIpNames(const std::vector<std::string>& ips) {
  const std::vector<std::string> samples = HostileIpSamples();
  std::vector<std::string> names = ips;
  for (std::size_t k = 0; k < samples.size() && 2 * k + 1 < names.size(); ++k) {
    names[2 * k + 1] = samples[k];
  }
  return names;
}

}  // namespace proxy_sim::internal
