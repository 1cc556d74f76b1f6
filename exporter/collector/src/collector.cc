#include "exporter/collector/collector.h"

#include <algorithm>
#include <memory>
#include <mutex>
#include <utility>

#include "exporter/collector/build_info.h"
#include "exporter/collector/process_metrics.h"
#include "exporter/conversion/snapshot_metrics.h"
#include "exporter/conversion/text_writer.h"
#include "exporter/log/log.h"

namespace exporter::collector {
namespace {

using conversion::MetricType;
using conversion::TextBuffer;
using proxy_client::FetchError;
using proxy_client::FetchErrorKind;
using proxy_client::FetchErrorKindIndex;

std::string Name(const conversion::MetricsOptions& options, std::string_view suffix) {
  std::string name = options.metric_namespace;
  name += '_';
  name += suffix;
  return name;
}

// Room for the exporter's own metrics and the process metrics (about 2.5 KB): written without
// growing the buffer.
constexpr std::size_t kOwnMetricsBytes = 4096;

}  // namespace

// Keeps the buffer of the last snapshot text for the next rendering once no scrape holds it:
// its mapping stays, its pages are lent to the next fetch and parse where huge pages are
// offered (TextBuffer::ClearAndRelease, page_memory/page_pool.h), so that the text and the
// next snapshot's body and document are not resident side by side.
struct Collector::TextBufferPool : std::enable_shared_from_this<TextBufferPool> {
  // A spare this small is kept whatever the snapshot's size: giving it back saves nothing.
  static constexpr std::size_t kAlwaysFitsBytes = 1 << 20;

  std::mutex mutex;
  std::unique_ptr<TextBuffer> spare;  // guarded by mutex

