#include "exporter/web/rate_limiter.h"

#include <algorithm>
#include <cassert>

namespace exporter::web {

RateLimiter::RateLimiter(config::RateLimit limit, Clock::time_point now)
    : limit_(limit), tokens_(static_cast<double>(limit.burst)), last_(now) {
  assert(limit_.Enabled() && "a rate limiter needs interval > 0");
}

bool RateLimiter::Allow(Clock::time_point now) {
  std::lock_guard lock(mutex_);
  if (now > last_) {
    // Tokens accrue continuously, one per interval, up to burst (rate.Limiter's advance).
    const std::chrono::duration<double, std::milli> elapsed = now - last_;
    tokens_ = std::min(static_cast<double>(limit_.burst),
                       tokens_ + elapsed.count() / static_cast<double>(limit_.interval.count()));
    last_ = now;
  }
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

}  // namespace exporter::web
