#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include "exporter/metrics_options.h"
#include "exporter/snapshot_metrics.h"
#include "proxy_client/expected.h"
#include "proxy_client/fetch_error.h"
#include "proxy_client/snapshot_client.h"

// Scrape-time collection: every Collect fetches one fresh snapshot (shared by the scrapes that
// arrive while it is in flight), converts it, and adds up and the exporter's own metrics.
namespace exporter {

using FetchOutcome = proxy_client::Expected<proxy_client::FetchResult, proxy_client::FetchError>;
// Fetches one snapshot within the request's deadline. Called by one thread at a time.
using SnapshotFetcher = std::function<FetchOutcome(const proxy_client::FetchRequest&)>;

struct CollectorOptions {
  MetricsOptions metrics;
  std::chrono::milliseconds timeout{2000};  // upper bound of a fetch (proxy.timeout)
};

// What the last finished fetch said, for the landing page and state-change logging.
struct SnapshotStatus {
  bool up = false;
  bool ever_fetched = false;
  std::string reason;   // FetchErrorKindName when down
  std::string message;  // the error message when down
  std::chrono::system_clock::time_point at{};
};

// One scrape's exposition text in three parts, to be sent in this order: `head` (up),
// `snapshot` (the metrics from the snapshot, shared by the scrapes that shared its fetch; null
// when the fetch failed) and `tail` (the exporter's own metrics).
struct ScrapeText {
  std::string head;
  std::shared_ptr<const std::string> snapshot;
  std::string tail;

  std::size_t size() const { return head.size() + (snapshot ? snapshot->size() : 0) + tail.size(); }
  std::string Joined() const;
};

// Thread-safe: any number of threads may call Collect concurrently; Reconfigure may run at
// any time (a SIGHUP reload) and applies from the next fetch on.
class Collector : public prometheus::Collectable {
 public:
  using Clock = std::function<std::chrono::system_clock::time_point()>;

  Collector(SnapshotFetcher fetcher, CollectorOptions options, Clock clock = nullptr);

  // Collect within options.timeout.
  std::vector<prometheus::MetricFamily> Collect() const override;
  // Collect within min(deadline, options.timeout). Never throws except std::bad_alloc; a
  // failed fetch yields up=0, the exporter's own metrics and the error counted by reason.
  std::vector<prometheus::MetricFamily> Collect(std::chrono::milliseconds deadline) const;

  // The text exposition of one scrape (what GET /metrics serves): the same metrics as Collect,
  // in the same order, but scrapes that share a fetch also share the conversion and
  // serialisation of its snapshot. Never throws except std::bad_alloc.
  ScrapeText Scrape(std::chrono::milliseconds deadline) const;

  void Reconfigure(SnapshotFetcher fetcher, CollectorOptions options);
  SnapshotStatus Status() const;
  // Fetches started (not shared) since construction: tests check that concurrent scrapes
  // cost the proxy one fetch.
  std::uint64_t FetchesStarted() const { return fetches_started_.load(); }
  // Scrapes currently waiting for a fetch that another scrape started.
  std::size_t ScrapesWaiting() const;

 private:
  struct FetchRecord {
    // `result` is a FetchOutcome, a FetchResult or a FetchError.
    template <typename Result>
    FetchRecord(Result&& result, std::chrono::duration<double> fetch_duration)
        : outcome(std::forward<Result>(result)), duration(fetch_duration) {}
    FetchOutcome outcome;
    std::chrono::duration<double> duration{};
    // Filled once, by the first Scrape that serves this fetch.
    mutable std::once_flag rendered;
    mutable std::shared_ptr<const std::string> snapshot_text;
    mutable AggregationCounts folded;
  };
  struct Flight {
    bool done = false;
    std::size_t waiting = 0;
    std::shared_ptr<const FetchRecord> record;
  };

  struct TextBufferPool;

  std::shared_ptr<const FetchRecord> FetchShared(std::chrono::milliseconds deadline,
                                                 const CollectorOptions& options) const;
  void RecordOutcome(const FetchRecord& record) const;
  std::shared_ptr<const FetchRecord> BeginScrape(
      std::chrono::milliseconds deadline, std::shared_ptr<const CollectorOptions>* options) const;
  prometheus::MetricFamily UpFamily(const MetricsOptions& metrics, bool up) const;
  std::vector<prometheus::MetricFamily> OwnFamilies(const MetricsOptions& metrics,
                                                    const FetchRecord& record,
                                                    const AggregationCounts& folded) const;

  Clock clock_;
  mutable std::mutex mutex_;
  mutable std::condition_variable flight_done_;
  mutable std::shared_ptr<Flight> in_flight_;  // guarded by mutex_
  SnapshotFetcher fetcher_;                    // guarded by mutex_
  std::shared_ptr<const CollectorOptions> options_;  // guarded by mutex_
  mutable SnapshotStatus status_;                    // guarded by mutex_

  mutable std::atomic<std::uint64_t> scrapes_total_{0};
  mutable std::atomic<std::uint64_t> fetches_started_{0};
  mutable std::atomic<std::size_t> last_snapshot_text_bytes_{0};      // to size the next rendering
  std::shared_ptr<TextBufferPool> text_pool_;                         // snapshot text buffers
  mutable std::array<std::atomic<std::uint64_t>, 6> errors_total_{};  // by FetchErrorKind
};

// A fetcher over a SnapshotClient that it owns (the client is not thread-safe; the Collector
// calls its fetcher from one thread at a time).
SnapshotFetcher MakeSocketFetcher(proxy_client::SnapshotClientOptions options);

}  // namespace exporter
