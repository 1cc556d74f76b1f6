#pragma once

#include <chrono>
#include <mutex>

#include "exporter/config/web_config.h"

// The web config's rate_limit, as exporter-toolkit enforces it with golang.org/x/time/rate: a
// token bucket over every request, full at start.
namespace exporter::web {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  // `limit` must be Enabled() (interval > 0); burst 0 admits no request.
  explicit RateLimiter(config::RateLimit limit, Clock::time_point now = Clock::now());

  // Takes one token at `now` if there is one: true, serve the request; false, answer 429.
  // A `now` earlier than a previous call's counts as that call's time. Thread-safe.
  bool Allow(Clock::time_point now = Clock::now());

 private:
  config::RateLimit limit_;
  std::mutex mutex_;
  double tokens_;           // guarded by mutex_; 0..burst
  Clock::time_point last_;  // guarded by mutex_; when tokens_ was last brought up to date
};

}  // namespace exporter::web
