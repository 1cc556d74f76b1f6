#include "exporter/collector.h"

#include <algorithm>
#include <memory>
#include <mutex>
#include <utility>

#include "exporter/build_info.h"
#include "exporter/log.h"
#include "exporter/metric_family_builder.h"
#include "exporter/process_metrics.h"
#include "exporter/snapshot_metrics.h"
#include "exporter/text_writer.h"

namespace exporter {
namespace {

using proxy_client::FetchError;
using proxy_client::FetchErrorKind;

// Samples built before they are written out and their storage reused: small enough to stay
// in cache, large enough that the per-part cost vanishes.
constexpr std::size_t kSamplesPerPart = 1024;

constexpr std::array<FetchErrorKind, 6> kAllErrorKinds = {
    FetchErrorKind::kConnect,    FetchErrorKind::kTimeout, FetchErrorKind::kHttpStatus,
    FetchErrorKind::kTooLarge,   FetchErrorKind::kParse,   FetchErrorKind::kVersion};

std::size_t ErrorIndex(FetchErrorKind kind) {
  for (std::size_t i = 0; i < kAllErrorKinds.size(); ++i) {
    if (kAllErrorKinds[i] == kind) return i;
  }
  return 0;
}

std::string Name(const MetricsOptions& options, std::string_view suffix) {
  std::string name = options.metric_namespace;
  name += '_';
  name += suffix;
  return name;
}

}  // namespace

// Keeps the buffer of the last snapshot text for the next rendering once no scrape holds it.
// Allocating tens of MB anew every scrape left holes in glibc's heap that grew it scrape after
// scrape (at 300k series: peak RSS 126 MB after 30 scrapes, 106 MB with one kept buffer).
struct Collector::TextBufferPool : std::enable_shared_from_this<TextBufferPool> {
  std::mutex mutex;
  std::unique_ptr<std::string> spare;  // guarded by mutex

  // An empty string with room for `expected_bytes` and some more, returned here when its last
  // holder lets go. The spare serves while it has an eighth more than expected and at most
  // thrice that (a proxy whose snapshot shrank gets the memory back); otherwise a new string
  // reserves a quarter more, exactly (growing the spare would reserve twice its capacity).
  // Reserved pages stay out of RSS until written, so the headroom costs address space only.
  std::shared_ptr<std::string> Take(std::size_t expected_bytes) {
    std::unique_ptr<std::string> buffer;
    {
      std::lock_guard lock(mutex);
      buffer = std::move(spare);
    }
    if (!buffer || buffer->capacity() < expected_bytes + expected_bytes / 8 ||
        buffer->capacity() / 3 > expected_bytes) {
      buffer = std::make_unique<std::string>();
      buffer->reserve(expected_bytes + expected_bytes / 4);
    }
    return std::shared_ptr<std::string>(
        buffer.release(), [pool = shared_from_this()](std::string* text) {
          text->clear();
          std::unique_ptr<std::string> returned(text);  // deleted outside the lock if not kept
          std::lock_guard lock(pool->mutex);
          if (!pool->spare) pool->spare = std::move(returned);
        });
  }
};

Collector::Collector(SnapshotFetcher fetcher, CollectorOptions options, Clock clock)
    : clock_(clock ? std::move(clock) : Clock([] { return std::chrono::system_clock::now(); })),
      fetcher_(std::move(fetcher)),
      options_(std::make_shared<const CollectorOptions>(std::move(options))),
      text_pool_(std::make_shared<TextBufferPool>()) {}

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

std::vector<prometheus::MetricFamily> Collector::Collect() const {
  std::shared_ptr<const CollectorOptions> options;
  {
    std::lock_guard lock(mutex_);
    options = options_;
  }
  return Collect(options->timeout);
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
    errors_total_[ErrorIndex(FetchErrorKind::kTimeout)]++;
    return record;
  }
  auto flight = std::make_shared<Flight>();
  in_flight_ = flight;
  SnapshotFetcher fetcher = fetcher_;
  lock.unlock();

