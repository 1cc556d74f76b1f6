// OpenMetrics by content negotiation, judged by three real consumers: prometheus_client's strict
// OpenMetrics parser (Debian's python3-prometheus-client), a real Prometheus with its default
// Accept header, and VictoriaMetrics' vmagent scraping both formats into a VictoriaMetrics
// server (Debian's victoria-metrics).
#include <doctest/doctest.h>
#include <signal.h>

#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "exposition.h"
#include "http_get.h"
#include "processes.h"
#include "prometheus_api.h"

using namespace std::chrono_literals;
using namespace test_support;

namespace {

// Prometheus 2.42's scrape Accept header (scrape/scrape.go).
constexpr const char* kPrometheusAccept =
    "Accept: application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
    "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
constexpr const char* kOpenMetricsContentType =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";
// proxy-sim's --start-time: the proxy's counters' _created.
constexpr const char* kStartTimeMs = "1764547200500";
constexpr double kStartTimeSeconds = 1764547200.5;
// Fewer IPs than the default top 20 and fixed names: every fetch has the same series, so
// expositions of different fetches can be compared series by series.
const std::vector<std::string> kStableSim = {"--ips", "10", "--start-time", kStartTimeMs};

HttpResponse Scrape(const ExporterProcess& exporter, const char* accept, bool gzip = false) {
  HttpRequest request;
  request.url = exporter.Url();
  if (accept != nullptr) request.headers.push_back(accept);
  request.decode_gzip = gzip;
  return HttpFetch(request);
}

struct Judgement {
  int exit_code = -1;
  std::string output;
  double samples = 0;
};

// openmetrics_check.py on an OpenMetrics body and a 0.0.4 body of the same exporter.
Judgement Judge(const TempDir& dir, const std::string& open_metrics, const std::string& text) {
  WriteFile(dir.File("om.txt"), open_metrics);
  WriteFile(dir.File("text.txt"), text);
  const auto result =
      RunCommand("/usr/bin/python3 " SOURCE_DIR "/tests/integration/openmetrics_check.py " +
                 dir.File("om.txt") + " " + dir.File("text.txt") + " 2>&1");
  Judgement judgement{result.exit_code, result.output};
  static const std::regex samples(R"re("samples": ([0-9]+))re");
  std::smatch match;
  if (std::regex_search(result.output, match, samples)) judgement.samples = std::stod(match[1]);
  return judgement;
}

// The value of `series` in a JSON "created" map printed by openmetrics_check.py.
std::optional<double> CreatedValue(const std::string& output, const std::string& series) {
  const std::string quoted = "\"" + std::regex_replace(series, std::regex(R"(")"), "\\\"") + "\": ";
  const auto at = output.find(quoted);
  if (at == std::string::npos) return std::nullopt;
  return std::stod(output.substr(at + quoted.size()));
}

}  // namespace

