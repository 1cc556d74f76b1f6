#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "proxy_sim/ip_grouping.h"

// A minimal HTTP/1.x request parser (RFC 9112), enough for GET /v1/snapshot. Pure functions.
namespace proxy_sim {

struct HttpRequest {
  std::string method;
  std::string path;        // the target before '?'
  std::string query;       // the target after '?', without it; empty if none
  int minor_version = 1;   // HTTP/1.<minor>
  bool keep_alive = true;  // 1.1 unless "Connection: close"; 1.0 only with "keep-alive"
};

enum class ParseStatus { kIncomplete, kComplete, kBad };

struct ParsedRequest {
  ParseStatus status = ParseStatus::kIncomplete;
  std::size_t consumed = 0;  // kComplete: bytes of the request, including any body
  HttpRequest request;       // kComplete only
  std::string error;         // kBad: why, for the 400 body
};

inline constexpr std::size_t kMaxRequestHeaderBytes = 16 * 1024;
inline constexpr std::size_t kMaxRequestBodyBytes = 64 * 1024;

// Parses the first request in `buffer` (which may hold more, pipelined). Header blocks beyond
// kMaxRequestHeaderBytes, chunked bodies and bodies beyond kMaxRequestBodyBytes are kBad.
ParsedRequest ParseHttpRequest(std::string_view buffer);

enum class RouteKind { kSnapshot, kNotFound, kMethodNotAllowed, kBadQuery };

struct RouteResult {
  RouteKind kind = RouteKind::kNotFound;
  std::optional<std::size_t> max_ips;     // kSnapshot: ?ips=N
  std::optional<IpGrouping> ip_grouping;  // kSnapshot: ?ipv4Prefix=&ipv6Prefix= (either)
  std::string error;                      // kBadQuery: why
};

// GET /v1/snapshot[?ips=N][&ipv4Prefix=P4][&ipv6Prefix=P6] → kSnapshot (one prefix given: the
// other is its default); another method on that path → kMethodNotAllowed; another path →
// kNotFound; a malformed ips or prefix value → kBadQuery naming it. Other query keys are ignored.
RouteResult RouteRequest(const HttpRequest& request);

}  // namespace proxy_sim