  fetches_started_++;
  proxy_client::FetchRequest request;
  request.deadline = deadline;
  // ips.top is pushed down to the proxy, unless IPs are anonymised: networks are summed over
  // every IP before the top-N cut, so then every IP is needed.
  if (options.metrics.ips.top == 0) {
    request.ips = 0;
  } else if (options.metrics.ips.anonymize == IpAnonymization::kNone) {
    request.ips = options.metrics.ips.top;
  }
  const auto started = std::chrono::steady_clock::now();
  std::shared_ptr<FetchRecord> record;
  try {
    record = std::make_shared<FetchRecord>(fetcher(request), std::chrono::duration<double>{});
  } catch (const std::exception& e) {
    FetchError failed{FetchErrorKind::kConnect, std::string("snapshot fetch failed: ") + e.what()};
    record = std::make_shared<FetchRecord>(std::move(failed),
                                           std::chrono::duration<double>{});
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
    errors_total_[ErrorIndex(error.kind)]++;
    next.reason = std::string(proxy_client::FetchErrorKindName(error.kind));
    next.message = error.message;
  }
  SnapshotStatus previous;
  {
    std::lock_guard lock(mutex_);
    previous = status_;
    status_ = next;
  }
  if (next.up && (!previous.up || !previous.ever_fetched)) {
    LogInfo("proxy snapshot available", {{"state", "up"}});
  } else if (!next.up && (previous.up || !previous.ever_fetched || previous.reason != next.reason)) {
    LogWarn("proxy snapshot unavailable",
            {{"state", "down"}, {"reason", next.reason}, {"err", next.message}});
  }
}

prometheus::MetricFamily Collector::UpFamily(const MetricsOptions& metrics, bool up) const {
  return MakeGauge(Name(metrics, "up"),
                   "1 when this scrape's snapshot was fetched from the proxy and parsed, else 0.",
                   up ? 1 : 0);
}

