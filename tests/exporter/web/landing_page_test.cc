#include "exporter/web/landing_page.h"

#include <doctest/doctest.h>

#include <chrono>
#include <string>

namespace {

std::chrono::system_clock::time_point At(long long seconds) {
  return std::chrono::system_clock::time_point(std::chrono::seconds(seconds));
}

}  // namespace

TEST_CASE("The landing page escapes every interpolated value") {
  exporter::collector::SnapshotStatus status;
  status.ever_fetched = true;
  status.reason = "parse";
  status.message = "<script>alert(1)</script>";
  const std::string page = exporter::web::LandingPage("/m\"x", "/run/<s>.sock", status);
  CHECK(page.find("<script>") == std::string::npos);
  CHECK(page.find("&lt;script&gt;") != std::string::npos);
  CHECK(page.find("/run/&lt;s&gt;.sock") != std::string::npos);
  CHECK(page.find("href=\"/m&quot;x\"") != std::string::npos);
}

TEST_CASE("The landing page says since when the proxy is down and when it last failed") {
  exporter::collector::SnapshotStatus status;
  status.ever_fetched = true;
  status.reason = "connect";
  status.message = "no socket";
  status.since = At(1764043200);  // 2025-11-25T04:00:00Z
  status.at = At(1764043260);
  const std::string page = exporter::web::LandingPage("/metrics", "/run/p.sock", status);
  CHECK(page.find("down since 2025-11-25T04:00:00Z (last failed fetch at 2025-11-25T04:01:00Z): "
                  "connect: no socket") != std::string::npos);
  status.up = true;
  CHECK(exporter::web::LandingPage("/metrics", "/run/p.sock", status)
            .find("up: last snapshot fetched at 2025-11-25T04:01:00Z") != std::string::npos);
}
