#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace test_support {

struct HttpResponse {
  long status = 0;  // 0: no response (see error)
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string error;
};

struct HttpRequest {
  std::string url;  // http://127.0.0.1:PORT/path
  std::string method = "GET";
  std::vector<std::string> headers;  // "Name: value"
  std::string unix_socket;           // when set, the URL is spoken over this socket
  std::chrono::milliseconds timeout{10000};
  bool decode_gzip = false;  // send Accept-Encoding: gzip and decode
  // HTTPS (libcurl's own verification: the server certificate must chain to ca_file and name
  // the URL's host).
  std::string ca_file;
  std::string client_cert;  // PEM, with client_key: a client certificate
  std::string client_key;
  std::string user;  // basic auth when set: user and password
  std::string password;
};

// One HTTP request with libcurl (a fresh connection each time).
HttpResponse HttpFetch(const HttpRequest& request);
HttpResponse HttpGet(const std::string& url);

}  // namespace test_support
