#include "exporter/collector/collector.h"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "child_process.h"
#include "conversion_harness.h"
#include "exporter/collector/build_info.h"
#include "exposition.h"
#include "temp_dir.h"

using namespace std::chrono_literals;
using exporter::collector::Collector;
using exporter::collector::CollectorOptions;
using exporter::collector::FetchOutcome;
using proxy_client::FetchError;
using proxy_client::FetchErrorKind;
using proxy_client::FetchRequest;
using proxy_client::FetchResult;

namespace {

FetchResult SmallSnapshot(double active) {
  FetchResult result;
  result.snapshot.timestamp_ms = 1764043200000;
  result.snapshot.connections.active = active;
  result.snapshot.connections.total = 100;
  result.body_bytes = 123;
  return result;
}

std::map<std::string, double> Samples(const Collector& collector,
                                      std::chrono::milliseconds deadline = 2s) {
  return test_support::ParseExposition(collector.Scrape(deadline).Joined());
}

// `text` with what a run measures replaced by "<measured>": the value of the fetch's duration
// and of every process_* sample. The git revision in build_info becomes "<revision>", since it
// changes with every commit. Everything else is compared as served.
std::string NormaliseMeasured(const std::string& text) {
  std::istringstream lines(text);
  std::string normalised;
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with("process_") ||
        line.starts_with("smartproxy_exporter_snapshot_duration_seconds ")) {
      line = line.substr(0, line.rfind(' ') + 1) + "<measured>";
    }
    normalised += line + '\n';
  }
  const std::string revision =
      "revision=\"" + std::string(exporter::collector::BuildRevision()) + "\"";
  if (const auto at = normalised.find(revision); at != std::string::npos) {
    normalised.replace(at, revision.size(), "revision=\"<revision>\"");
  }
  return normalised;
}

// Every label name of the sample lines of a text exposition (values may hold any escaped byte).
std::set<std::string> LabelNames(const std::string& text) {
  std::set<std::string> names;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with("#")) continue;
    std::size_t at = line.find_first_of("{ ");
    if (at == std::string::npos || line[at] != '{') continue;
    ++at;
    while (at < line.size() && line[at] != '}') {
      const std::size_t equals = line.find('=', at);
      REQUIRE(equals != std::string::npos);
      names.insert(line.substr(at, equals - at));
      at = equals + 2;  // past `="`
      while (at < line.size() && line[at] != '"') at += line[at] == '\\' ? 2 : 1;
      at += 1;  // past the closing quote
      if (at < line.size() && line[at] == ',') ++at;
    }
  }
  return names;
}

}  // namespace

TEST_CASE("Collector serves up=0 and its own metrics when the proxy is unreachable") {
  Collector collector(
      [](const FetchRequest&) -> FetchOutcome {
        return FetchError{FetchErrorKind::kConnect, "no socket"};
      },
      CollectorOptions{});
  const auto samples = Samples(collector);
  CHECK(test_support::SampleValue(samples, "smartproxy_up") == 0);
  CHECK(test_support::SampleValue(samples, "smartproxy_exporter_scrapes_total") == 1);
  CHECK(test_support::SampleValue(
            samples, "smartproxy_exporter_snapshot_errors_total{reason=\"connect\"}") == 1);
  CHECK(test_support::SampleValue(
            samples, "smartproxy_exporter_snapshot_errors_total{reason=\"version\"}") == 0);
  CHECK(samples.count("smartproxy_connections_active") == 0);
  CHECK(test_support::SampleValue(samples, "process_open_fds") > 0);
  CHECK(collector.Status().reason == "connect");
  CHECK(collector.Status().message == "no socket");
}

