#include "exporter/log/log.h"

#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdint>
#include <ctime>
#include <utility>

namespace exporter::log {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

// Decodes one UTF-8 sequence at `text[pos]`. Returns the code point and its length, or
// {U+FFFD, 1} for a malformed byte (overlong forms, surrogates and values past U+10FFFF
// included), so invalid input is replaced rather than passed through.
std::pair<char32_t, std::size_t> DecodeUtf8(std::string_view text, std::size_t pos) {
  constexpr std::pair<char32_t, std::size_t> kInvalid{U'\uFFFD', 1};
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[pos + i]); };
  const unsigned char lead = byte(0);
  if (lead < 0x80) return {lead, 1};
  std::size_t length = 0;
  char32_t code_point = 0;
  char32_t min_value = 0;
  if ((lead & 0xE0) == 0xC0) {
    length = 2, code_point = lead & 0x1Fu, min_value = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3, code_point = lead & 0x0Fu, min_value = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4, code_point = lead & 0x07u, min_value = 0x10000;
  } else {
    return kInvalid;
  }
  if (pos + length > text.size()) return kInvalid;
  for (std::size_t i = 1; i < length; ++i) {
    if ((byte(i) & 0xC0) != 0x80) return kInvalid;
    code_point = (code_point << 6) | (byte(i) & 0x3Fu);
  }
  if (code_point < min_value || code_point > 0x10FFFF ||
      (code_point >= 0xD800 && code_point <= 0xDFFF)) {
    return kInvalid;
  }
  return {code_point, length};
}

void AppendUnicodeEscape(std::string& out, char32_t code_point) {
  out += "\\u";
  for (int shift = 12; shift >= 0; shift -= 4) out += kHexDigits[(code_point >> shift) & 0xF];
}

// Characters a terminal or a line-oriented reader could take as a line break or a control
// sequence: C0, DEL, C1, and U+2028/U+2029. Always written as escapes.
bool IsControl(char32_t code_point) {
  return code_point < 0x20 || (code_point >= 0x7F && code_point <= 0x9F) || code_point == 0x2028 ||
         code_point == 0x2029;
}

// Appends `text` as a double-quoted string with JSON escapes, which logfmt parsers (go-logfmt)
// also read. Invalid UTF-8 becomes U+FFFD.
void AppendQuoted(std::string& out, std::string_view text) {
  out += '"';
  for (std::size_t pos = 0; pos < text.size();) {
    const auto [code_point, length] = DecodeUtf8(text, pos);
    const bool replaced = code_point == U'\uFFFD' && length == 1;
    if (code_point == '"') {
      out += "\\\"";
    } else if (code_point == '\\') {
      out += "\\\\";
    } else if (code_point == '\n') {
      out += "\\n";
    } else if (code_point == '\r') {
      out += "\\r";
    } else if (code_point == '\t') {
      out += "\\t";
    } else if (IsControl(code_point)) {
      AppendUnicodeEscape(out, code_point);
    } else if (replaced) {
      out += "\xEF\xBF\xBD";
    } else {
      out.append(text.substr(pos, length));
    }
    pos += length;
  }
  out += '"';
}

// go-logfmt quotes a value when it is empty or has a space, '=', '"', or a character that is
// not printable ASCII; we treat all non-ASCII that way too, which keeps the check byte-wise.
bool NeedsLogfmtQuoting(std::string_view value) {
  if (value.empty()) return true;
  for (const char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= ' ' || byte >= 0x7F || c == '=' || c == '"' || c == '\\') return true;
  }
  return false;
}

// Keys come from code, but are sanitised anyway so a key can never break the line's structure.
void AppendLogfmtKey(std::string& out, std::string_view key) {
  if (key.empty()) {
    out += '_';
    return;
  }
  for (const char c : key) {
    const auto byte = static_cast<unsigned char>(c);
    out += (byte <= ' ' || byte >= 0x7F || c == '=' || c == '"' || c == '\\') ? '_' : c;
  }
}

void AppendLogfmtPair(std::string& out, std::string_view key, std::string_view value) {
  if (!out.empty()) out += ' ';
  AppendLogfmtKey(out, key);
  out += '=';
  if (NeedsLogfmtQuoting(value)) {
    AppendQuoted(out, value);
  } else {
    out.append(value);
  }
}

void AppendJsonPair(std::string& out, std::string_view key, std::string_view value) {
  out += out.size() == 1 ? "" : ",";
  AppendQuoted(out, key);
  out += ':';
  AppendQuoted(out, value);
}

// RFC 3339 in UTC with milliseconds, as go-kit's log.DefaultTimestampUTC.
std::string FormatTimestamp(std::chrono::system_clock::time_point ts) {
  const auto since_epoch = std::chrono::floor<std::chrono::milliseconds>(ts.time_since_epoch());
  const auto seconds = std::chrono::floor<std::chrono::seconds>(since_epoch);
  const auto millis = static_cast<int>((since_epoch - seconds).count());
  const std::time_t time = static_cast<std::time_t>(seconds.count());
  std::tm utc{};
  gmtime_r(&time, &utc);
  char buffer[40];
  const std::size_t length = std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &utc);
  std::string result(buffer, length);
  result += '.';
  result += static_cast<char>('0' + millis / 100);
  result += static_cast<char>('0' + millis / 10 % 10);
  result += static_cast<char>('0' + millis % 10);
  result += 'Z';
  return result;
}