  // An empty buffer with room for `expected_bytes` and some more, returned here when its last
  // holder lets go. The spare serves while it has an eighth more than expected and at most
  // thrice that (a proxy whose snapshot shrank gets the memory back); otherwise a new buffer
  // reserves a quarter more (growing the spare would reserve twice its capacity).
  // Reserved pages stay out of RSS until written, so the headroom costs address space only.
  std::shared_ptr<TextBuffer> Take(std::size_t expected_bytes) {
    std::unique_ptr<TextBuffer> buffer;
    {
      std::lock_guard lock(mutex);
      buffer = std::move(spare);
    }
    if (!buffer || buffer->capacity() < expected_bytes + expected_bytes / 8 ||
        buffer->capacity() > std::max(3 * expected_bytes, kAlwaysFitsBytes)) {
      buffer = std::make_unique<TextBuffer>(expected_bytes + expected_bytes / 4);
    }
    return std::shared_ptr<TextBuffer>(
        buffer.release(), [pool = shared_from_this()](TextBuffer* text) {
          text->ClearAndRelease();
          std::unique_ptr<TextBuffer> returned(text);  // deleted outside the lock if not kept
          std::lock_guard lock(pool->mutex);
          if (!pool->spare) pool->spare = std::move(returned);
        });
  }
};

Collector::Collector(SnapshotFetcher fetcher, CollectorOptions options, Clock clock)
    : clock_(clock ? std::move(clock) : Clock([] { return std::chrono::system_clock::now(); })),
      fetcher_(std::move(fetcher)),
      options_(std::make_shared<const CollectorOptions>(std::move(options))) {
  for (auto& pool : text_pools_) pool = std::make_shared<TextBufferPool>();
}

void Collector::Reconfigure(SnapshotFetcher fetcher, CollectorOptions options) {
  std::lock_guard lock(mutex_);
  fetcher_ = std::move(fetcher);
  options_ = std::make_shared<const CollectorOptions>(std::move(options));
}

std::size_t Collector::ScrapesWaiting() const {
  std::lock_guard lock(mutex_);
  return in_flight_ ? in_flight_->waiting : 0;
}

SnapshotStatus Collector::Status() const {
  std::lock_guard lock(mutex_);
  return status_;
}

// Single flight: the first scrape fetches; scrapes arriving meanwhile wait for that fetch (up
// to their own deadline) instead of asking the proxy again.
std::shared_ptr<const Collector::FetchRecord> Collector::FetchShared(
    std::chrono::milliseconds deadline, const CollectorOptions& options) const {
  const auto give_up_at = std::chrono::steady_clock::now() + deadline;
  std::unique_lock lock(mutex_);
  if (in_flight_) {
    const std::shared_ptr<Flight> flight = in_flight_;
    ++flight->waiting;
    const bool done = flight_done_.wait_until(lock, give_up_at, [&] { return flight->done; });
    --flight->waiting;
    if (done) return flight->record;
    FetchError timed_out{FetchErrorKind::kTimeout,
                         "deadline of " + std::to_string(deadline.count()) +
                             "ms passed while waiting for a snapshot fetch in progress"};
    auto record = std::make_shared<FetchRecord>(std::move(timed_out), deadline);
    errors_total_[FetchErrorKindIndex(FetchErrorKind::kTimeout)]++;
    return record;
  }
  auto flight = std::make_shared<Flight>();
  in_flight_ = flight;
  SnapshotFetcher fetcher = fetcher_;
  lock.unlock();

  fetches_started_++;
  const auto started = std::chrono::steady_clock::now();
  std::shared_ptr<FetchRecord> record;
  try {
    record = std::make_shared<FetchRecord>(FetchSnapshot(fetcher, options, deadline),
                                           std::chrono::duration<double>{});
  } catch (const std::exception& e) {
    FetchError failed{FetchErrorKind::kConnect, std::string("snapshot fetch failed: ") + e.what()};
    record = std::make_shared<FetchRecord>(std::move(failed), std::chrono::duration<double>{});
  }
  record->duration = std::chrono::steady_clock::now() - started;
  RecordOutcome(*record);

  lock.lock();
  flight->record = record;
  flight->done = true;
  in_flight_.reset();
  flight_done_.notify_all();
  return record;
}

// ips.top is pushed down to the proxy. With `anonymize: prefix`, networks are summed over every
// IP before the top-N cut: the proxy is asked to group at the source (protocol 1.1), so that
// full client addresses never leave it; a proxy whose answer does not say it grouped (an older
// adapter) is asked again at once for every IP, grouped here, and is asked for every IP from
// then on, until its proxy.instance changes (a restart, perhaps with a newer adapter).
FetchOutcome Collector::FetchSnapshot(const SnapshotFetcher& fetcher,
                                      const CollectorOptions& options,
                                      std::chrono::milliseconds deadline) const {
  const conversion::IpOptions& ips = options.metrics.ips;
  proxy_client::FetchRequest request;
  request.deadline = deadline;
  if (ips.top == 0) {
    request.ips = 0;
    return fetcher(request);
  }
  if (ips.anonymize == conversion::IpAnonymization::kNone) {
    request.ips = ips.top;
    return fetcher(request);
  }
  const proxy_client::IpGrouping wanted{ips.ipv4_prefix, ips.ipv6_prefix};
  const auto instance_of = [](const FetchOutcome& outcome) {
    const auto& proxy = outcome.value().snapshot.proxy;
    return proxy && proxy->instance ? *proxy->instance : std::string();
  };
  if (!source_cannot_group_) {
    const auto started = std::chrono::steady_clock::now();
    request.ips = ips.top;
    request.ip_grouping = wanted;
    FetchOutcome grouped = fetcher(request);
    const bool ignored =
        grouped.has_value() && grouped.value().snapshot.connections.ip_grouping != wanted;
    // A source that refuses the parameters it does not know (400) cannot group either.
    const bool refused = !grouped.has_value() &&
                         grouped.error().kind == FetchErrorKind::kHttpStatus &&
                         grouped.error().message.find("HTTP 400") != std::string::npos;
    if (!ignored && !refused) return grouped;
    source_cannot_group_ = true;
    ungrouped_instance_ = ignored ? instance_of(grouped) : std::string();
    log::LogWarn(
        "proxy does not group client IPs at the source; fetching every IP and grouping "
        "here (full client addresses leave the proxy: update the adapter)",
        {{"answer", ignored ? "no connections.ipGrouping" : "HTTP 400"}});
    const auto spent = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);
    request.deadline = deadline - spent;
  }
  request.ips.reset();
  request.ip_grouping.reset();
  FetchOutcome every_ip = fetcher(request);
  if (every_ip.has_value() && source_cannot_group_) {
    const std::string instance = instance_of(every_ip);
    if (ungrouped_instance_.empty()) {
      ungrouped_instance_ = instance;
    } else if (instance != ungrouped_instance_) {
      source_cannot_group_ = false;  // another proxy process: ask it to group on the next fetch
    }
  }
  return every_ip;
}

