#include "proxy_sim/http_request.h"

#include <doctest/doctest.h>

#include <string>

namespace proxy_sim {
namespace {

TEST_CASE("ParseHttpRequest reads a GET request with headers") {
  const std::string text =
      "GET /v1/snapshot?ips=20 HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n\r\n";
  const ParsedRequest parsed = ParseHttpRequest(text);
  REQUIRE(parsed.status == ParseStatus::kComplete);
  CHECK(parsed.consumed == text.size());
  CHECK(parsed.request.method == "GET");
  CHECK(parsed.request.path == "/v1/snapshot");
  CHECK(parsed.request.query == "ips=20");
  CHECK(parsed.request.minor_version == 1);
  CHECK(parsed.request.keep_alive);
}

TEST_CASE("ParseHttpRequest waits for the rest of a partial request") {
  const std::string text = "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc";
  for (std::size_t n = 0; n < text.size(); ++n) {
    CAPTURE(n);
    CHECK(ParseHttpRequest(std::string_view(text).substr(0, n)).status == ParseStatus::kIncomplete);
  }
  CHECK(ParseHttpRequest(text).status == ParseStatus::kComplete);
  CHECK(ParseHttpRequest(text).consumed == text.size());
}

TEST_CASE("ParseHttpRequest consumes one pipelined request at a time") {
  const std::string first = "GET /a HTTP/1.1\r\n\r\n";
  const std::string second = "GET /b HTTP/1.1\n\n";  // bare LF is tolerated
  const ParsedRequest parsed = ParseHttpRequest(first + second);
  REQUIRE(parsed.status == ParseStatus::kComplete);
  CHECK(parsed.consumed == first.size());
  CHECK(parsed.request.path == "/a");
  const ParsedRequest next = ParseHttpRequest(second);
  REQUIRE(next.status == ParseStatus::kComplete);
  CHECK(next.request.path == "/b");
}

TEST_CASE("ParseHttpRequest honours Connection and the HTTP version") {
  CHECK_FALSE(ParseHttpRequest("GET / HTTP/1.1\r\nConnection: close\r\n\r\n").request.keep_alive);
  CHECK_FALSE(
      ParseHttpRequest("GET / HTTP/1.1\r\nconnection: Upgrade, CLOSE\r\n\r\n").request.keep_alive);
  CHECK_FALSE(ParseHttpRequest("GET / HTTP/1.0\r\n\r\n").request.keep_alive);
  CHECK(ParseHttpRequest("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").request.keep_alive);
  CHECK(ParseHttpRequest("GET / HTTP/1.0\r\n\r\n").request.minor_version == 0);
}

TEST_CASE("ParseHttpRequest rejects malformed requests") {
  for (const char* text : {
           "GET /v1/snapshot\r\n\r\n",
           "GET  /v1/snapshot HTTP/1.1\r\n\r\n",
           "GET /v1/snapshot HTTP/1.1 extra\r\n\r\n",
           "GET v1/snapshot HTTP/1.1\r\n\r\n",
           "G(T /v1/snapshot HTTP/1.1\r\n\r\n",
           "GET /v1/snapshot HTTP/2.0\r\n\r\n",
           "GET /v1/snapshot FTP/1.1\r\n\r\n",
           "GET /v1/snapshot HTTP/1.1\r\nNo colon here\r\n\r\n",
           "GET /v1/snapshot HTTP/1.1\r\nBad Name: x\r\n\r\n",
           "GET /v1/snapshot HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n",
           "GET /v1/snapshot HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
           "GET /v1/snapshot HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
           "GET /v1/snapshot HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
           "GET /v1/snapshot HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n",
       }) {
    CAPTURE(text);
    const ParsedRequest parsed = ParseHttpRequest(text);
    CHECK(parsed.status == ParseStatus::kBad);
    CHECK_FALSE(parsed.error.empty());
  }
  CHECK(ParseHttpRequest(std::string(kMaxRequestHeaderBytes + 1, 'G')).status == ParseStatus::kBad);
  const std::string long_header =
      "GET / HTTP/1.1\r\nX: " + std::string(kMaxRequestHeaderBytes, 'a') + "\r\n\r\n";
  CHECK(ParseHttpRequest(long_header).status == ParseStatus::kBad);
}

TEST_CASE("RouteRequest maps paths, methods and the ips query") {
  const auto route = [](const char* method, const char* path, const char* query) {
    HttpRequest request;
    request.method = method;
    request.path = path;
    request.query = query;
    return RouteRequest(request);
  };
  CHECK(route("GET", "/v1/snapshot", "").kind == RouteKind::kSnapshot);
  CHECK_FALSE(route("GET", "/v1/snapshot", "").max_ips.has_value());
  CHECK(route("GET", "/v1/snapshot", "ips=0").max_ips == std::size_t{0});
  CHECK(route("GET", "/v1/snapshot", "ips=20").max_ips == std::size_t{20});
  CHECK(route("GET", "/v1/snapshot", "x=1&ips=7&y").max_ips == std::size_t{7});
  CHECK(route("GET", "/v1/snapshot", "other=1").kind == RouteKind::kSnapshot);
  for (const char* bad : {"ips=", "ips=-1", "ips=+1", "ips=1x", "ips=99999999999999999999999"}) {
    CAPTURE(bad);
    CHECK(route("GET", "/v1/snapshot", bad).kind == RouteKind::kBadQuery);
  }
  CHECK(route("POST", "/v1/snapshot", "").kind == RouteKind::kMethodNotAllowed);
  CHECK(route("HEAD", "/v1/snapshot", "").kind == RouteKind::kMethodNotAllowed);
  CHECK(route("GET", "/", "").kind == RouteKind::kNotFound);
  CHECK(route("GET", "/v1/snapshot/", "").kind == RouteKind::kNotFound);
  CHECK(route("POST", "/metrics", "").kind == RouteKind::kNotFound);
}

}  // namespace
}  // namespace proxy_sim
