#pragma once

#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "exporter/config/web_config.h"

// HTTP basic authentication against the bcrypt hashes of a web config (basic_auth_users).
//
// bcrypt is slow on purpose (about 50 ms at cost 10 here), and Prometheus sends the same
// credentials with every scrape, so successful checks are cached, as exporter-toolkit does.
// Two rules keep the cache safe:
//  - its key is a SHA-256 of user, stored hash and the password given, so only the exact
//    credentials that passed bcrypt pass again (exporter-toolkit's CVE-2022-46146 keyed the
//    cache without the password: a wrong password for a cached user got in);
//  - only successes are cached, and a change of hash (a reload) changes every key.
// An unknown user costs the same as a known one with a wrong password: the password is checked
// against a hash made at construction with the highest cost among the users, so response times
// do not tell which user names exist.
namespace exporter::web {

class BasicAuthenticator {
 public:
  explicit BasicAuthenticator(std::vector<config::BasicAuthUser> users);

  // Whether any user is configured; without users every request passes.
  bool Enabled() const { return !users_.empty(); }

  // Checks an Authorization header value ("Basic base64(user:password)"); null or malformed
  // is a refusal. Thread-safe.
  bool Check(const char* authorization_header) const;

  // Checks decoded credentials. Thread-safe.
  bool CheckCredentials(std::string_view user, std::string_view password) const;

  // Successful checks answered from the cache, for tests and for the curious.
  std::size_t CacheHits() const;

 private:
  static constexpr std::size_t kCacheCapacity = 1024;

  bool Bcrypt(std::string_view password, const std::string& hash) const;

  std::vector<config::BasicAuthUser> users_;
  std::string unknown_user_hash_;
  mutable std::mutex cache_mutex_;
  mutable std::unordered_set<std::string> cache_;  // guarded by cache_mutex_
  mutable std::size_t cache_hits_ = 0;             // guarded by cache_mutex_
};

}  // namespace exporter::web
