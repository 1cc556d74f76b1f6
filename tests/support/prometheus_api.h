#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "child_process.h"
#include "temp_dir.h"

// The Prometheus HTTP query API, as Prometheus and VictoriaMetrics serve it, and a real
// Prometheus server (Debian's package `prometheus`) for the tests.
namespace test_support {

// The first sample value of an instant-vector query against the server on `port`, or nullopt
// when the result is empty or the query failed.
std::optional<double> QueryValue(int port, const std::string& promql);

// Polls `promql` until its first value satisfies `holds` or `timeout` passes.
bool QueryUntil(int port, const std::string& promql, const std::function<bool(double)>& holds,
                std::chrono::milliseconds timeout);

// Prometheus with `scrape_configs` (YAML, indented under the key), scraping every second, on
// a free loopback port with its data in `dir`. Stopped on destruction.
class PrometheusProcess {
 public:
  PrometheusProcess(const TempDir& dir, const std::string& scrape_configs);
  ~PrometheusProcess();

  int port() const { return port_; }
  std::string Log() const { return process_->Stderr(); }

 private:
  int port_;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace test_support
