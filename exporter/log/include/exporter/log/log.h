#pragma once

#include <atomic>
#include <chrono>
#include <concepts>
#include <functional>
#include <initializer_list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

// A small structured logger in the style of go-kit log (node_exporter's), one line per event:
//   logfmt: ts=2026-11-25T04:35:28.123Z level=info caller=main.cc:42 msg="listening" address=:10190
//   json:
//   {"ts":"2026-11-25T04:35:28.123Z","level":"info","caller":"main.cc:42","msg":"listening",...}
// Values are escaped so no string (e.g. an error text from the proxy) can break or forge a line.
namespace exporter::log {

enum class LogLevel { kDebug, kInfo, kWarn, kError };
enum class LogFormat { kLogfmt, kJson };

// "debug", "info", "warn", "error" / "logfmt", "json"; Parse* returns nothing for any other text.
std::string_view LogLevelName(LogLevel level);
std::string_view LogFormatName(LogFormat format);
std::optional<LogLevel> ParseLogLevel(std::string_view text);
std::optional<LogFormat> ParseLogFormat(std::string_view text);

// One key=value pair of a log line. Keys are code literals; values may be any (untrusted) text.
// Numbers and bools are formatted on construction.
struct LogField {
  LogField(std::string_view field_key, std::string_view field_value)
      : key(field_key), value(field_value) {}
  LogField(std::string_view field_key, const char* field_value)
      : key(field_key), value(field_value != nullptr ? field_value : "") {}
  LogField(std::string_view field_key, std::string field_value)
      : key(field_key), value(std::move(field_value)) {}
  LogField(std::string_view field_key, bool field_value)
      : key(field_key), value(field_value ? "true" : "false") {}
  template <typename T>
  requires(std::is_arithmetic_v<T> && !std::same_as<T, bool> && !std::same_as<T, char>)
      LogField(std::string_view field_key, T field_value)
      : key(field_key), value(FormatNumber(field_value)) {}

  std::string_view key;
  std::string value;

 private:
  static std::string FormatNumber(long long number);
  static std::string FormatNumber(unsigned long long number);
  static std::string FormatNumber(double number);
  template <typename T>
  static std::string FormatNumber(T number) {
    if constexpr (std::is_floating_point_v<T>) {
      return FormatNumber(static_cast<double>(number));
    } else if constexpr (std::is_signed_v<T>) {
      return FormatNumber(static_cast<long long>(number));
    } else {
      return FormatNumber(static_cast<unsigned long long>(number));
    }
  }
};

// Where a log call was made. Built from compiler builtins rather than std::source_location,
// which libstdc++ 12 does not offer to clang 14 (the fuzzing and sanitizer compiler here).
struct LogCaller {
  static constexpr LogCaller Current(const char* file = __builtin_FILE(),
                                     unsigned line = __builtin_LINE()) {
    return LogCaller{file, line};
  }
  const char* file;
  unsigned line;
};

// Receives each complete line, newline included. Called with the logger's lock held, so a sink
// sees one line at a time and need not be thread-safe itself.
using LogSink = std::function<void(std::string_view line)>;
using LogClock = std::function<std::chrono::system_clock::time_point()>;

// Writes each line to stderr with one write(2) call (retrying only the rest of a partial write).
LogSink StderrLogSink();

// Thread-safe: Log and Configure may be called from any thread at any time (e.g. a SIGHUP reload
// changing level and format while scrapes log).
class Logger {
 public:
  explicit Logger(LogSink sink = StderrLogSink(), LogClock clock = nullptr);

  void Configure(LogLevel level, LogFormat format);
  void SetSink(LogSink sink);
  LogLevel level() const { return level_.load(std::memory_order_relaxed); }
  LogFormat format() const { return format_.load(std::memory_order_relaxed); }
  bool Enabled(LogLevel level) const;

  // Formats and emits one line if `level` is enabled. Never throws.
  void Log(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields = {},
           LogCaller caller = LogCaller::Current());

  // The line Log would emit, without the trailing newline: a pure function for tests.
  static std::string FormatLine(LogFormat format, std::chrono::system_clock::time_point ts,
                                LogLevel level, std::string_view caller, std::string_view msg,
                                std::initializer_list<LogField> fields);

 private:
  std::atomic<LogLevel> level_{LogLevel::kInfo};
  std::atomic<LogFormat> format_{LogFormat::kLogfmt};
  LogClock clock_;
  std::mutex sink_mutex_;
  LogSink sink_;  // guarded by sink_mutex_
};

// The process-wide logger (stderr, info, logfmt until configured).
Logger& DefaultLogger();
// Shorthand for DefaultLogger().Configure(level, format).
void ConfigureLogging(LogLevel level, LogFormat format);

void LogDebug(std::string_view msg, std::initializer_list<LogField> fields = {},
              LogCaller caller = LogCaller::Current());
void LogInfo(std::string_view msg, std::initializer_list<LogField> fields = {},
             LogCaller caller = LogCaller::Current());
void LogWarn(std::string_view msg, std::initializer_list<LogField> fields = {},
             LogCaller caller = LogCaller::Current());
void LogError(std::string_view msg, std::initializer_list<LogField> fields = {},
              LogCaller caller = LogCaller::Current());

}  // namespace exporter::log