// Counts the error and logs once per change of state (up→down, down→up, another reason), not
// once per scrape.
void Collector::RecordOutcome(const FetchRecord& record) const {
  SnapshotStatus next;
  next.at = clock_();
  next.ever_fetched = true;
  if (record.outcome.has_value()) {
    next.up = true;
  } else {
    const FetchError& error = record.outcome.error();
    errors_total_[FetchErrorKindIndex(error.kind)]++;
    next.reason = std::string(proxy_client::FetchErrorKindName(error.kind));
    next.message = error.message;
  }
  SnapshotStatus previous;
  {
    std::lock_guard lock(mutex_);
    previous = status_;
    next.since = previous.ever_fetched && previous.up == next.up ? previous.since : next.at;
    status_ = next;
  }
  if (next.up && (!previous.up || !previous.ever_fetched)) {
    log::LogInfo("proxy snapshot available", {{"state", "up"}});
  } else if (!next.up &&
             (previous.up || !previous.ever_fetched || previous.reason != next.reason)) {
    log::LogWarn("proxy snapshot unavailable",
                 {{"state", "down"}, {"reason", next.reason}, {"err", next.message}});
  }
}

void Collector::WriteOwnMetrics(const CollectorOptions& options, const FetchRecord& record,
                                const conversion::AggregationCounts& folded,
                                conversion::SampleSink* sink) const {
  const conversion::MetricsOptions& metrics = options.metrics;
  // The exporter's counters count since it started.
  const std::optional<double> started = ProcessStartTimeSeconds();
  sink->Family({Name(metrics, "exporter_build_info"),
                "A metric with a constant '1' value labeled by version and revision of "
                "smartproxy_exporter.",
                MetricType::kInfo});
  sink->Sample(1, {{"revision", BuildRevision()}, {"version", BuildVersion()}});
  if (!options.exporter_metrics) return;
  sink->Single({Name(metrics, "exporter_scrapes_total"), "Scrapes of the metrics endpoint served.",
                MetricType::kCounter, started},
               static_cast<double>(scrapes_total_.load()));
  sink->Family({Name(metrics, "exporter_snapshot_errors_total"),
                "Snapshot fetches from the proxy that failed, by reason.", MetricType::kCounter,
                started});
  for (const auto& kind : proxy_client::kFetchErrorKinds) {
    sink->Sample(static_cast<double>(errors_total_[FetchErrorKindIndex(kind.kind)].load()),
                 {{"reason", kind.name}});
  }
  const bool up = record.outcome.has_value();
  sink->Single({Name(metrics, "exporter_snapshot_duration_seconds"),
                "Time this scrape's snapshot fetch took, including parsing."},
               record.duration.count());
  sink->Single({Name(metrics, "exporter_snapshot_size_bytes"),
                "Size of this scrape's snapshot JSON body in bytes (0 when the fetch failed)."},
               up ? static_cast<double>(record.outcome.value().body_bytes) : 0);
  sink->Family({Name(metrics, "exporter_aggregated_series"),
                "Entries folded into the \"other\" series in this scrape, by kind."});
  sink->Sample(static_cast<double>(folded.ips), {{"kind", "ip"}});
  sink->Sample(static_cast<double>(folded.routes), {{"kind", "route"}});
  sink->Sample(static_cast<double>(folded.backends), {{"kind", "backend"}});
  sink->Sample(static_cast<double>(folded.domains), {{"kind", "domain"}});
  sink->Sample(static_cast<double>(folded.protocols), {{"kind", "protocol"}});
  WriteProcessMetrics(sink);
}

