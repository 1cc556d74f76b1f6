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

#include "exporter/conversion/metrics_options.h"
#include "exporter/conversion/sample_sink.h"
#include "exporter/conversion/snapshot_metrics.h"
#include "exporter/conversion/text_buffer.h"
#include "exporter/conversion/text_writer.h"
#include "proxy_client/expected.h"
#include "proxy_client/fetch_error.h"
#include "proxy_client/snapshot_client.h"

// Scrape-time collection: every scrape fetches one fresh snapshot (shared by the scrapes that
// arrive while it is in flight), converts it, and adds up and the exporter's own metrics.
namespace exporter::collector {

using FetchOutcome = proxy_client::Expected<proxy_client::FetchResult, proxy_client::FetchError>;
// Fetches one snapshot within the request's deadline. Called by one thread at a time.
using SnapshotFetcher = std::function<FetchOutcome(const proxy_client::FetchRequest&)>;

struct CollectorOptions {
  conversion::MetricsOptions metrics;
  // Upper bound of a fetch (proxy.timeout).
  std::chrono::milliseconds timeout = proxy_client::kDefaultFetchTimeout;
  // --web.disable-exporter-metrics: drop the exporter's own process_* and smartproxy_exporter_*
  // families, all but smartproxy_exporter_build_info (kept, as node_exporter keeps its
  // build_info). `up` and the proxy's series are never dropped.
  bool exporter_metrics = true;
};

// What the last finished fetch said, for the landing page and state-change logging.
struct SnapshotStatus {
  bool up = false;
  bool ever_fetched = false;
  std::string reason;   // FetchErrorKindName of the last failed fetch, when down
  std::string message;  // the error message of the last failed fetch, when down
  std::chrono::system_clock::time_point at{};     // the last finished fetch
  std::chrono::system_clock::time_point since{};  // the first fetch of the current state (up/down)
};

// One scrape's exposition text in three parts, to be sent in this order: `head` (up),
// `snapshot` (the metrics from the snapshot, shared by the scrapes that shared its fetch; null
// when the fetch failed) and `tail` (the exporter's own metrics).
struct ScrapeText {
  conversion::TextFormat format = conversion::TextFormat::kPrometheus;
  std::string head;
  std::shared_ptr<const conversion::TextBuffer> snapshot;
  std::string tail;

  std::string_view snapshot_view() const {
    return snapshot ? snapshot->view() : std::string_view();
  }
  std::size_t size() const { return head.size() + snapshot_view().size() + tail.size(); }
  std::string Joined() const;
};

// Thread-safe: any number of threads may call Scrape concurrently; Reconfigure may run at
// any time (a SIGHUP reload) and applies from the next fetch on.
class Collector {
 public:
  using Clock = std::function<std::chrono::system_clock::time_point()>;

  Collector(SnapshotFetcher fetcher, CollectorOptions options, Clock clock = nullptr);

  // The text exposition of one scrape in `format`, what GET /metrics serves, fetched within
  // min(deadline, options.timeout). Scrapes that share a fetch share the conversion of its
  // snapshot too (one per format). A failed fetch yields up=0, the exporter's own metrics and
  // the error counted by reason. Never throws except std::bad_alloc.
  ScrapeText Scrape(std::chrono::milliseconds deadline,
                    conversion::TextFormat format = conversion::TextFormat::kPrometheus) const;

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
    // The snapshot's text in one format, filled once, by the first Scrape that serves this
    // fetch in that format.
    struct Rendering {
      std::once_flag once;
      std::shared_ptr<const conversion::TextBuffer> text;
      conversion::AggregationCounts folded;
    };
    mutable std::array<Rendering, conversion::kTextFormatCount> renderings;  // by TextFormat
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
  FetchOutcome FetchSnapshot(const SnapshotFetcher& fetcher, const CollectorOptions& options,
                             std::chrono::milliseconds deadline) const;
  std::shared_ptr<const FetchRecord> BeginScrape(
      std::chrono::milliseconds deadline, std::shared_ptr<const CollectorOptions>* options) const;
  void WriteOwnMetrics(const CollectorOptions& options, const FetchRecord& record,
                       const conversion::AggregationCounts& folded,
                       conversion::SampleSink* sink) const;
  std::shared_ptr<const conversion::TextBuffer> RenderSnapshot(
      const FetchRecord& record, const conversion::MetricsOptions& metrics,
      conversion::TextFormat format, conversion::AggregationCounts* folded) const;

  Clock clock_;
  mutable std::mutex mutex_;
  mutable std::condition_variable flight_done_;
  mutable std::shared_ptr<Flight> in_flight_;        // guarded by mutex_
  SnapshotFetcher fetcher_;                          // guarded by mutex_
  std::shared_ptr<const CollectorOptions> options_;  // guarded by mutex_
  mutable SnapshotStatus status_;                    // guarded by mutex_
  // Whether the proxy ignored ?ipv4Prefix= (an older adapter), and the proxy.instance that did.
  // Used by the thread running the fetch only: one at a time (single flight), ordered by mutex_.
  mutable bool source_cannot_group_ = false;
  mutable std::string ungrouped_instance_;

  mutable std::atomic<std::uint64_t> scrapes_total_{0};
  mutable std::atomic<std::uint64_t> fetches_started_{0};
  // By TextFormat: the size of the last rendering (to size the next) and the buffers' pool.
  mutable std::array<std::atomic<std::size_t>, conversion::kTextFormatCount>
      last_snapshot_text_bytes_{};
  std::array<std::shared_ptr<TextBufferPool>, conversion::kTextFormatCount> text_pools_;
  mutable std::array<std::atomic<std::uint64_t>, proxy_client::kFetchErrorKinds.size()>
      errors_total_{};  // by FetchErrorKindIndex
};

// A fetcher over a SnapshotClient that it owns (the client is not thread-safe; the Collector
// calls its fetcher from one thread at a time).
SnapshotFetcher MakeSocketFetcher(proxy_client::SnapshotClientOptions options);

}  // namespace exporter::collector