TEST_CASE("A scrape whose fetch fails to connect serves the golden up=0 text") {
  // tests/golden/scrape_up0.prom is the whole text, normalised by NormaliseMeasured (the fetch's
  // duration, the process_* values and the revision are not compared); UPDATE_GOLDEN=1 rewrites
  // it. promtool checks the text as served, before normalisation.
  const auto now = std::chrono::system_clock::time_point(std::chrono::milliseconds(1764043260000));
  Collector collector(
      [](const FetchRequest&) -> FetchOutcome {
        return FetchError{FetchErrorKind::kConnect,
                          "connect to /run/smartproxy/metrics.sock: no such file"};
      },
      CollectorOptions{}, [now] { return now; });
  const std::string text = collector.Scrape(2s).Joined();
  CHECK_PROMTOOL_CLEAN(text);
  const std::string normalised = NormaliseMeasured(text);
  const std::string golden_path = std::string(GOLDEN_DIR) + "/scrape_up0.prom";
  if (std::getenv("UPDATE_GOLDEN") != nullptr) test_support::WriteFile(golden_path, normalised);
  CHECK(normalised == test_support::ReadFile(golden_path));
}

TEST_CASE("Collector exports a fetched snapshot and forgets it by the next scrape") {
  std::atomic<int> calls{0};
  Collector collector(
      [&](const FetchRequest&) -> FetchOutcome {
        if (++calls == 1) return SmallSnapshot(5);
        return FetchError{FetchErrorKind::kParse, "bad"};
      },
      CollectorOptions{});
  auto first = Samples(collector);
  CHECK(test_support::SampleValue(first, "smartproxy_up") == 1);
  CHECK(test_support::SampleValue(first, "smartproxy_connections_active") == 5);
  CHECK(test_support::SampleValue(first, "smartproxy_exporter_snapshot_size_bytes") == 123);
  auto second = Samples(collector);
  CHECK(test_support::SampleValue(second, "smartproxy_up") == 0);
  CHECK(second.count("smartproxy_connections_active") == 0);  // no stale series
  CHECK(test_support::SampleValue(second, "smartproxy_exporter_scrapes_total") == 2);
}

TEST_CASE("Without exporter metrics only process_* and smartproxy_exporter_* go, never up") {
  CollectorOptions options;
  options.exporter_metrics = false;
  std::atomic<int> calls{0};
  Collector collector(
      [&](const FetchRequest&) -> FetchOutcome {
        if (++calls == 1) return SmallSnapshot(5);
        return FetchError{FetchErrorKind::kConnect, "no socket"};
      },
      options);
  for (const bool proxy_up : {true, false}) {
    CAPTURE(proxy_up);
    const auto samples = Samples(collector);
    CHECK(test_support::SampleValue(samples, "smartproxy_up") == (proxy_up ? 1 : 0));
    CHECK(samples.count("smartproxy_connections_active") == (proxy_up ? 1 : 0));
    std::size_t build_info = 0;
    for (const auto& sample : samples) {
      const std::string& series = sample.first;
      CAPTURE(series);
      CHECK_FALSE(series.starts_with("process_"));
      if (series.starts_with("smartproxy_exporter_build_info{")) {
        ++build_info;
      } else {
        CHECK_FALSE(series.starts_with("smartproxy_exporter_"));
      }
    }
    CHECK(build_info == 1);
  }
  SUBCASE("a reload that turns them back on brings them back") {
    CollectorOptions on;
    collector.Reconfigure(
        [](const FetchRequest&) -> FetchOutcome {
          return FetchError{FetchErrorKind::kConnect, "no socket"};
        },
        on);
    const auto samples = Samples(collector);
    CHECK(samples.count("smartproxy_exporter_scrapes_total") == 1);
    CHECK(test_support::SampleValue(samples, "process_open_fds") > 0);
  }
}

TEST_CASE("Collector pushes ips.top down to the proxy, except when anonymising") {
  std::optional<unsigned> asked;
  const auto fetcher = [&](const FetchRequest& request) -> FetchOutcome {
    asked = request.ips;
    return SmallSnapshot(1);
  };
  CollectorOptions options;
  options.metrics.ips.top = 7;
  Collector collector(fetcher, options);
  collector.Scrape(1s);
  CHECK(asked == 7u);
  options.metrics.ips.top = 0;
  collector.Reconfigure(fetcher, options);
  collector.Scrape(1s);
  CHECK(asked == 0u);
  options.metrics.ips.top = 20;
  options.metrics.ips.anonymize = exporter::conversion::IpAnonymization::kPrefix;
  collector.Reconfigure(fetcher, options);
  collector.Scrape(1s);
  // This proxy does not group at the source, so the last fetch asked for every IP.
  CHECK_FALSE(asked.has_value());
}

