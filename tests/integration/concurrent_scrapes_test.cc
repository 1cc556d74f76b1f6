// Four scrapes over HTTP at once cost the proxy one snapshot: in-process exporter (collector +
// civetweb server) against an in-process proxy-sim over a real Unix socket.
#include <doctest/doctest.h>

#include <atomic>
#include <thread>

#include "child_process.h"
#include "exporter/collector/collector.h"
#include "exporter/web/http_server.h"
#include "exposition.h"
#include "http_get.h"
#include "proxy_sim/server.h"
#include "temp_dir.h"

using namespace std::chrono_literals;

TEST_CASE("Four concurrent HTTP scrapes share one snapshot fetch from the proxy" *
          doctest::test_suite("concurrency")) {
  test_support::TempDir dir;
  proxy_sim::ServerOptions sim_options;
  sim_options.socket_path = dir.File("p.sock");
  sim_options.simulation.ips = 1000;
  proxy_sim::Server sim(sim_options);
  sim.Start();

  const exporter::collector::SnapshotFetcher socket_fetcher =
      exporter::collector::MakeSocketFetcher(
          proxy_client::SnapshotClientOptions{sim_options.socket_path});
  const exporter::collector::Collector* collector_ptr = nullptr;
  // The real socket fetch, held back until the other three scrapes wait for it, so that the
  // test does not depend on timing.
  const exporter::collector::SnapshotFetcher gated =
      [&](const proxy_client::FetchRequest& request) {
        test_support::PollUntil([&] { return collector_ptr->ScrapesWaiting() == 3; }, 10s);
        return socket_fetcher(request);
      };
  exporter::collector::CollectorOptions options;
  options.timeout = 10s;
  exporter::collector::Collector collector(gated, options);
  collector_ptr = &collector;
  exporter::web::HttpServerOptions server_options;
  server_options.listen_addresses = {"127.0.0.1:0"};
  exporter::web::HttpServer server(server_options, collector);
  const std::string url =
      "http://127.0.0.1:" + std::to_string(server.ListeningPorts().at(0)) + "/metrics";

  std::vector<test_support::HttpResponse> responses(4);
  std::vector<std::thread> scrapers;
  for (std::size_t i = 0; i < 4; ++i) {
    scrapers.emplace_back([&, i] { responses[i] = test_support::HttpGet(url); });
  }
  for (auto& scraper : scrapers) scraper.join();

  CHECK(sim.snapshot_requests() == 1);
  for (const auto& response : responses) {
    REQUIRE(response.status == 200);
    const auto samples = test_support::ParseExposition(response.body);
    CHECK(test_support::SampleValue(samples, "smartproxy_up") == 1);
    CHECK(test_support::SumOf(samples, "smartproxy_ip_connections_active") ==
          test_support::SampleValue(samples, "smartproxy_connections_active"));
  }
  server.Shutdown(1s);
}

TEST_CASE("Scrapes beyond --web.max-requests get 503 at once instead of queueing") {
  std::atomic<bool> release{false};
  const exporter::collector::SnapshotFetcher held = [&](const proxy_client::FetchRequest&) {
    test_support::PollUntil([&] { return release.load(); }, 10s);
    return exporter::collector::FetchOutcome(
        proxy_client::FetchError{proxy_client::FetchErrorKind::kConnect, "held"});
  };
  exporter::collector::CollectorOptions options;
  options.timeout = 10s;
  exporter::collector::Collector collector(held, options);
  exporter::web::HttpServerOptions server_options;
  server_options.listen_addresses = {"127.0.0.1:0"};
  server_options.max_requests = 1;
  exporter::web::HttpServer server(server_options, collector);
  const std::string base = "http://127.0.0.1:" + std::to_string(server.ListeningPorts().at(0));

  test_support::HttpResponse first;
  std::thread holder([&] { first = test_support::HttpGet(base + "/metrics"); });
  REQUIRE(test_support::PollUntil([&] { return collector.FetchesStarted() == 1; }, 5s));
  const auto refused = test_support::HttpGet(base + "/metrics");
  CHECK(refused.status == 503);
  CHECK(refused.body.find("--web.max-requests") != std::string::npos);
  CHECK(test_support::HttpGet(base + "/-/healthy").status == 200);  // not counted
  release = true;
  holder.join();
  CHECK(first.status == 200);
  server.Shutdown(1s);
}
