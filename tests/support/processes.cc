#include "processes.h"

#include <doctest/doctest.h>
#include <sys/stat.h>

#include <regex>

using namespace std::chrono_literals;

namespace test_support {

ProxySimProcess::ProxySimProcess(const TempDir& dir, std::vector<std::string> extra_args,
                                 const std::string& socket_name)
    : socket_(dir.File(socket_name)) {
  std::vector<std::string> argv = {BuiltProgram("tools/proxy_sim/proxy-sim"), "--socket", socket_};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  process_ = std::make_unique<ChildProcess>(argv, dir.path());
  const bool ready = PollUntil(
      [&] {
        return process_->Stdout().find("listening") != std::string::npos || !process_->Running();
      },
      10s);
  REQUIRE_MESSAGE((ready && process_->Running()),
                  "proxy-sim did not start: " << process_->Stderr());
}

ExporterProcess::ExporterProcess(const TempDir& dir, std::vector<std::string> args) {
  std::vector<std::string> argv = {BuiltProgram("exporter/smartproxy_exporter"),
                                   "--web.listen-address=127.0.0.1:0"};
  argv.insert(argv.end(), args.begin(), args.end());
  process_ = std::make_unique<ChildProcess>(argv, dir.path());
  const std::regex listening(R"(msg=listening .*port=(\d+))");
  std::smatch match;
  const bool ready = PollUntil(
      [&] {
        const std::string log = process_->Stderr();
        if (std::regex_search(log, match, listening)) {
          port_ = std::stoi(match[1].str());
          return true;
        }
        return !process_->Running();
      },
      10s);
  REQUIRE_MESSAGE((ready && port_ > 0), "exporter did not start: " << process_->Stderr());
}

std::string ExporterProcess::Url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

}  // namespace test_support