TEST_CASE("OpenMetrics passes the strict parser and carries every sample of the 0.0.4 text") {
  for (const char* generation : {"27", "19.6"}) {
    CAPTURE(generation);
    TempDir dir;
    std::vector<std::string> sim_args = kStableSim;
    sim_args.insert(sim_args.end(), {"--generation", generation});
    ProxySimProcess sim(dir, sim_args);
    ExporterProcess exporter(dir, {"--proxy.socket", sim.socket()});

    const auto text = Scrape(exporter, nullptr);
    REQUIRE(text.status == 200);
    CHECK(text.headers.at("content-type") == "text/plain; version=0.0.4; charset=utf-8");
    CHECK(text.body.find("# EOF") == std::string::npos);
    CHECK(text.body.find("_created") == std::string::npos);

    for (const bool gzip : {false, true}) {
      CAPTURE(gzip);
      const auto om = Scrape(exporter, kPrometheusAccept, gzip);
      REQUIRE(om.status == 200);
      CHECK(om.headers.at("content-type") == kOpenMetricsContentType);
      CHECK(om.headers.at("vary") == "Accept, Accept-Encoding");
      CHECK(om.headers.count("content-encoding") == (gzip ? 1u : 0u));
      const Judgement judgement = Judge(dir, om.body, text.body);
      REQUIRE_MESSAGE(judgement.exit_code == 0, judgement.output);
      // The proxy's counters count from its startTime; the exporter's own from its start.
      CHECK(CreatedValue(judgement.output, "smartproxy_connections_created{}") ==
            kStartTimeSeconds);
      const double exporter_start =
          SampleValue(ParseExposition(text.body), "process_start_time_seconds");
      CHECK(CreatedValue(judgement.output, "smartproxy_exporter_scrapes_created{}") ==
            exporter_start);
      CHECK(CreatedValue(judgement.output, "process_cpu_seconds_created{}") == exporter_start);
    }
    // The version asked for is echoed.
    const auto old = Scrape(exporter, "Accept: application/openmetrics-text; version=0.0.1");
    CHECK(old.headers.at("content-type") ==
          "application/openmetrics-text; version=0.0.1; charset=utf-8");
  }
}

TEST_CASE("OpenMetrics of a failed fetch (up 0) passes the strict parser") {
  TempDir dir;
  ExporterProcess exporter(dir, {"--proxy.socket", dir.File("nobody-listens.sock")});
  const auto om = Scrape(exporter, kPrometheusAccept);
  const auto text = Scrape(exporter, nullptr);
  REQUIRE(om.status == 200);
  CHECK(om.body.rfind("# EOF\n") == om.body.size() - 6);
  CHECK(om.body.find("smartproxy_up 0\n") != std::string::npos);
  const Judgement judgement = Judge(dir, om.body, text.body);
  CHECK_MESSAGE(judgement.exit_code == 0, judgement.output);
  // A damaged copy must fail, or the judge judges nothing.
  const Judgement truncated = Judge(dir, om.body.substr(0, om.body.size() - 6), text.body);
  CHECK(truncated.exit_code != 0);
  CHECK(truncated.output.find("EOF") != std::string::npos);
}

TEST_CASE("A real Prometheus negotiates OpenMetrics and stores every sample it was sent") {
  TempDir dir;
  std::vector<std::string> sim_args = kStableSim;
  sim_args.push_back("--wall-clock");
  ProxySimProcess sim(dir, sim_args);
  ExporterProcess exporter(dir, {"--proxy.socket", sim.socket()});
  PrometheusProcess prometheus(dir,
                               "  - job_name: smartproxy\n    static_configs:\n"
                               "      - targets: ['127.0.0.1:" +
                                   std::to_string(exporter.port()) + "']\n");
  const int port = prometheus.port();
  REQUIRE_MESSAGE(QueryUntil(
                      port, "up{job=\"smartproxy\"}", [](double v) { return v == 1; }, 60s),
                  "Prometheus log:\n"
                      << prometheus.Log());
  // Prometheus 2.42 stores an OpenMetrics _created line as a series of its own; the 0.0.4
  // text has none, so its presence shows what was negotiated.
  CHECK(QueryUntil(
      port, "smartproxy_connections_created", [](double v) { return v == kStartTimeSeconds; },
      30s));
  // Every sample of an OpenMetrics scrape arrived: what Prometheus counted per scrape equals
  // what our exposition holds (the series are the same in every fetch, kStableSim).
  const auto text = Scrape(exporter, nullptr);
  const Judgement judgement = Judge(dir, Scrape(exporter, kPrometheusAccept).body, text.body);
  REQUIRE_MESSAGE(judgement.exit_code == 0, judgement.output);
  REQUIRE(judgement.samples > 100);
  CHECK(QueryValue(port, "scrape_samples_scraped{job=\"smartproxy\"}") == judgement.samples);
  // ... and each is a series of its own in the store (the 5 more are Prometheus' up and
  // scrape_* series of the target).
  CHECK(QueryUntil(
      port, "count({job=\"smartproxy\"})", [&](double v) { return v == judgement.samples + 5; },
      30s));
  CHECK(QueryValue(port, "smartproxy_proxy_info{job=\"smartproxy\"}") == 1);
}

