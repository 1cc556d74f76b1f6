#include "exporter/web/landing_page.h"

#include <ctime>

#include "exporter/collector/build_info.h"

namespace exporter::web {
namespace {

std::string FormatUtc(std::chrono::system_clock::time_point at) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(at);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buffer;
}

std::string StatusText(const collector::SnapshotStatus& status) {
  if (!status.ever_fetched) return "no snapshot fetched yet (the first scrape fetches one)";
  if (status.up) return "up: last snapshot fetched at " + FormatUtc(status.at);
  return "down since " + FormatUtc(status.since) + " (last failed fetch at " +
         FormatUtc(status.at) + "): " + status.reason + ": " + status.message;
}

}  // namespace

std::string HtmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string LandingPage(std::string_view telemetry_path, std::string_view proxy_socket,
                        const collector::SnapshotStatus& status) {
  const std::string path = HtmlEscape(telemetry_path);
  std::string html;
  html +=
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\">"
      "<title>SmartProxy Exporter</title></head>\n<body>\n<h1>SmartProxy Exporter</h1>\n";
  html += "<p>Version " + HtmlEscape(collector::BuildVersion()) + " (revision " +
          HtmlEscape(collector::BuildRevision()) + ")</p>\n";
  html += "<ul>\n<li>Proxy socket: <code>" + HtmlEscape(proxy_socket) + "</code></li>\n";
  html += "<li>Last snapshot: " + HtmlEscape(StatusText(status)) + "</li>\n</ul>\n";
  html += "<p><a href=\"" + path +
          "\">Metrics</a> · <a href=\"/-/healthy\">Health</a> · "
          "<a href=\"/-/ready\">Readiness</a></p>\n</body>\n</html>\n";
  return html;
}

}  // namespace exporter::web
