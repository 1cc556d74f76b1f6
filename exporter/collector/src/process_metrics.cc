#include "exporter/collector/process_metrics.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <mutex>
#include <optional>
#include <string_view>

namespace exporter::collector {
namespace {

// Reading the process's CPU clock makes the kernel sum the run time of every thread, and
// civetweb runs one per connection it may serve (--web.max-connections, 256 by default): cache
// cold, that walk was 8% of a default-config scrape (perf, bench/scrape/README.md). While a
// process CPU-time timer is armed, the kernel keeps that sum itself as threads run (the
// timer's expiry needs it) and the clock reads it in constant time. So one timer is armed, to
// expire after a century of CPU time, with a signal whose default action is to be ignored.
// If the kernel refuses the timer, the clock is read the slow way.
void ArmProcessCpuTimer() {
  sigevent event{};
  event.sigev_notify = SIGEV_SIGNAL;  // a SIGEV_NONE timer is never armed (kernel/time)
  event.sigev_signo = SIGURG;
  timer_t timer{};
  if (timer_create(CLOCK_PROCESS_CPUTIME_ID, &event, &timer) != 0) return;
  itimerspec expiry{};
  expiry.it_value.tv_sec = 100LL * 365 * 24 * 3600;
  if (timer_settime(timer, 0, &expiry, nullptr) != 0) timer_delete(timer);
}

// The process's CPU time, user and system, of every thread (dead ones included), in ns
// resolution. /proc/self/stat has it in clock ticks, and reading it makes the kernel walk every
// thread for a dozen other fields, on every scrape.
std::optional<double> CpuSeconds() {
  static const bool armed = (ArmProcessCpuTimer(), true);
  (void)armed;
  timespec cpu{};
  if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu) != 0) return std::nullopt;
  return static_cast<double>(cpu.tv_sec) + static_cast<double>(cpu.tv_nsec) / 1e9;
}

// A descriptor of the /proc path `path`, opened on the first call that can and kept for the
// life of the process: opening a /proc path on every scrape (a lookup per component, the pid
// revalidated) costs more than reading it. "self" is resolved once, which is this process for
// good (the exporter never forks). -1 while it cannot be opened (tried again next call).
class KeptProcFile {
 public:
  KeptProcFile(const char* path, int flags) : path_(path), flags_(flags | O_RDONLY | O_CLOEXEC) {}
  KeptProcFile(const KeptProcFile&) = delete;
  KeptProcFile& operator=(const KeptProcFile&) = delete;

  int fd() {
    int fd = fd_.load(std::memory_order_acquire);
    if (fd >= 0) return fd;
    const int opened = open(path_, flags_);
    if (opened < 0) return -1;
    if (fd_.compare_exchange_strong(fd, opened, std::memory_order_acq_rel)) return opened;
    close(opened);  // another thread's call opened it first
    return fd;
  }

 private:
  const char* const path_;
  const int flags_;
  std::atomic<int> fd_{-1};
};

// The start of the file open at `fd`, up to `size - 1` bytes, NUL-terminated in `buffer`;
// nullopt when it cannot be read. A proc file is generated when read at offset 0, so one pread
// of a buffer larger than the file returns all of it, as it is now.
std::optional<std::string_view> PreadProcFile(int fd, char* buffer, std::size_t size) {
  if (fd < 0) return std::nullopt;
  ssize_t length = 0;
  do {
    length = pread(fd, buffer, size - 1, 0);
  } while (length < 0 && errno == EINTR);
  if (length < 0) return std::nullopt;
  buffer[length] = '\0';
  return std::string_view(buffer, static_cast<std::size_t>(length));
}

// The same for a file opened here and closed after (read once in the process's life).
std::optional<std::string_view> ReadProcFile(const char* path, char* buffer, std::size_t size) {
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  const auto text = PreadProcFile(fd, buffer, size);
  close(fd);
  return text;
}

struct MemoryBytes {
  double virtual_bytes = 0;
  double resident_bytes = 0;
};

// /proc/self/statm, proc(5): "size resident shared text lib data dt" in pages; size and
// resident are the vsize and rss of /proc/self/stat, without its walk over the threads.
std::optional<MemoryBytes> ReadMemory() {
  static KeptProcFile statm("/proc/self/statm", 0);
  char buffer[256];
  const auto text = PreadProcFile(statm.fd(), buffer, sizeof buffer);
  if (!text) return std::nullopt;
  unsigned long long size_pages = 0;
  unsigned long long resident_pages = 0;
  const char* const end = text->data() + text->size();
  const auto size = std::from_chars(text->data(), end, size_pages);
  if (size.ec != std::errc() || size.ptr == end || *size.ptr != ' ') return std::nullopt;
  const auto resident = std::from_chars(size.ptr + 1, end, resident_pages);
  if (resident.ec != std::errc()) return std::nullopt;
  const double page_size = static_cast<double>(sysconf(_SC_PAGESIZE));
  return MemoryBytes{static_cast<double>(size_pages) * page_size,
                     static_cast<double>(resident_pages) * page_size};
}

