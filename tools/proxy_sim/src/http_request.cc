#include "proxy_sim/http_request.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <utility>

namespace proxy_sim {
namespace {

// tchar, RFC 9110 section 5.6.2.
bool IsTokenChar(char c) {
  if (std::isalnum(static_cast<unsigned char>(c))) return true;
  constexpr std::string_view kExtra = "!#$%&'*+-.^_`|~";
  return kExtra.find(c) != std::string_view::npos;
}

bool IsToken(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), IsTokenChar);
}

std::string_view TrimWhitespace(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// True if the comma-separated header value lists `option` (e.g. Connection: keep-alive).
bool ListsOption(std::string_view value, std::string_view option) {
  while (!value.empty()) {
    const std::size_t comma = value.find(',');
    if (EqualsIgnoreCase(TrimWhitespace(value.substr(0, comma)), option)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

// Digits only (no sign, no space), within std::size_t.
std::optional<std::size_t> ParseDecimal(std::string_view digits) {
  std::size_t n = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) {
    return std::nullopt;
  }
  return n;
}

ParsedRequest Bad(std::string error) {
  ParsedRequest result;
  result.status = ParseStatus::kBad;
  result.error = std::move(error);
  return result;
}

}  // namespace

ParsedRequest ParseHttpRequest(std::string_view buffer) {
  // RFC 9112 section 2.2: ignore empty lines before the request line.
  std::size_t pos = 0;
  while (pos < buffer.size() && (buffer[pos] == '\r' || buffer[pos] == '\n')) ++pos;

  // Lines end in CRLF; a bare LF is accepted too (RFC 9112 section 2.2).
  const auto next_line = [&](std::string_view& line) -> bool {
    const std::size_t end = buffer.find('\n', pos);
    if (end == std::string_view::npos) return false;
    line = buffer.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos = end + 1;
    return true;
  };
  const auto incomplete = [&]() {
    return buffer.size() > kMaxRequestHeaderBytes ? Bad("request header too large")
                                                  : ParsedRequest{};
  };

  std::string_view line;
  if (!next_line(line)) return incomplete();
  const std::size_t sp1 = line.find(' ');
  const std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
    return Bad("malformed request line");
  }
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (!IsToken(method)) return Bad("malformed method");
  if (target.empty() || target.front() != '/' ||
      std::any_of(target.begin(), target.end(),
                  [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; })) {
    return Bad("malformed request target");
  }
  if (version != "HTTP/1.1" && version != "HTTP/1.0") return Bad("unsupported HTTP version");

  ParsedRequest result;
  HttpRequest& request = result.request;
  request.method = method;
  const std::size_t question = target.find('?');
  request.path = target.substr(0, question);
  if (question != std::string_view::npos) request.query = target.substr(question + 1);
  request.minor_version = version.back() - '0';
  request.keep_alive = request.minor_version == 1;

  std::optional<std::size_t> content_length;
  for (;;) {
    if (!next_line(line)) return incomplete();
    if (line.empty()) break;
    if (line.front() == ' ' || line.front() == '\t') return Bad("obsolete header folding");
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || !IsToken(line.substr(0, colon))) {
      return Bad("malformed header field");
    }
    const std::string_view name = line.substr(0, colon);
    const std::string_view value = TrimWhitespace(line.substr(colon + 1));
    if (EqualsIgnoreCase(name, "Connection")) {
      if (ListsOption(value, "close")) request.keep_alive = false;
      if (ListsOption(value, "keep-alive")) request.keep_alive = true;
    } else if (EqualsIgnoreCase(name, "Transfer-Encoding")) {
      return Bad("request bodies with Transfer-Encoding are not supported");
    } else if (EqualsIgnoreCase(name, "Content-Length")) {
      std::size_t length = 0;
      const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), length);
      if (ec != std::errc() || end != value.data() + value.size() ||
          (content_length && *content_length != length)) {
        return Bad("malformed Content-Length");
      }
      if (length > kMaxRequestBodyBytes) return Bad("request body too large");
      content_length = length;
    }
  }
  if (pos > kMaxRequestHeaderBytes) return Bad("request header too large");
  const std::size_t body = content_length.value_or(0);
  if (buffer.size() - pos < body) return ParsedRequest{};  // the body is still coming
  result.status = ParseStatus::kComplete;
  result.consumed = pos + body;
  return result;
}

RouteResult RouteRequest(const HttpRequest& request) {
  RouteResult result;
  if (request.path != "/v1/snapshot") {
    result.kind = RouteKind::kNotFound;
    return result;
  }
  if (request.method != "GET") {
    result.kind = RouteKind::kMethodNotAllowed;
    return result;
  }
  const auto bad = [&result](std::string error) {
    result.kind = RouteKind::kBadQuery;
    result.error = std::move(error);
    return result;
  };
  std::string_view query = request.query;
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    if (pair.substr(0, 4) == "ips=") {
      const std::optional<std::size_t> n = ParseDecimal(pair.substr(4));
      if (!n) return bad("ips must be a non-negative decimal integer");
      result.max_ips = *n;
    }
    for (const auto& [name, max] : {std::pair<std::string_view, std::size_t>{"ipv4Prefix", 32},
                                    std::pair<std::string_view, std::size_t>{"ipv6Prefix", 128}}) {
      if (pair.size() <= name.size() || pair.substr(0, name.size()) != name ||
          pair[name.size()] != '=') {
        continue;
      }
      const std::optional<std::size_t> prefix = ParseDecimal(pair.substr(name.size() + 1));
      if (!prefix || *prefix > max) {
        return bad(std::string(name) + " must be a decimal integer from 0 to " +
                   std::to_string(max));
      }
      IpGrouping& grouping =
          result.ip_grouping ? *result.ip_grouping : result.ip_grouping.emplace();
      (name == "ipv4Prefix" ? grouping.ipv4_prefix : grouping.ipv6_prefix) =
          static_cast<unsigned>(*prefix);
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  result.kind = RouteKind::kSnapshot;
  return result;
}

}  // namespace proxy_sim