std::vector<prometheus::MetricFamily> Collector::OwnFamilies(const MetricsOptions& metrics,
                                                             const FetchRecord& record,
                                                             const AggregationCounts& folded) const {
  std::vector<prometheus::MetricFamily> families;
  families.reserve(12);
  auto build_info = MakeFamily(Name(metrics, "exporter_build_info"),
                               "A metric with a constant '1' value labeled by version and "
                               "revision of smartproxy_exporter.",
                               prometheus::MetricType::Gauge, 1);
  auto& build_sample = AddSample(&build_info, 1);
  AddLabel(&build_sample, "revision", std::string(BuildRevision()));
  AddLabel(&build_sample, "version", std::string(BuildVersion()));
  families.push_back(std::move(build_info));

  families.push_back(MakeCounter(Name(metrics, "exporter_scrapes_total"),
                                 "Scrapes of the metrics endpoint served.",
                                 static_cast<double>(scrapes_total_.load())));
  auto errors = MakeFamily(Name(metrics, "exporter_snapshot_errors_total"),
                           "Snapshot fetches from the proxy that failed, by reason.",
                           prometheus::MetricType::Counter, kAllErrorKinds.size());
  for (std::size_t i = 0; i < kAllErrorKinds.size(); ++i) {
    auto& sample = AddSample(&errors, static_cast<double>(errors_total_[i].load()));
    AddLabel(&sample, "reason", std::string(proxy_client::FetchErrorKindName(kAllErrorKinds[i])));
  }
  families.push_back(std::move(errors));
  const bool up = record.outcome.has_value();
  families.push_back(MakeGauge(Name(metrics, "exporter_snapshot_duration_seconds"),
                               "Time this scrape's snapshot fetch took, including parsing.",
                               record.duration.count()));
  families.push_back(MakeGauge(
      Name(metrics, "exporter_snapshot_size_bytes"),
      "Size of this scrape's snapshot JSON body in bytes (0 when the fetch failed).",
      up ? static_cast<double>(record.outcome.value().body_bytes) : 0));
  auto aggregated = MakeFamily(Name(metrics, "exporter_aggregated_series"),
                               "Entries folded into the \"other\" series in this scrape, by kind.",
                               prometheus::MetricType::Gauge, 2);
  AddLabel(&AddSample(&aggregated, static_cast<double>(folded.ips)), "kind", "ip");
  AddLabel(&AddSample(&aggregated, static_cast<double>(folded.routes)), "kind", "route");
  families.push_back(std::move(aggregated));

  for (auto& family : ProcessMetricFamilies()) families.push_back(std::move(family));
  return families;
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

std::vector<prometheus::MetricFamily> Collector::Collect(
    std::chrono::milliseconds deadline) const {
  std::shared_ptr<const CollectorOptions> options;
  const std::shared_ptr<const FetchRecord> record = BeginScrape(deadline, &options);
  const MetricsOptions& metrics = options->metrics;
  std::vector<prometheus::MetricFamily> families;
  AggregationCounts folded;
  const bool up = record->outcome.has_value();
  families.push_back(UpFamily(metrics, up));
  if (up) {
    auto from_snapshot =
        SnapshotToMetricFamilies(record->outcome.value().snapshot, metrics, clock_(), &folded);
    families.reserve(from_snapshot.size() + 16);
    for (auto& family : from_snapshot) families.push_back(std::move(family));
  }
  for (auto& family : OwnFamilies(metrics, *record, folded)) families.push_back(std::move(family));
  return families;
}

ScrapeText Collector::Scrape(std::chrono::milliseconds deadline) const {
  std::shared_ptr<const CollectorOptions> options;
  const std::shared_ptr<const FetchRecord> record = BeginScrape(deadline, &options);
  const MetricsOptions& metrics = options->metrics;
  const bool up = record->outcome.has_value();
  ScrapeText text;
  text.head = ToTextFormat({UpFamily(metrics, up)});
  AggregationCounts folded;
  if (up) {
    // Rendered by the first scrape that needs it; the others sharing this fetch wait for it and
    // serve the same bytes, so four concurrent scrapes cost one conversion, not four.
    std::call_once(record->rendered, [&] {
      // Sized up front: growing tens of MB by doubling copies the text and, during each copy,
      // holds the old buffer and the new one. The guess errs high: the last text, or 4x the
      // JSON (the per-IP series take ~3.3x their JSON), whichever is larger.
      const std::shared_ptr<std::string> rendered = text_pool_->Take(
          std::max(last_snapshot_text_bytes_.load(), 4 * record->outcome.value().body_bytes));
      // Each part is written and its samples reused before the next is built, so the
      // ClientMetrics of a scrape never exist all at once (at 300k series they took ~80 MB).
      MetricFamilyStream stream(kSamplesPerPart,
                                [&](const prometheus::MetricFamily& part, bool first) {
                                  AppendFamilyPart(part, first, rendered.get());
                                });
      StreamSnapshotMetricFamilies(record->outcome.value().snapshot, metrics, clock_(),
                                   &record->folded, &stream);
      last_snapshot_text_bytes_ = rendered->size();
      record->snapshot_text = rendered;
    });
    text.snapshot = record->snapshot_text;
    folded = record->folded;
  }
  text.tail = ToTextFormat(OwnFamilies(metrics, *record, folded));
  return text;
}

std::string ScrapeText::Joined() const {
  std::string joined;
  joined.reserve(size());
  joined += head;
  if (snapshot) joined += *snapshot;
  joined += tail;
  return joined;
}

SnapshotFetcher MakeSocketFetcher(proxy_client::SnapshotClientOptions options) {
  auto client = std::make_shared<proxy_client::SnapshotClient>(std::move(options));
  return [client](const proxy_client::FetchRequest& request) { return client->Fetch(request); };
}

}  // namespace exporter