TEST_CASE("With anonymize: prefix the proxy is asked to group; one that does not is asked again") {
  using proxy_client::IpGrouping;
  std::vector<FetchRequest> asked;
  bool source_groups = false;
  std::string instance = "a";
  const auto fetcher = [&](const FetchRequest& request) -> FetchOutcome {
    asked.push_back(request);
    FetchResult result = SmallSnapshot(1);
    result.snapshot.proxy.emplace().instance = instance;
    if (request.ip_grouping && source_groups) {
      result.snapshot.connections.ip_grouping = request.ip_grouping;
    }
    return result;
  };
  CollectorOptions options;
  options.metrics.ips.top = 5;
  options.metrics.ips.anonymize = exporter::conversion::IpAnonymization::kPrefix;
  options.metrics.ips.ipv4_prefix = 16;
  Collector collector(fetcher, options);

  // An older source ignores the parameters: asked again at once for every IP.
  CHECK(Samples(collector).at("smartproxy_up") == 1);
  REQUIRE(asked.size() == 2);
  CHECK(asked[0].ips == 5u);
  CHECK(asked[0].ip_grouping == IpGrouping{16, 64});
  CHECK_FALSE(asked[1].ips.has_value());
  CHECK_FALSE(asked[1].ip_grouping.has_value());
  // ... and from then on asked for every IP only.
  asked.clear();
  Samples(collector);
  REQUIRE(asked.size() == 1);
  CHECK_FALSE(asked[0].ip_grouping.has_value());
  // A restarted proxy (another instance), now grouping: asked to group again, and it does.
  instance = "b";
  source_groups = true;
  Samples(collector);
  asked.clear();
  Samples(collector);
  REQUIRE(asked.size() == 1);
  CHECK(asked[0].ips == 5u);
  CHECK(asked[0].ip_grouping == IpGrouping{16, 64});
  asked.clear();
  Samples(collector);
  CHECK(asked.size() == 1);
}

TEST_CASE("A proxy that answers 400 to the grouping parameters is asked for every IP") {
  std::vector<FetchRequest> asked;
  const auto fetcher = [&](const FetchRequest& request) -> FetchOutcome {
    asked.push_back(request);
    if (request.ip_grouping) {
      return FetchError{FetchErrorKind::kHttpStatus, "proxy answered HTTP 400: bad parameter"};
    }
    return SmallSnapshot(1);
  };
  CollectorOptions options;
  options.metrics.ips.anonymize = exporter::conversion::IpAnonymization::kPrefix;
  Collector collector(fetcher, options);
  const auto samples = Samples(collector);
  CHECK(samples.at("smartproxy_up") == 1);
  CHECK(samples.at("smartproxy_exporter_snapshot_errors_total{reason=\"http_status\"}") == 0);
  REQUIRE(asked.size() == 2);
  CHECK_FALSE(asked[1].ip_grouping.has_value());
  // Any other failure of the grouped fetch is the scrape's failure, not a reason to ask again.
  asked.clear();
  Collector failing(
      [&](const FetchRequest& request) -> FetchOutcome {
        asked.push_back(request);
        return FetchError{FetchErrorKind::kHttpStatus, "proxy answered HTTP 500"};
      },
      options);
  CHECK(Samples(failing).at("smartproxy_up") == 0);
  CHECK(asked.size() == 1);
}

