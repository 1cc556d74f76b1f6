// SIGHUP while scrapes are in flight: the reload swaps the collector's fetcher, options and the
// log settings under concurrent scrapes (issue 6, "Sanitizers and soak"). Also run under
// ThreadSanitizer by scripts/test-tsan.sh.
#include <doctest/doctest.h>
#include <signal.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <thread>

#include "exposition.h"
#include "http_get.h"
#include "processes.h"

using namespace std::chrono_literals;
using namespace test_support;

namespace {

void WriteConfig(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::trunc) << text;
}

std::size_t Occurrences(const std::string& text, const std::string& needle) {
  std::size_t count = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++count;
  }
  return count;
}

}  // namespace

TEST_CASE("SIGHUP reloads during concurrent scrapes: every scrape succeeds, the process stays up" *
          doctest::test_suite("concurrency")) {
  constexpr int kScrapers = 4;
  constexpr int kReloads = 20;
  constexpr int kMaxScrapesPerScraper = 2000;  // bounds the loop even if the stop flag is never set

  TempDir dir;
  ProxySimProcess sim(dir, {"--ips", "2000"});
  const std::string config = dir.File("config.yml");
  // Two configurations that differ in what a scrape reads: the IP cut-off and the log level
  // (debug makes civetweb's messages reach the logger while it is being reconfigured).
  const std::string config_a = "metrics:\n  ips:\n    top: 5\nlog:\n  level: info\n";
  const std::string config_b = "metrics:\n  ips:\n    top: 2\nlog:\n  level: debug\n";
  WriteConfig(config, config_a);
  ExporterProcess exporter(dir, {"--proxy.socket", sim.socket(), "--config.file", config});

  std::atomic<bool> stop{false};
  std::atomic<int> in_flight{0};
  std::atomic<int> scrapes{0};
  std::mutex failures_mutex;
  std::vector<std::string> failures;
  std::vector<std::thread> scrapers;
  for (int i = 0; i < kScrapers; ++i) {
    scrapers.emplace_back([&] {
      for (int n = 0; n < kMaxScrapesPerScraper && !stop.load(); ++n) {
        ++in_flight;
        const auto response = HttpGet(exporter.Url());
        --in_flight;
        ++scrapes;
        std::string failure;
        if (response.status != 200) {
          failure = "status " + std::to_string(response.status) + ": " + response.error;
        } else if (response.body.find("\nsmartproxy_up 1\n") == std::string::npos) {
          failure = "smartproxy_up is not 1";
        }
        if (!failure.empty()) {
          const std::lock_guard lock(failures_mutex);
          failures.push_back(failure);
        }
      }
    });
  }

  int reloads_sent = 0;
  for (int i = 0; i < kReloads; ++i) {
    // Only signal while at least one scrape is under way.
    if (!PollUntil([&] { return in_flight.load() > 0; }, 10s)) break;
    WriteConfig(config, i % 2 == 0 ? config_b : config_a);
    exporter.process().Signal(SIGHUP);
    ++reloads_sent;
    // One reload at a time: pending SIGHUPs would merge into one.
    if (!PollUntil(
            [&] {
              return Occurrences(exporter.process().Stderr(), "configuration reloaded") >=
                     static_cast<std::size_t>(reloads_sent);
            },
            10s)) {
      break;
    }
  }
  stop = true;
  for (auto& scraper : scrapers) scraper.join();

  CHECK(reloads_sent == kReloads);
  CHECK(Occurrences(exporter.process().Stderr(), "configuration reloaded") ==
        static_cast<std::size_t>(kReloads));
  CHECK(scrapes.load() > kReloads);
  const std::lock_guard lock(failures_mutex);
  CHECK_MESSAGE(failures.empty(), failures.size() << " failed scrapes, first: "
                                                  << (failures.empty() ? "" : failures.front()));
  REQUIRE(exporter.process().Running());
  // A clean exit also means no sanitizer report in the exporter (they exit non-zero).
  CHECK(exporter.process().Stop(SIGTERM, 10s) == 0);
}