TEST_CASE("vmagent scrapes both formats into VictoriaMetrics: the same series, _created apart") {
  TempDir dir;
  std::vector<std::string> sim_args = kStableSim;
  sim_args.push_back("--wall-clock");
  ProxySimProcess sim(dir, sim_args);
  ExporterProcess exporter(dir, {"--proxy.socket", sim.socket()});
  const std::string target = "127.0.0.1:" + std::to_string(exporter.port());
  // Two jobs on one target: vmagent's own Accept header (the text format), and OpenMetrics
  // asked for explicitly.
  WriteFile(dir.File("vmagent.yml"),
            "global:\n  scrape_interval: 1s\nscrape_configs:\n"
            "  - job_name: text\n    static_configs:\n      - targets: ['" +
                target +
                "']\n"
                "  - job_name: openmetrics\n    headers:\n"
                "      - 'Accept: application/openmetrics-text; version=1.0.0'\n"
                "    static_configs:\n      - targets: ['" +
                target + "']\n");
  const int store_port = FreeLoopbackPort();
  ChildProcess store({"/usr/bin/victoria-metrics", "-storageDataPath=" + dir.File("vm-data"),
                      "-httpListenAddr=127.0.0.1:" + std::to_string(store_port),
                      "-search.latencyOffset=0s", "-search.disableCache"},
                     dir.path());
  const int agent_port = FreeLoopbackPort();
  ChildProcess agent(
      {"/usr/bin/vmagent", "-promscrape.config=" + dir.File("vmagent.yml"),
       "-remoteWrite.url=http://127.0.0.1:" + std::to_string(store_port) + "/api/v1/write",
       "-remoteWrite.tmpDataPath=" + dir.File("vmagent-data"),
       "-httpListenAddr=127.0.0.1:" + std::to_string(agent_port)},
      dir.path());
  struct Stop {
    ChildProcess& process;
    ~Stop() { process.Stop(SIGTERM, 10s); }
  } stop_agent{agent}, stop_store{store};

  const auto text = Scrape(exporter, nullptr);
  const Judgement judgement = Judge(dir, Scrape(exporter, kPrometheusAccept).body, text.body);
  REQUIRE_MESSAGE(judgement.exit_code == 0, judgement.output);
  const double text_samples = static_cast<double>(ParseExposition(text.body).size());
  const double created = judgement.samples - text_samples;
  REQUIRE(created > 0);

  const auto logs = [&] { return "vmagent:\n" + agent.Stderr() + "\nstore:\n" + store.Stderr(); };
  REQUIRE_MESSAGE(
      QueryUntil(
          store_port, "min(up{job=~\"text|openmetrics\"})", [](double v) { return v == 1; }, 60s),
      logs());
  // vmagent adds the same up and scrape_* series to each job, so the difference of the two
  // counts is exactly the OpenMetrics _created series.
  CHECK_MESSAGE(QueryUntil(
                    store_port, "count({job=\"openmetrics\"}) - count({job=\"text\"})",
                    [&](double v) { return v == created; }, 60s),
                logs());
  CHECK(QueryValue(store_port, "count({job=\"text\",__name__=~\".+_created\"})") == std::nullopt);
  CHECK(QueryValue(store_port, "count({job=\"openmetrics\",__name__=~\".+_created\"})") == created);
  CHECK(QueryValue(store_port, "smartproxy_connections_created{job=\"openmetrics\"}") ==
        kStartTimeSeconds);
  // Every sample name of the text arrived from both jobs.
  CHECK(QueryValue(store_port, "count({job=\"text\",__name__=~\"smartproxy_.*|process_.*\"})") ==
        text_samples);
}
