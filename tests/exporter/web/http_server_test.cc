#include "exporter/web/http_server.h"

#include <doctest/doctest.h>

using namespace std::chrono_literals;
using exporter::web::HttpServer;

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
