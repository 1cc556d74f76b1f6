#include "exporter/web/rate_limiter.h"

#include <doctest/doctest.h>

#include <chrono>

using namespace std::chrono_literals;
using exporter::config::RateLimit;
using exporter::web::RateLimiter;

TEST_CASE("RateLimiter allows burst requests at once, then one per interval") {
  const RateLimiter::Clock::time_point start{};
  RateLimiter limiter(RateLimit{100ms, 3}, start);
  CHECK(limiter.Allow(start));
  CHECK(limiter.Allow(start));
  CHECK(limiter.Allow(start));
  CHECK_FALSE(limiter.Allow(start));
  CHECK_FALSE(limiter.Allow(start + 99ms));  // 0.99 of a token
  CHECK(limiter.Allow(start + 100ms));
  CHECK_FALSE(limiter.Allow(start + 150ms));
  SUBCASE("an idle bucket refills to burst and no further") {
    const auto later = start + 1h;
    for (int i = 0; i < 3; ++i) CHECK(limiter.Allow(later));
    CHECK_FALSE(limiter.Allow(later));
  }
  SUBCASE("a clock that goes back adds nothing") {
    CHECK_FALSE(limiter.Allow(start));
    CHECK(limiter.Allow(start + 250ms));
  }
}

TEST_CASE("RateLimiter with burst 0 admits nothing, as rate.NewLimiter(rate.Every(d), 0)") {
  const RateLimiter::Clock::time_point start{};
  RateLimiter limiter(RateLimit{100ms, 0}, start);
  CHECK_FALSE(limiter.Allow(start));
  CHECK_FALSE(limiter.Allow(start + 1h));
}