TEST_CASE("Collector counts what each kind folded into \"other\" in aggregated_series") {
  const auto fetcher = [](const FetchRequest&) -> FetchOutcome {
    FetchResult result = SmallSnapshot(6);
    auto& snapshot = result.snapshot;
    snapshot.connections.by_ip =
        proxy_client::NamedValues<double>{{"10.0.0.1", 4}, {"10.0.0.2", 2}};
    snapshot.connections.by_route = proxy_client::NamedValues<double>{{"a", 3}, {"b", 2}, {"c", 1}};
    snapshot.backends = proxy_client::NamedValues<proxy_client::Backend>{};
    for (int i = 0; i < 5; ++i) {
      proxy_client::Backend backend;
      backend.total = i;
      snapshot.backends->emplace_back("b" + std::to_string(i), backend);
    }
    snapshot.requests.emplace();
    snapshot.requests->by_domain = proxy_client::NamedValues<proxy_client::DomainRequests>{
        {"a.example", {1, 60}}, {"b.example", {2, 120}}, {"c.example", {3, 180}}};
    snapshot.protocols.emplace();
    snapshot.protocols->frontend.emplace();
    snapshot.protocols->backend.emplace();
    for (int i = 0; i < 23; ++i) {
      snapshot.protocols->frontend->emplace_back("p" + std::to_string(i),
                                                 proxy_client::ProtocolConnections{1, 1});
      snapshot.protocols->backend->emplace_back("q" + std::to_string(i),
                                                proxy_client::ProtocolConnections{1, 1});
    }
    return result;
  };
  CollectorOptions options;
  options.metrics.ips.top = 1;
  options.metrics.routes.max = 1;
  options.metrics.backends.max = 2;
  options.metrics.domains.top = 0;
  Collector collector(fetcher, options);
  const auto samples = Samples(collector);
  auto folded = [&](const std::string& kind) {
    return test_support::SampleValue(
        samples, "smartproxy_exporter_aggregated_series{kind=\"" + kind + "\"}");
  };
  CHECK(folded("ip") == 1);
  CHECK(folded("route") == 2);
  CHECK(folded("backend") == 3);
  CHECK(folded("domain") == 3);
  CHECK(folded("protocol") == 6);  // 23 - 20 on each side
  CHECK(test_support::SampleValue(
            samples, "smartproxy_domain_requests_per_second{domain=\"other\",window=\"60s\"}") ==
        6);
}

TEST_CASE("No exposed label is job or instance or starts with __, with every group present") {
  // Prometheus' target labels win over these (honor_labels: false), renaming ours to
  // exported_job / exported_instance; names starting with __ are reserved.
  const Collector collector(
      [](const FetchRequest&) -> FetchOutcome {
        FetchResult result;
        result.snapshot = test_support::EveryGroupSnapshot();
        result.body_bytes = 1000;
        return result;
      },
      CollectorOptions{});
  const std::string text = collector.Scrape(2s).Joined();
  const std::set<std::string> names = LabelNames(text);
  // The walk sees the labels of every group: the snapshot's and the exporter's own.
  for (const char* expected :
       {"route", "ip", "direction", "window", "percentile", "proxy_instance", "name", "version",
        "api", "backend", "protocol", "kind", "side", "domain", "reason", "revision"}) {
    CHECK_MESSAGE(names.count(expected) == 1, expected);
  }
  for (const auto& name : names) {
    CAPTURE(name);
    // A well-formed name each, or the walk lost its place in a value.
    CHECK(!name.empty());
    CHECK(
        name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") ==
        std::string::npos);
    CHECK(name != "job");
    CHECK(name != "instance");
    CHECK_FALSE(name.starts_with("__"));
  }
}

TEST_CASE("Collector's fetch deadline is the smaller of proxy.timeout and the scrape's") {
  std::chrono::milliseconds seen{0};
  CollectorOptions options;
  options.timeout = 1500ms;
  Collector collector(
      [&](const FetchRequest& request) -> FetchOutcome {
        seen = request.deadline;
        return SmallSnapshot(1);
      },
      options);
  collector.Scrape(10s);
  CHECK(seen == 1500ms);
  collector.Scrape(300ms);
  CHECK(seen == 300ms);
  collector.Scrape(std::chrono::milliseconds::max());
  CHECK(seen == 1500ms);
}

