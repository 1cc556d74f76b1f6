#include "exporter/log/log.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "json_checker.h"

using namespace std::chrono_literals;
using test_support::ReadJsonString;

namespace exporter::log {
namespace {

// 2026-11-25T04:35:28.123Z
const std::chrono::system_clock::time_point kTime =
    std::chrono::system_clock::time_point{1795581328s} + 123ms;

// Collects the lines a Logger emits.
struct Capture {
  std::mutex mutex;
  std::vector<std::string> lines;
  LogSink Sink() {
    return [this](std::string_view line) {
      const std::lock_guard lock(mutex);
      lines.emplace_back(line);
    };
  }
};

// Parses a flat JSON object of string values, as the json format writes; nothing if invalid.
std::optional<std::vector<std::pair<std::string, std::string>>> ParseJsonObject(
    std::string_view text) {
  std::vector<std::pair<std::string, std::string>> fields;
  std::size_t pos = 0;
  if (text.empty() || text[pos++] != '{') return std::nullopt;
  while (pos < text.size() && text[pos] != '}') {
    if (!fields.empty() && text[pos++] != ',') return std::nullopt;
    auto key = ReadJsonString(text, pos);
    if (!key || pos >= text.size() || text[pos++] != ':') return std::nullopt;
    auto value = ReadJsonString(text, pos);
    if (!value) return std::nullopt;
    fields.emplace_back(std::move(*key), std::move(*value));
  }
  if (pos + 1 != text.size()) return std::nullopt;
  return fields;
}

// Parses a logfmt line (bare or quoted values, JSON-style escapes); nothing if invalid.
std::optional<std::vector<std::pair<std::string, std::string>>> ParseLogfmt(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> fields;
  std::size_t pos = 0;
  while (pos < text.size()) {
    if (!fields.empty() && text[pos++] != ' ') return std::nullopt;
    const std::size_t equals = text.find('=', pos);
    if (equals == std::string_view::npos) return std::nullopt;
    std::string key(text.substr(pos, equals - pos));
    if (key.empty() || key.find_first_of(" \"") != std::string::npos) return std::nullopt;
    pos = equals + 1;
    std::string value;
    if (pos < text.size() && text[pos] == '"') {
      auto quoted = ReadJsonString(text, pos);
      if (!quoted) return std::nullopt;
      value = std::move(*quoted);
    } else {
      const std::size_t end = std::min(text.find(' ', pos), text.size());
      value = std::string(text.substr(pos, end - pos));
      if (value.find_first_of("=\"") != std::string::npos) return std::nullopt;
      pos = end;
    }
    fields.emplace_back(std::move(key), std::move(value));
  }
  return fields;
}

std::string Line(LogFormat format, std::string_view msg, std::initializer_list<LogField> fields) {
  return Logger::FormatLine(format, kTime, LogLevel::kInfo, "main.cc:42", msg, fields);
}

TEST_CASE("logfmt lines look like node_exporter's") {
  CHECK(Line(LogFormat::kLogfmt, "Listening on", {{"address", ":10190"}, {"tls", false}}) ==
        "ts=2026-11-25T04:35:28.123Z level=info caller=main.cc:42 msg=\"Listening on\" "
        "address=:10190 tls=false");
  CHECK(Line(LogFormat::kLogfmt, "ok",
             {{"count", 3}, {"ratio", 0.5}, {"big", 18446744073709551615u}}) ==
        "ts=2026-11-25T04:35:28.123Z level=info caller=main.cc:42 msg=ok count=3 ratio=0.5 "
        "big=18446744073709551615");
}

TEST_CASE("json lines are one object per line") {
  CHECK(Line(LogFormat::kJson, "Listening on", {{"address", ":10190"}}) ==
        R"({"ts":"2026-11-25T04:35:28.123Z","level":"info","caller":"main.cc:42",)"
        R"("msg":"Listening on","address":":10190"})");
}

TEST_CASE("Hostile strings are escaped and cannot forge a log line") {
  const std::string forged = "boom\nts=2026-01-01T00:00:00.000Z level=error msg=\"forged\"";
  struct Case {
    const char* name;
    std::string value;
    std::string logfmt;  // how the value appears in a logfmt line
  };
  const std::vector<Case> cases = {
      {"newline", forged, R"("boom\nts=2026-01-01T00:00:00.000Z level=error msg=\"forged\"")"},
      {"carriage return", "a\rb", R"("a\rb")"},
      {"quote and backslash", "say \"hi\" \\o/", R"("say \"hi\" \\o/")"},
      {"equals sign", "a=b", R"("a=b")"},
      {"empty", "", R"("")"},
      {"tab", "a\tb", R"("a\tb")"},
      {"control characters", std::string("\x01\x1b[31m\x7f", 7), R"("\u0001\u001b[31m\u007f")"},
      {"unicode line separator", "a\u2028b", R"("a\u2028b")"},
      {"C1 next-line", "a\u0085b", R"("a\u0085b")"},
      {"printable UTF-8", "caf\u00e9", "\"caf\u00e9\""},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    SUBCASE(c.name) {
      const std::string logfmt = Line(LogFormat::kLogfmt, c.value, {{"err", c.value}});
      CHECK(logfmt.find('\n') == std::string::npos);
      CHECK(logfmt.find('\r') == std::string::npos);
      CHECK(logfmt.ends_with(" err=" + c.logfmt));
      const auto logfmt_fields = ParseLogfmt(logfmt);
      REQUIRE(logfmt_fields);
      REQUIRE(logfmt_fields->size() == 5);
      CHECK((*logfmt_fields)[1] == std::pair<std::string, std::string>{"level", "info"});
      CHECK((*logfmt_fields)[3].second == c.value);
      CHECK((*logfmt_fields)[4].second == c.value);

      const std::string json = Line(LogFormat::kJson, c.value, {{"err", c.value}});
      CHECK(json.find('\n') == std::string::npos);
      const auto json_fields = ParseJsonObject(json);
      REQUIRE(json_fields);
      REQUIRE(json_fields->size() == 5);
      CHECK((*json_fields)[3] == std::pair<std::string, std::string>{"msg", c.value});
      CHECK((*json_fields)[4] == std::pair<std::string, std::string>{"err", c.value});
    }
  }
}

TEST_CASE("Invalid UTF-8 is replaced, so JSON output stays valid") {
  for (const std::string& bad :
       {std::string("a\xff"
                    "b"),
        std::string("\xc0\xaf"), std::string("\xed\xa0\x80"), std::string("\xe2\x82")}) {
    const std::string json = Line(LogFormat::kJson, "m", {{"v", bad}});
    const auto fields = ParseJsonObject(json);
    REQUIRE(fields);
    CHECK((*fields)[4].second.find("\xef\xbf\xbd") != std::string::npos);
    const std::string logfmt = Line(LogFormat::kLogfmt, "m", {{"v", bad}});
    CHECK(logfmt.find("\xef\xbf\xbd") != std::string::npos);
  }
}

TEST_CASE("Keys cannot break a logfmt line either") {
  CHECK(Line(LogFormat::kLogfmt, "m", {{"a b=\"c", "1"}, {"", "2"}}).ends_with(" a_b__c=1 _=2"));
}

TEST_CASE("Levels below the configured one are dropped") {
  Capture capture;
  Logger logger(capture.Sink(), [] { return kTime; });
  SUBCASE("default is info") {
    logger.Log(LogLevel::kDebug, "hidden");
    logger.Log(LogLevel::kInfo, "shown");
    REQUIRE(capture.lines.size() == 1);
    CHECK(capture.lines[0].find("msg=shown") != std::string::npos);
  }
  SUBCASE("warn") {
    logger.Configure(LogLevel::kWarn, LogFormat::kLogfmt);
    logger.Log(LogLevel::kDebug, "d");
    logger.Log(LogLevel::kInfo, "i");
    logger.Log(LogLevel::kWarn, "w");
    logger.Log(LogLevel::kError, "e");
    REQUIRE(capture.lines.size() == 2);
    CHECK(capture.lines[0].find("level=warn ") != std::string::npos);
    CHECK(capture.lines[0].ends_with(" msg=w\n"));
    CHECK(capture.lines[1].find("level=error ") != std::string::npos);
    CHECK(capture.lines[1].ends_with(" msg=e\n"));
    CHECK_FALSE(logger.Enabled(LogLevel::kInfo));
  }
  SUBCASE("debug shows everything") {
    logger.Configure(LogLevel::kDebug, LogFormat::kLogfmt);
    logger.Log(LogLevel::kDebug, "d");
    CHECK(capture.lines.size() == 1);
  }
}

TEST_CASE("A logger emits whole lines with caller, and can switch format at run time") {
  Capture capture;
  Logger logger(capture.Sink(), [] { return kTime; });
  logger.Log(LogLevel::kInfo, "first", {{"k", "v"}});
  logger.Configure(LogLevel::kInfo, LogFormat::kJson);
  logger.Log(LogLevel::kInfo, "second");
  REQUIRE(capture.lines.size() == 2);
  CHECK(capture.lines[0].starts_with("ts=2026-11-25T04:35:28.123Z level=info caller=log_test.cc:"));
  CHECK(capture.lines[0].ends_with(" msg=first k=v\n"));
  CHECK(capture.lines[1].starts_with("{\"ts\":\"2026-11-25T04:35:28.123Z\""));
  CHECK(capture.lines[1].ends_with("\"msg\":\"second\"}\n"));
}

TEST_CASE("Concurrent logging and reconfiguration give only whole lines" *
          doctest::test_suite("concurrency")) {
  Capture capture;
  Logger logger(capture.Sink());
  constexpr int kThreads = 8;
  constexpr int kLinesPerThread = 500;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&logger, t] {
      for (int i = 0; i < kLinesPerThread; ++i) {
        logger.Log(LogLevel::kWarn, "line", {{"thread", t}, {"i", i}});
      }
    });
  }
  threads.emplace_back([&logger] {
    for (int i = 0; i < 1000; ++i) {
      logger.Configure(LogLevel::kWarn, i % 2 == 0 ? LogFormat::kJson : LogFormat::kLogfmt);
    }
  });
  for (std::thread& thread : threads) thread.join();
  REQUIRE(capture.lines.size() == kThreads * kLinesPerThread);
  for (const std::string& line : capture.lines) {
    REQUIRE(line.ends_with('\n'));
    const std::string_view body(line.data(), line.size() - 1);
    REQUIRE(body.find('\n') == std::string_view::npos);
    REQUIRE((ParseJsonObject(body) || ParseLogfmt(body)));
  }
}