std::string Caller(const LogCaller& location) {
  std::string_view file = location.file != nullptr ? location.file : "?";
  if (const auto slash = file.rfind('/'); slash != std::string_view::npos) {
    file.remove_prefix(slash + 1);
  }
  std::string result(file);
  result += ':';
  result += std::to_string(location.line);
  return result;
}

}  // namespace

std::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "unknown";
}

std::string_view LogFormatName(LogFormat format) {
  switch (format) {
    case LogFormat::kLogfmt:
      return "logfmt";
    case LogFormat::kJson:
      return "json";
  }
  return "unknown";
}

std::optional<LogLevel> ParseLogLevel(std::string_view text) {
  for (const auto level : {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn, LogLevel::kError}) {
    if (text == LogLevelName(level)) return level;
  }
  return std::nullopt;
}

std::optional<LogFormat> ParseLogFormat(std::string_view text) {
  for (const auto format : {LogFormat::kLogfmt, LogFormat::kJson}) {
    if (text == LogFormatName(format)) return format;
  }
  return std::nullopt;
}

std::string LogField::FormatNumber(long long number) { return std::to_string(number); }
std::string LogField::FormatNumber(unsigned long long number) { return std::to_string(number); }
std::string LogField::FormatNumber(double number) {
  char buffer[32];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, number);
  return std::string(buffer, result.ptr);
}

LogSink StderrLogSink() {
  return [](std::string_view line) {
    const char* data = line.data();
    std::size_t left = line.size();
    while (left > 0) {
      const ssize_t written = ::write(STDERR_FILENO, data, left);
      if (written < 0) {
        if (errno == EINTR) continue;
        return;  // nowhere left to report a failing stderr
      }
      data += written;
      left -= static_cast<std::size_t>(written);
    }
  };
}

Logger::Logger(LogSink sink, LogClock clock) : clock_(std::move(clock)), sink_(std::move(sink)) {
  if (!clock_) clock_ = [] { return std::chrono::system_clock::now(); };
}

void Logger::Configure(LogLevel level, LogFormat format) {
  level_.store(level, std::memory_order_relaxed);
  format_.store(format, std::memory_order_relaxed);
}

void Logger::SetSink(LogSink sink) {
  const std::lock_guard lock(sink_mutex_);
  sink_ = std::move(sink);
}

bool Logger::Enabled(LogLevel level) const {
  return static_cast<int>(level) >= static_cast<int>(level_.load(std::memory_order_relaxed));
}

void Logger::Log(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields,
                 LogCaller caller) {
  if (!Enabled(level)) return;
  try {
    std::string line = FormatLine(format_.load(std::memory_order_relaxed), clock_(), level,
                                  Caller(caller), msg, fields);
    line += '\n';
    const std::lock_guard lock(sink_mutex_);
    if (sink_) sink_(line);
  } catch (...) {
    // Logging must never take down its caller (e.g. bad_alloc while serving a scrape).
  }
}

std::string Logger::FormatLine(LogFormat format, std::chrono::system_clock::time_point ts,
                               LogLevel level, std::string_view caller, std::string_view msg,
                               std::initializer_list<LogField> fields) {
  std::string line;
  line.reserve(96 + msg.size());
  const std::string timestamp = FormatTimestamp(ts);
  if (format == LogFormat::kJson) {
    line += '{';
    AppendJsonPair(line, "ts", timestamp);
    AppendJsonPair(line, "level", LogLevelName(level));
    AppendJsonPair(line, "caller", caller);
    AppendJsonPair(line, "msg", msg);
    for (const LogField& field : fields) AppendJsonPair(line, field.key, field.value);
    line += '}';
  } else {
    AppendLogfmtPair(line, "ts", timestamp);
    AppendLogfmtPair(line, "level", LogLevelName(level));
    AppendLogfmtPair(line, "caller", caller);
    AppendLogfmtPair(line, "msg", msg);
    for (const LogField& field : fields) AppendLogfmtPair(line, field.key, field.value);
  }
  return line;
}

Logger& DefaultLogger() {
  static Logger logger;
  return logger;
}

void ConfigureLogging(LogLevel level, LogFormat format) {
  DefaultLogger().Configure(level, format);
}

void LogDebug(std::string_view msg, std::initializer_list<LogField> fields, LogCaller caller) {
  DefaultLogger().Log(LogLevel::kDebug, msg, fields, caller);
}
void LogInfo(std::string_view msg, std::initializer_list<LogField> fields, LogCaller caller) {
  DefaultLogger().Log(LogLevel::kInfo, msg, fields, caller);
}
void LogWarn(std::string_view msg, std::initializer_list<LogField> fields, LogCaller caller) {
  DefaultLogger().Log(LogLevel::kWarn, msg, fields, caller);
}
void LogError(std::string_view msg, std::initializer_list<LogField> fields, LogCaller caller) {
  DefaultLogger().Log(LogLevel::kError, msg, fields, caller);
}

}  // namespace exporter::log
