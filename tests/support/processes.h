#pragma once

#include <memory>
#include <string>
#include <vector>

#include "child_process.h"
#include "temp_dir.h"

namespace test_support {

// proxy-sim (the built binary) on a socket in `dir`, ready when constructed.
class ProxySimProcess {
 public:
  ProxySimProcess(const TempDir& dir, std::vector<std::string> extra_args,
                  const std::string& socket_name = "proxy.sock");
  const std::string& socket() const { return socket_; }
  ChildProcess& process() { return *process_; }

 private:
  std::string socket_;
  std::unique_ptr<ChildProcess> process_;
};

// smartproxy_exporter (the built binary) on 127.0.0.1 port 0, ready when constructed (the
// port is read back from its "listening" log line).
class ExporterProcess {
 public:
  ExporterProcess(const TempDir& dir, std::vector<std::string> args);
  int port() const { return port_; }
  std::string Url(const std::string& path = "/metrics") const;
  ChildProcess& process() { return *process_; }

 private:
  int port_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace test_support