TEST_CASE("The stderr sink writes the whole line to file descriptor 2") {
  int pipe_fds[2];
  REQUIRE(pipe(pipe_fds) == 0);
  const int saved_stderr = dup(STDERR_FILENO);
  REQUIRE(saved_stderr >= 0);
  REQUIRE(dup2(pipe_fds[1], STDERR_FILENO) >= 0);
  Logger logger(StderrLogSink(), [] { return kTime; });
  logger.Log(LogLevel::kError, "to stderr", {{"k", "v"}});
  dup2(saved_stderr, STDERR_FILENO);
  close(saved_stderr);
  close(pipe_fds[1]);
  std::string output;
  char buffer[512];
  for (ssize_t n; (n = read(pipe_fds[0], buffer, sizeof buffer)) > 0;) {
    output.append(buffer, static_cast<std::size_t>(n));
  }
  close(pipe_fds[0]);
  CHECK(output.starts_with("ts=2026-11-25T04:35:28.123Z level=error caller=log_test.cc:"));
  CHECK(output.ends_with(" msg=\"to stderr\" k=v\n"));
}

TEST_CASE("Level and format names parse both ways") {
  for (const auto level : {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn, LogLevel::kError}) {
    CHECK(ParseLogLevel(LogLevelName(level)) == level);
  }
  for (const auto format : {LogFormat::kLogfmt, LogFormat::kJson}) {
    CHECK(ParseLogFormat(LogFormatName(format)) == format);
  }
  CHECK_FALSE(ParseLogLevel("warning"));
  CHECK_FALSE(ParseLogLevel("INFO"));
  CHECK_FALSE(ParseLogFormat("text"));
}

TEST_CASE("The default logger can be configured and redirected") {
  Capture capture;
  DefaultLogger().SetSink(capture.Sink());
  ConfigureLogging(LogLevel::kDebug, LogFormat::kLogfmt);
  LogDebug("d");
  LogInfo("i", {{"n", 1}});
  LogWarn("w");
  LogError("e");
  ConfigureLogging(LogLevel::kInfo, LogFormat::kLogfmt);
  LogDebug("hidden");
  DefaultLogger().SetSink(StderrLogSink());
  REQUIRE(capture.lines.size() == 4);
  CHECK(capture.lines[1].find("level=info caller=log_test.cc:") != std::string::npos);
  CHECK(capture.lines[1].ends_with("msg=i n=1\n"));
}

}  // namespace
}  // namespace exporter::log