TEST_CASE("Concurrent scrapes share one fetch: the proxy is asked once" *
          doctest::test_suite("concurrency")) {
  std::atomic<int> calls{0};
  Collector* collector_ptr = nullptr;
  const exporter::collector::SnapshotFetcher collector_fetcher =
      [&](const FetchRequest&) -> FetchOutcome {
    // Hold the first fetch until the three other scrapes are waiting for it.
    if (++calls == 1) {
      test_support::PollUntil([&] { return collector_ptr->ScrapesWaiting() == 3; }, 10s);
    }
    return SmallSnapshot(9);
  };
  Collector collector(collector_fetcher, CollectorOptions{});
  collector_ptr = &collector;
  CollectorOptions options;
  options.timeout = 10s;
  collector.Reconfigure(collector_fetcher, options);
  std::vector<std::thread> scrapers;
  std::vector<std::string> texts(4);
  for (std::size_t i = 0; i < 4; ++i) {
    // Only the text is produced on the scraper threads: doctest's assertions are checked on
    // the main thread.
    scrapers.emplace_back([&, i] { texts[i] = collector.Scrape(10s).Joined(); });
  }
  for (auto& scraper : scrapers) scraper.join();
  CHECK(calls == 1);
  CHECK(collector.FetchesStarted() == 1);
  for (const auto& text : texts) {
    CHECK(test_support::SampleValue(test_support::ParseExposition(text), "smartproxy_up") == 1);
  }
  Samples(collector);
  CHECK(calls == 2);  // the next scrape fetches afresh
}

TEST_CASE("A scrape waiting on another's fetch gives up at its own deadline" *
          doctest::test_suite("concurrency")) {
  std::atomic<bool> release{false};
  Collector collector(
      [&](const FetchRequest&) -> FetchOutcome {
        test_support::PollUntil([&] { return release.load(); }, 10s);
        return SmallSnapshot(1);
      },
      CollectorOptions{});
  std::thread leader([&] { collector.Scrape(10s); });
  REQUIRE(test_support::PollUntil([&] { return collector.FetchesStarted() == 1; }, 5s));
  const auto started = std::chrono::steady_clock::now();
  const auto samples = Samples(collector, 100ms);
  CHECK(std::chrono::steady_clock::now() - started < 2s);
  CHECK(test_support::SampleValue(samples, "smartproxy_up") == 0);
  CHECK(test_support::SampleValue(
            samples, "smartproxy_exporter_snapshot_errors_total{reason=\"timeout\"}") == 1);
  release = true;
  leader.join();
}

TEST_CASE("An exception thrown by a fetcher becomes up=0, never escapes") {
  Collector collector([](const FetchRequest&) -> FetchOutcome { throw std::runtime_error("boom"); },
                      CollectorOptions{});
  const auto samples = Samples(collector);
  CHECK(test_support::SampleValue(samples, "smartproxy_up") == 0);
  CHECK(collector.Status().message.find("boom") != std::string::npos);
}