std::optional<double> BootTimeSeconds() {
  // /proc/stat is long on a many-core machine (a line per CPU, one number per interrupt):
  // read line by line rather than into a buffer of a guessed size.
  FILE* file = std::fopen("/proc/stat", "r");
  if (file == nullptr) return std::nullopt;
  char line[256];
  std::optional<double> boot_time;
  while (std::fgets(line, sizeof line, file) != nullptr) {
    unsigned long long seconds = 0;
    if (std::sscanf(line, "btime %llu", &seconds) == 1) {
      boot_time = static_cast<double>(seconds);
      break;
    }
  }
  std::fclose(file);
  return boot_time;
}

// Boot time plus starttime, field 22 of /proc/self/stat in proc(5) (clock ticks after boot).
std::optional<double> StartTimeSeconds() {
  const std::optional<double> boot_time = BootTimeSeconds();
  if (!boot_time) return std::nullopt;
  char buffer[1024];
  const auto text = ReadProcFile("/proc/self/stat", buffer, sizeof buffer);
  if (!text) return std::nullopt;
  // The command name (field 2) may contain spaces and parentheses: parse after the last ')'.
  const char* after_name = std::strrchr(buffer, ')');
  if (after_name == nullptr || after_name[1] == '\0') return std::nullopt;
  unsigned long long start_ticks = 0;
  if (std::sscanf(after_name + 2,
                  "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d "
                  "%llu",
                  &start_ticks) != 1) {
    return std::nullopt;
  }
  return *boot_time + static_cast<double>(start_ticks) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// Descriptors open in this process, the two kept open here included. Since Linux 6.2 the
// size that stat reports for /proc/self/fd is their number, counted in the descriptor table's
// bitmap. Listing the directory instead (getdents64) makes the kernel build a dentry for every
// descriptor: 6% of a default-config scrape's CPU. Older kernels report size 0 (a process
// with this directory open has at least one descriptor) and get the listing, read into a
// buffer on the stack from the start of the kept directory; its offset is shared, so one
// reader at a time.
std::optional<double> OpenFds() {
  static KeptProcFile directory("/proc/self/fd", O_DIRECTORY);
  static std::mutex reading;
  const int fd = directory.fd();
  if (fd < 0) return std::nullopt;
  struct stat status {};
  if (fstat(fd, &status) == 0 && status.st_size > 0) return static_cast<double>(status.st_size);
  std::lock_guard lock(reading);
  if (lseek(fd, 0, SEEK_SET) != 0) return std::nullopt;
  alignas(dirent64) char buffer[8192];
  double count = 0;
  ssize_t length = 0;
  do {
    length = getdents64(fd, buffer, sizeof buffer);
    for (ssize_t offset = 0; offset < length;) {
      const auto* entry = reinterpret_cast<const dirent64*>(buffer + offset);
      if (entry->d_name[0] != '.') ++count;
      offset += entry->d_reclen;
    }
  } while (length > 0 || (length < 0 && errno == EINTR));
  if (length < 0) return std::nullopt;
  return count;
}

}  // namespace

std::optional<double> ProcessStartTimeSeconds() {
  // The start time never changes: read once, on the first call.
  static const std::optional<double> start_time_seconds = StartTimeSeconds();
  return start_time_seconds;
}

void WriteProcessMetrics(conversion::SampleSink* sink) {
  using conversion::MetricType;
  const std::optional<double> start_time_seconds = ProcessStartTimeSeconds();
  if (const auto cpu_seconds = CpuSeconds()) {
    sink->Single({"process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
                  MetricType::kCounter, start_time_seconds},
                 *cpu_seconds);
  }
  if (const auto memory = ReadMemory()) {
    sink->Single({"process_resident_memory_bytes", "Resident memory size in bytes."},
                 memory->resident_bytes);
    sink->Single({"process_virtual_memory_bytes", "Virtual memory size in bytes."},
                 memory->virtual_bytes);
  }
  if (start_time_seconds) {
    sink->Single(
        {"process_start_time_seconds", "Start time of the process since unix epoch in seconds."},
        *start_time_seconds);
  }
  if (const auto fds = OpenFds()) {
    sink->Single({"process_open_fds", "Number of open file descriptors."}, *fds);
  }
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
    sink->Single({"process_max_fds", "Maximum number of open file descriptors."},
                 static_cast<double>(limit.rlim_cur));
  }
}

}  // namespace exporter::collector
