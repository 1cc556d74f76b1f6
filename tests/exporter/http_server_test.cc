#include "exporter/http_server.h"

#include <doctest/doctest.h>
#include <zlib.h>

#include "../../exporter/src/gzip.h"
#include "../../exporter/src/landing_page.h"

using namespace std::chrono_literals;
using exporter::HttpServer;

TEST_CASE("Scrape deadline follows Prometheus' timeout header minus a margin") {
  CHECK(HttpServer::ScrapeDeadline("", 2000ms) == 2000ms);
  CHECK(HttpServer::ScrapeDeadline("10", 2000ms) == 2000ms);
  CHECK(HttpServer::ScrapeDeadline("1.5", 2000ms) == 1250ms);
  CHECK(HttpServer::ScrapeDeadline("0.2", 2000ms) == 100ms);  // short: half of it
  CHECK(HttpServer::ScrapeDeadline("0.01", 2000ms) == 50ms);  // never below 50 ms
  CHECK(HttpServer::ScrapeDeadline("abc", 2000ms) == 2000ms);
  CHECK(HttpServer::ScrapeDeadline("-3", 2000ms) == 2000ms);
  CHECK(HttpServer::ScrapeDeadline("nan", 2000ms) == 2000ms);
  CHECK(HttpServer::ScrapeDeadline("1e400", 2000ms) == 2000ms);
}

TEST_CASE("Accept-Encoding parsing admits gzip unless its q is zero") {
  CHECK(exporter::AcceptsGzip("gzip"));
  CHECK(exporter::AcceptsGzip("deflate, GZIP;q=0.5"));
  CHECK(exporter::AcceptsGzip("*"));
  CHECK_FALSE(exporter::AcceptsGzip(""));
  CHECK_FALSE(exporter::AcceptsGzip("identity"));
  CHECK_FALSE(exporter::AcceptsGzip("gzip;q=0"));
  CHECK_FALSE(exporter::AcceptsGzip("gzip; q=0.000"));
  CHECK_FALSE(exporter::AcceptsGzip("x-gzip2"));
}

TEST_CASE("The landing page escapes every interpolated value") {
  exporter::SnapshotStatus status;
  status.ever_fetched = true;
  status.reason = "parse";
  status.message = "<script>alert(1)</script>";
  const std::string page = exporter::LandingPage("/m\"x", "/run/<s>.sock", status);
  CHECK(page.find("<script>") == std::string::npos);
  CHECK(page.find("&lt;script&gt;") != std::string::npos);
  CHECK(page.find("/run/&lt;s&gt;.sock") != std::string::npos);
  CHECK(page.find("href=\"/m&quot;x\"") != std::string::npos);
}

TEST_CASE("gzip over several parts decodes to their concatenation") {
  const std::string big(200000, 'x');
  const auto compressed = exporter::Gzip({"first ", "", big, " last"});
  REQUIRE(compressed.has_value());
  CHECK(compressed->size() < big.size() / 10);
  z_stream stream{};
  REQUIRE(inflateInit2(&stream, 15 + 16) == Z_OK);
  std::string out(big.size() + 100, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed->data()));
  stream.avail_in = static_cast<uInt>(compressed->size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  CHECK(inflate(&stream, Z_FINISH) == Z_STREAM_END);
  out.resize(stream.total_out);
  inflateEnd(&stream);
  CHECK(out == "first " + big + " last");
}