TEST_CASE("Scrape's snapshot text is the conversion's, shared by concurrent scrapes" *
          doctest::test_suite("concurrency")) {
  std::atomic<int> calls{0};
  const Collector* collector_ptr = nullptr;
  const exporter::collector::SnapshotFetcher fetcher = [&](const FetchRequest&) -> FetchOutcome {
    if (++calls == 1) {
      test_support::PollUntil([&] { return collector_ptr->ScrapesWaiting() == 1; }, 10s);
    }
    FetchResult result = SmallSnapshot(4);
    result.snapshot.connections.by_route = proxy_client::NamedValues<double>{{"a", 3}, {"b", 1}};
    return result;
  };
  CollectorOptions options;
  options.timeout = 10s;
  // A fixed clock: smartproxy_snapshot_age_seconds is the same in every rendering.
  const auto now = std::chrono::system_clock::time_point(std::chrono::milliseconds(1764043260000));
  Collector collector(fetcher, options, [now] { return now; });
  collector_ptr = &collector;
  exporter::collector::ScrapeText first, second;
  std::thread other([&] { second = collector.Scrape(10s); });
  first = collector.Scrape(10s);
  other.join();
  REQUIRE(first.snapshot != nullptr);
  CHECK(first.snapshot == second.snapshot);  // the same rendering, not an equal copy
  CHECK(calls == 1);

  // The shared part is exactly the conversion of the fetched snapshot, between `up` and the
  // exporter's own metrics.
  FetchResult fetched = SmallSnapshot(4);
  fetched.snapshot.connections.by_route = proxy_client::NamedValues<double>{{"a", 3}, {"b", 1}};
  const auto converted = test_support::Convert(fetched.snapshot, options.metrics, now);
  CHECK(std::string(first.snapshot->view()) == converted.text);
  CHECK(first.head ==
        "# HELP smartproxy_up 1 when this scrape's snapshot was fetched from the proxy "
        "and parsed, else 0.\n# TYPE smartproxy_up gauge\nsmartproxy_up 1\n");
  CHECK(first.tail.starts_with("# HELP smartproxy_exporter_build_info "));
  const auto scraped = test_support::ParseExposition(collector.Scrape(10s).Joined());
  CHECK(test_support::SampleValue(scraped, "smartproxy_route_connections_active{route=\"a\"}") ==
        3);
}

TEST_CASE("Scrape renders into the buffer of a snapshot text no scrape holds any more") {
  // A fixed clock: smartproxy_snapshot_age_seconds is the same in every rendering.
  const auto now = std::chrono::system_clock::time_point(std::chrono::milliseconds(1764043260000));
  Collector collector([](const FetchRequest&) -> FetchOutcome { return SmallSnapshot(3); },
                      CollectorOptions{}, [now] { return now; });
  collector.Scrape(2s);  // sizes the next rendering's buffer from this one's text
  exporter::collector::ScrapeText held = collector.Scrape(2s);
  REQUIRE(held.snapshot != nullptr);
  const char* const buffer = held.snapshot->view().data();
  const std::string expected(held.snapshot->view());

  // Held by a scrape still sending it: the next rendering gets a buffer of its own.
  const exporter::collector::ScrapeText concurrent = collector.Scrape(2s);
  REQUIRE(concurrent.snapshot != nullptr);
  CHECK(concurrent.snapshot->view().data() != buffer);
  CHECK(held.snapshot->view() == expected);

  held = {};
  const exporter::collector::ScrapeText next = collector.Scrape(2s);
  REQUIRE(next.snapshot != nullptr);
  CHECK(next.snapshot->view().data() == buffer);
  CHECK(next.snapshot->view() == expected);
}

TEST_CASE("Concurrent scrapes never see their snapshot text reused while they hold it" *
          doctest::test_suite("concurrency")) {
  std::atomic<int> fetches{0};
  Collector collector([&](const FetchRequest&) -> FetchOutcome { return SmallSnapshot(++fetches); },
                      CollectorOptions{});
  std::vector<std::thread> scrapers;
  std::atomic<int> corrupted{0};
  for (int i = 0; i < 4; ++i) {
    scrapers.emplace_back([&, i] {
      std::vector<std::pair<exporter::collector::ScrapeText, std::string>> held;
      for (int n = 0; n < 50; ++n) {
        exporter::collector::ScrapeText text = collector.Scrape(2s);
        if (text.snapshot == nullptr) continue;
        std::string copy(text.snapshot->view());
        held.emplace_back(std::move(text), std::move(copy));
        // Each thread lets go of its texts at its own pace, so buffers return to the pool
        // while other scrapes render.
        if (held.size() > static_cast<std::size_t>(i)) {
          for (const auto& [kept, expected] : held) corrupted += kept.snapshot->view() != expected;
          held.clear();
        }
      }
      for (const auto& [kept, expected] : held) corrupted += kept.snapshot->view() != expected;
    });
  }
  for (auto& scraper : scrapers) scraper.join();
  CHECK(corrupted == 0);
  CHECK(fetches > 0);
}
