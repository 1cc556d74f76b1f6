#include "exporter/collector/process_metrics.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using exporter::conversion::FamilyInfo;
using exporter::conversion::Label;
using exporter::conversion::MetricType;

namespace {

// Every family written, with its one sample.
class RecordingSink : public exporter::conversion::SampleSink {
 public:
  struct Family {
    std::string help;
    MetricType type;
    std::vector<double> values;
  };

  void Family(const FamilyInfo& family) override {
    current_ = std::string(family.name);
    families_[current_] = {std::string(family.help), family.type, {}};
  }
  void Sample(double value, std::initializer_list<Label> labels) override {
    CHECK(labels.size() == 0);
    families_.at(current_).values.push_back(value);
  }

  const std::map<std::string, struct Family>& families() const { return families_; }
  // The one sample of `name`; fails the test when it is missing or not alone.
  double Value(const std::string& name) const {
    const auto found = families_.find(name);
    REQUIRE_MESSAGE(found != families_.end(), name << " not written");
    REQUIRE(found->second.values.size() == 1);
    return found->second.values.front();
  }

 private:
  std::map<std::string, struct Family> families_;
  std::string current_;
};

RecordingSink ProcessMetrics() {
  RecordingSink sink;
  exporter::collector::WriteProcessMetrics(&sink);
  return sink;
}

// User plus system CPU time of the process from getrusage, not the clock the metric reads.
double RusageCpuSeconds() {
  rusage usage{};
  REQUIRE(getrusage(RUSAGE_SELF, &usage) == 0);
  auto seconds = [](const timeval& time) {
    return static_cast<double>(time.tv_sec) + static_cast<double>(time.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// Field `number` (1-based, as proc(5) counts) of /proc/self/stat, split on spaces after the
// command name; and "Key:" of /proc/self/status in kB, as bytes. Read with iostreams, apart
// from the code under test.
unsigned long long StatField(std::size_t number) {
  std::ifstream file("/proc/self/stat");
  const std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  std::istringstream fields(text.substr(text.rfind(')') + 2));
  std::string field;
  for (std::size_t i = 3; i <= number; ++i) fields >> field;
  return std::stoull(field);
}
double StatusBytes(const std::string& key) {
  std::ifstream file("/proc/self/status");
  for (std::string line; std::getline(file, line);) {
    if (line.starts_with(key + ":")) return std::stod(line.substr(key.size() + 1)) * 1024;
  }
  FAIL(key << " not in /proc/self/status");
  return 0;
}
double BootTimeSeconds() {
  std::ifstream file("/proc/stat");
  for (std::string line; std::getline(file, line);) {
    if (line.starts_with("btime ")) return std::stod(line.substr(6));
  }
  FAIL("no btime in /proc/stat");
  return 0;
}

}  // namespace

TEST_CASE("Process metrics keep their names, help and types") {
  const RecordingSink sink = ProcessMetrics();
  const std::map<std::string, std::string> help = {
      {"process_cpu_seconds_total", "Total user and system CPU time spent in seconds."},
      {"process_resident_memory_bytes", "Resident memory size in bytes."},
      {"process_virtual_memory_bytes", "Virtual memory size in bytes."},
      {"process_start_time_seconds", "Start time of the process since unix epoch in seconds."},
      {"process_open_fds", "Number of open file descriptors."},
      {"process_max_fds", "Maximum number of open file descriptors."},
  };
  REQUIRE(sink.families().size() == help.size());
  for (const auto& entry : sink.families()) {
    const std::string& name = entry.first;  // not a structured binding: INFO captures it
    const auto& family = entry.second;
    INFO(name);
    CHECK(family.help == help.at(name));
    CHECK(family.type ==
          (name == "process_cpu_seconds_total" ? MetricType::kCounter : MetricType::kGauge));
    CHECK(family.values.size() == 1);
  }
}

TEST_CASE("process_cpu_seconds_total grows with the CPU time the process burns") {
  const double metric_before = ProcessMetrics().Value("process_cpu_seconds_total");
  const double rusage_before = RusageCpuSeconds();
  CHECK(metric_before >= rusage_before - 0.05);  // the same time, by another clock
  // Burn 100 ms of CPU, as getrusage counts it (with a wall-clock bound for a starved machine).
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  volatile unsigned long long spin = 0;
  while (RusageCpuSeconds() < rusage_before + 0.1 && std::chrono::steady_clock::now() < give_up) {
    for (int i = 0; i < 100000; ++i) spin = spin + 1;
  }
  const double burnt = RusageCpuSeconds() - rusage_before;
  REQUIRE(burnt >= 0.1);
  const double metric_after = ProcessMetrics().Value("process_cpu_seconds_total");
  CHECK(metric_after - metric_before >= burnt - 0.05);
  CHECK(metric_after <= RusageCpuSeconds() + 0.05);
}

TEST_CASE("process_cpu_seconds_total counts the CPU time of every thread, not the caller's") {
  // Another thread burns 100 ms of CPU while this one sleeps: the process clock, which the
  // metric reads through the kernel's running sum (ArmProcessCpuTimer), must count it.
  const double metric_before = ProcessMetrics().Value("process_cpu_seconds_total");
  double burnt = 0;
  std::thread burner([&burnt] {
    auto thread_seconds = [] {
      timespec now{};
      clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
      return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) / 1e9;
    };
    const double start = thread_seconds();
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    volatile unsigned long long spin = 0;
    while (thread_seconds() < start + 0.1 && std::chrono::steady_clock::now() < give_up) {
      for (int i = 0; i < 100000; ++i) spin = spin + 1;
    }
    burnt = thread_seconds() - start;
  });
  burner.join();
  REQUIRE(burnt >= 0.1);
  const double metric_after = ProcessMetrics().Value("process_cpu_seconds_total");
  CHECK(metric_after - metric_before >= burnt - 0.005);
  CHECK(metric_after <= RusageCpuSeconds() + 0.05);
}

TEST_CASE("process_resident_memory_bytes follows memory the process touches") {
  // The statm file stays open between reads: each read must still be of the moment.
  constexpr std::size_t kBytes = 64 << 20;
  const double before = ProcessMetrics().Value("process_resident_memory_bytes");
  void* block = mmap(nullptr, kBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  REQUIRE(block != MAP_FAILED);
  auto* bytes = static_cast<volatile char*>(block);
  for (std::size_t offset = 0; offset < kBytes; offset += 4096) bytes[offset] = 1;
  const double touched = ProcessMetrics().Value("process_resident_memory_bytes");
  munmap(block, kBytes);
  const double after = ProcessMetrics().Value("process_resident_memory_bytes");
  CHECK(touched >= before + 0.9 * kBytes);
  CHECK(after <= touched - 0.9 * kBytes);
}

TEST_CASE("Process memory is in bytes, resident within virtual, as /proc/self/status says") {
  const RecordingSink sink = ProcessMetrics();
  const double resident = sink.Value("process_resident_memory_bytes");
  const double virtual_bytes = sink.Value("process_virtual_memory_bytes");
  CHECK(resident > 0);
  CHECK(resident <= virtual_bytes);
  // Read a moment apart, so only about equal: pages instead of bytes would be 4096 times off.
  const double status_rss = StatusBytes("VmRSS");
  const double status_size = StatusBytes("VmSize");
  CHECK(resident >= status_rss / 2);
  CHECK(resident <= status_rss * 2);
  CHECK(virtual_bytes >= status_size / 2);
  CHECK(virtual_bytes <= status_size * 2);
}

TEST_CASE("process_start_time_seconds is this process's start, and does not move") {
  const double start = ProcessMetrics().Value("process_start_time_seconds");
  const double expected = BootTimeSeconds() + static_cast<double>(StatField(22)) /
                                                  static_cast<double>(sysconf(_SC_CLK_TCK));
  CHECK(start >= expected - 0.001);
  CHECK(start <= expected + 0.001);
  CHECK(start <= static_cast<double>(std::time(nullptr)) + 1);
  CHECK(ProcessMetrics().Value("process_start_time_seconds") == start);
}

TEST_CASE("process_open_fds counts a descriptor the process opens") {
  const double before = ProcessMetrics().Value("process_open_fds");
  const int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  const double with_one_more = ProcessMetrics().Value("process_open_fds");
  close(fd);
  CHECK(with_one_more == before + 1);
  CHECK(ProcessMetrics().Value("process_open_fds") == before);
}

TEST_CASE("process_open_fds is the number of entries in /proc/self/fd") {
  // Counted apart from the code under test: the directory listed by std::filesystem, less the
  // descriptor that listing holds open.
  ProcessMetrics();  // opens the descriptors the metrics keep
  std::size_t listed = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    (void)entry;
    ++listed;
  }
  CHECK(ProcessMetrics().Value("process_open_fds") == static_cast<double>(listed - 1));
}