std::shared_ptr<const Collector::FetchRecord> Collector::BeginScrape(
    std::chrono::milliseconds deadline, std::shared_ptr<const CollectorOptions>* options) const {
  {
    std::lock_guard lock(mutex_);
    *options = options_;
  }
  if ((*options)->timeout < deadline) deadline = (*options)->timeout;
  scrapes_total_++;
  return FetchShared(deadline, **options);
}

// The snapshot's text of `record` in `format`: rendered by the first scrape that needs it; the
// others sharing this fetch wait for it and serve the same bytes, so four concurrent scrapes
// cost one conversion, not four.
std::shared_ptr<const TextBuffer> Collector::RenderSnapshot(
    const FetchRecord& record, const conversion::MetricsOptions& metrics,
    conversion::TextFormat format, conversion::AggregationCounts* folded) const {
  const auto index = static_cast<std::size_t>(format);
  FetchRecord::Rendering& rendering = record.renderings[index];
  std::call_once(rendering.once, [&] {
    // Sized up front: growing tens of MB by doubling copies the text and, during each copy,
    // holds the old buffer and the new one. The guess errs high: the last text, or 4x the
    // JSON (the per-IP series take ~3.3x their JSON), whichever is larger.
    const std::shared_ptr<TextBuffer> rendered = text_pools_[index]->Take(
        std::max(last_snapshot_text_bytes_[index].load(), 4 * record.outcome.value().body_bytes));
    conversion::TextWriter writer(rendered.get(), format);
    rendering.folded = conversion::WriteSnapshotMetrics(record.outcome.value().snapshot, metrics,
                                                        clock_(), &writer);
    last_snapshot_text_bytes_[index] = rendered->size();
    rendering.text = rendered;
  });
  *folded = rendering.folded;
  return rendering.text;
}

ScrapeText Collector::Scrape(std::chrono::milliseconds deadline,
                             conversion::TextFormat format) const {
  std::shared_ptr<const CollectorOptions> options;
  const std::shared_ptr<const FetchRecord> record = BeginScrape(deadline, &options);
  const conversion::MetricsOptions& metrics = options->metrics;
  const bool up = record->outcome.has_value();
  ScrapeText text;
  text.format = format;
  // The head and the tail are written into this thread's scratch buffer and copied out: a
  // buffer of their own would be a mapping made and unmapped twice a scrape (TextBuffer maps
  // its pages), a seventh of a default-config scrape's CPU (bench/scrape/README.md).
  thread_local TextBuffer scratch(kOwnMetricsBytes);
  {
    scratch.Clear();
    conversion::TextWriter writer(&scratch, format);
    writer.Single({Name(metrics, "up"),
                   "1 when this scrape's snapshot was fetched from the proxy and parsed, else 0."},
                  up ? 1 : 0);
    text.head = scratch.view();
  }
  conversion::AggregationCounts folded;
  if (up) text.snapshot = RenderSnapshot(*record, metrics, format, &folded);
  scratch.Clear();
  conversion::TextWriter writer(&scratch, format);
  WriteOwnMetrics(*options, *record, folded, &writer);
  writer.End();
  text.tail = scratch.view();
  return text;
}

std::string ScrapeText::Joined() const {
  std::string joined;
  joined.reserve(size());
  joined += head;
  joined += snapshot_view();
  joined += tail;
  return joined;
}

SnapshotFetcher MakeSocketFetcher(proxy_client::SnapshotClientOptions options) {
  auto client = std::make_shared<proxy_client::SnapshotClient>(std::move(options));
  return [client](const proxy_client::FetchRequest& request) { return client->Fetch(request); };
}

}  // namespace exporter::collector
