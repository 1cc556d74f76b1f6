#include "exporter/web/basic_auth.h"

#include <doctest/doctest.h>
#include <time.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "test_pki.h"

namespace exporter::web {
namespace {

using test_support::BcryptHash;

// crypt_blowfish's public test vector: "U*U" hashed at cost 5. Made by a different
// implementation than ours, so it checks the hashing itself, not agreement with ourselves.
constexpr const char* kVectorHash = "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW";

std::string Base64(std::string_view text) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 3 <= text.size(); i += 3) {
    const unsigned bits = (static_cast<unsigned char>(text[i]) << 16) |
                          (static_cast<unsigned char>(text[i + 1]) << 8) |
                          static_cast<unsigned char>(text[i + 2]);
    for (const int shift : {18, 12, 6, 0}) out += kAlphabet[(bits >> shift) & 63];
  }
  if (text.size() - i == 1) {
    const unsigned bits = static_cast<unsigned char>(text[i]) << 16;
    out += kAlphabet[(bits >> 18) & 63];
    out += kAlphabet[(bits >> 12) & 63];
    out += "==";
  } else if (text.size() - i == 2) {
    const unsigned bits = (static_cast<unsigned char>(text[i]) << 16) |
                          (static_cast<unsigned char>(text[i + 1]) << 8);
    out += kAlphabet[(bits >> 18) & 63];
    out += kAlphabet[(bits >> 12) & 63];
    out += kAlphabet[(bits >> 6) & 63];
    out += '=';
  }
  return out;
}

std::string Basic(std::string_view user_and_password) {
  return "Basic " + Base64(user_and_password);
}

// CPU time this thread has used, immune to other processes and scheduling.
std::chrono::nanoseconds ThreadCpuTime() {
  timespec ts{};
  REQUIRE(clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0);
  return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

template <typename F>
std::chrono::nanoseconds CpuTimeOf(F&& f) {
  const auto start = ThreadCpuTime();
  f();
  return ThreadCpuTime() - start;
}

TEST_CASE("Our own base64 helper matches RFC 4648's test vectors") {
  CHECK(Base64("") == "");
  CHECK(Base64("f") == "Zg==");
  CHECK(Base64("fo") == "Zm8=");
  CHECK(Base64("foo") == "Zm9v");
  CHECK(Base64("foob") == "Zm9vYg==");
  CHECK(Base64("fooba") == "Zm9vYmE=");
  CHECK(Base64("foobar") == "Zm9vYmFy");
}

TEST_CASE("bcrypt agrees with crypt_blowfish's published test vector") {
  const BasicAuthenticator auth(
      std::vector<exporter::config::BasicAuthUser>{{"user", kVectorHash}});
  CHECK(auth.Enabled());
  CHECK(auth.CheckCredentials("user", "U*U"));
  CHECK_FALSE(auth.CheckCredentials("user", "U*V"));
  CHECK_FALSE(auth.CheckCredentials("user", "U*U "));
  CHECK_FALSE(auth.CheckCredentials("user", ""));
  CHECK(auth.Check(Basic("user:U*U").c_str()));
  CHECK_FALSE(auth.Check(Basic("user:U*V").c_str()));
}

TEST_CASE("An authenticator without users is disabled") {
  const BasicAuthenticator auth(std::vector<exporter::config::BasicAuthUser>{});
  CHECK_FALSE(auth.Enabled());
  CHECK_FALSE(auth.Check(Basic("a:b").c_str()));
}

TEST_CASE("Check parses the Authorization header") {
  const BasicAuthenticator auth(
      std::vector<exporter::config::BasicAuthUser>{{"prometheus", BcryptHash("s3cret")}});
  SUBCASE("a proper header") { CHECK(auth.Check(Basic("prometheus:s3cret").c_str())); }
  SUBCASE("the scheme in lower case") {
    CHECK(auth.Check(("basic " + Base64("prometheus:s3cret")).c_str()));
  }
  SUBCASE("spaces around the credentials") {
    CHECK(auth.Check(("Basic   " + Base64("prometheus:s3cret") + "  ").c_str()));
  }
  SUBCASE("no header") { CHECK_FALSE(auth.Check(nullptr)); }
  SUBCASE("an empty header") { CHECK_FALSE(auth.Check("")); }
  SUBCASE("the scheme alone") {
    CHECK_FALSE(auth.Check("Basic"));
    CHECK_FALSE(auth.Check("Basic "));
  }
  SUBCASE("another scheme") {
    CHECK_FALSE(auth.Check(("Bearer " + Base64("prometheus:s3cret")).c_str()));
    CHECK_FALSE(auth.Check(("Digest " + Base64("prometheus:s3cret")).c_str()));
  }
  SUBCASE("no space after the scheme") {
    CHECK_FALSE(auth.Check(("Basic" + Base64("prometheus:s3cret")).c_str()));
  }
  SUBCASE("bad base64") {
    const std::string good = Base64("prometheus:s3cret");
    CHECK_FALSE(auth.Check("Basic !!!!"));
    CHECK_FALSE(auth.Check(("Basic " + good.substr(0, good.size() - 1)).c_str()));  // no padding
    CHECK_FALSE(auth.Check(("Basic " + good + "====").c_str()));
    CHECK_FALSE(auth.Check("Basic cHJvbWV0aGV1cz=zM2NyZXQ="));  // padding in the middle
    CHECK_FALSE(auth.Check("Basic ===="));
    CHECK_FALSE(auth.Check(("Basic " + Base64("prometheus:s3cret").insert(4, " ")).c_str()));
  }
  SUBCASE("no colon") { CHECK_FALSE(auth.Check(Basic("prometheuss3cret").c_str())); }
  SUBCASE("the password alone") { CHECK_FALSE(auth.Check(Basic(":s3cret").c_str())); }
  SUBCASE("the wrong password") { CHECK_FALSE(auth.Check(Basic("prometheus:s3cre").c_str())); }
  SUBCASE("the user name is case-sensitive") {
    CHECK_FALSE(auth.Check(Basic("Prometheus:s3cret").c_str()));
  }
}

// RFC 7235 §2.1 makes the auth-scheme case-insensitive, and Go's net/http Request.BasicAuth
// (what exporter-toolkit uses) compares with EqualFold. (Found by this test: "BASIC" was refused.)
TEST_CASE("The Basic scheme is case-insensitive in every letter") {
  const BasicAuthenticator auth(
      std::vector<exporter::config::BasicAuthUser>{{"prometheus", BcryptHash("s3cret")}});
  CHECK(auth.Check(("BASIC " + Base64("prometheus:s3cret")).c_str()));
  CHECK(auth.Check(("bAsIc " + Base64("prometheus:s3cret")).c_str()));
}

TEST_CASE("A password may contain ':': user and password split at the first colon only") {
  const BasicAuthenticator auth(
      std::vector<exporter::config::BasicAuthUser>{{"prometheus", BcryptHash("a:b::c")}});
  CHECK(auth.Check(Basic("prometheus:a:b::c").c_str()));
  CHECK(auth.CheckCredentials("prometheus", "a:b::c"));
  CHECK_FALSE(auth.Check(Basic("prometheus:a:b").c_str()));
  CHECK_FALSE(auth.Check(Basic("prometheus:a").c_str()));
}

TEST_CASE("An empty password is checked like any other") {
  const BasicAuthenticator auth(
      std::vector<exporter::config::BasicAuthUser>{{"prometheus", BcryptHash("")}});
  CHECK(auth.Check(Basic("prometheus:").c_str()));
  CHECK_FALSE(auth.Check(Basic("prometheus:x").c_str()));
}

TEST_CASE("A password with an embedded NUL is refused even when the part before it is right") {
  // crypt() stops at the NUL, so "right\0junk" would hash like "right".
  const BasicAuthenticator auth(
      std::vector<exporter::config::BasicAuthUser>{{"prometheus", BcryptHash("right")}});
  const std::string with_nul("right\0junk", 10);
  CHECK_FALSE(auth.CheckCredentials("prometheus", with_nul));
  CHECK_FALSE(auth.Check(Basic("prometheus:" + with_nul).c_str()));
  CHECK_FALSE(auth.CheckCredentials("prometheus", std::string("right\0", 6)));
  // ... and such a refusal leaves nothing in the cache for the plain password to ride on.
  CHECK(auth.CheckCredentials("prometheus", "right"));
  CHECK(auth.CacheHits() == 0);
}

TEST_CASE("A user name with an embedded NUL is an unknown user") {
  const BasicAuthenticator auth(
      std::vector<exporter::config::BasicAuthUser>{{"prometheus", BcryptHash("right")}});
  CHECK_FALSE(auth.CheckCredentials(std::string("prometheus\0", 11), "right"));
  CHECK_FALSE(auth.Check(Basic(std::string("prometheus\0:right", 17)).c_str()));
}

TEST_CASE("The cache never lets a wrong password in (CVE-2022-46146)") {
  const BasicAuthenticator auth(std::vector<exporter::config::BasicAuthUser>{
      {"prometheus", BcryptHash("right")}, {"other", BcryptHash("x")}});
  CHECK(auth.CacheHits() == 0);
  CHECK(auth.Check(Basic("prometheus:right").c_str()));  // bcrypt, then cached
  CHECK(auth.CacheHits() == 0);
  CHECK_FALSE(auth.Check(Basic("prometheus:wrong").c_str()));  // the user is cached, not this
  CHECK(auth.CacheHits() == 0);
  CHECK(auth.Check(Basic("prometheus:right").c_str()));  // answered from the cache
  CHECK(auth.CacheHits() == 1);
  CHECK_FALSE(auth.Check(Basic("prometheus:wrong").c_str()));
  CHECK_FALSE(auth.Check(Basic("prometheus:").c_str()));
  CHECK_FALSE(auth.Check(Basic("prometheus:righ").c_str()));
  CHECK_FALSE(auth.Check(Basic("prometheus:right ").c_str()));
  // Another user's password, even the cached one, does not pass for them.
  CHECK_FALSE(auth.Check(Basic("other:right").c_str()));
  CHECK(auth.CacheHits() == 1);
  CHECK(auth.Check(Basic("prometheus:right").c_str()));
  CHECK(auth.CacheHits() == 2);
}

TEST_CASE("A reloaded authenticator with a new hash does not accept the old password") {
  const BasicAuthenticator before(
      std::vector<exporter::config::BasicAuthUser>{{"prometheus", BcryptHash("old")}});
  CHECK(before.Check(Basic("prometheus:old").c_str()));
  CHECK(before.Check(Basic("prometheus:old").c_str()));
  CHECK(before.CacheHits() == 1);

  const BasicAuthenticator after(
      std::vector<exporter::config::BasicAuthUser>{{"prometheus", BcryptHash("new")}});
  CHECK_FALSE(after.Check(Basic("prometheus:old").c_str()));
  CHECK(after.CacheHits() == 0);
  CHECK(after.Check(Basic("prometheus:new").c_str()));
  // The old one is unaffected, and knows nothing of the new password.
  CHECK(before.Check(Basic("prometheus:old").c_str()));
  CHECK_FALSE(before.Check(Basic("prometheus:new").c_str()));
}

TEST_CASE("An unknown user is refused") {
  const BasicAuthenticator auth(
      std::vector<exporter::config::BasicAuthUser>{{"prometheus", BcryptHash("right")}});
  CHECK_FALSE(auth.Check(Basic("grafana:right").c_str()));
  CHECK_FALSE(auth.Check(Basic(":right").c_str()));
  CHECK_FALSE(auth.CheckCredentials("", ""));
  CHECK(auth.CacheHits() == 0);
}

TEST_CASE("An unknown user costs a bcrypt like a known user's wrong password") {
  // A relative comparison of this thread's CPU time, not a wall-clock limit: both sides run on
  // the same machine under the same load (and sanitizers), and bcrypt at cost 10 dwarfs
  // everything else. Without the dummy hash an unknown user would cost microseconds, not the
  // tens of milliseconds a cost-10 bcrypt takes, and response times would tell user names apart.
  const BasicAuthenticator auth(
      std::vector<exporter::config::BasicAuthUser>{{"prometheus", BcryptHash("right", 10)}});
  // Warm-up: the first call may fault pages in.
  CHECK_FALSE(auth.CheckCredentials("prometheus", "warm-up"));
  std::chrono::nanoseconds known{0};
  std::chrono::nanoseconds unknown{0};
  for (int i = 0; i < 3; ++i) {
    known += CpuTimeOf([&] { CHECK_FALSE(auth.CheckCredentials("prometheus", "wrong")); });
    unknown += CpuTimeOf([&] { CHECK_FALSE(auth.CheckCredentials("nobody", "wrong")); });
  }
  CAPTURE(known.count());
  CAPTURE(unknown.count());
  CHECK(unknown * 3 >= known);
  // And the same for a NUL in the password, refused before bcrypt would run otherwise.
  const auto nul = CpuTimeOf([&] {
    for (int i = 0; i < 3; ++i) {
      CHECK_FALSE(auth.CheckCredentials("prometheus", std::string("wrong\0", 6)));
    }
  });
  CAPTURE(nul.count());
  CHECK(nul * 3 >= known);
}

TEST_CASE("The dummy hash of unknown users has the highest cost among the users") {
  const BasicAuthenticator auth(
      std::vector<exporter::config::BasicAuthUser>{{"cheap", BcryptHash("a", 4)},
                                                   {"dear", BcryptHash("b", 10)},
                                                   {"cheap2", BcryptHash("c", 4)}});
  std::chrono::nanoseconds cheap{0};
  std::chrono::nanoseconds unknown{0};
  for (int i = 0; i < 3; ++i) {
    cheap += CpuTimeOf([&] { CHECK_FALSE(auth.CheckCredentials("cheap", "wrong")); });
    unknown += CpuTimeOf([&] { CHECK_FALSE(auth.CheckCredentials("nobody", "wrong")); });
  }
  CAPTURE(cheap.count());
  CAPTURE(unknown.count());
  // Cost 10 is 64 times the work of cost 4; ask for a fraction of that.
  CHECK(unknown >= cheap * 8);
}

TEST_CASE("Concurrent checks from 8 threads all get the right answer" *
          doctest::test_suite("concurrency")) {
  const BasicAuthenticator auth(std::vector<exporter::config::BasicAuthUser>{
      {"prometheus", BcryptHash("right")}, {"grafana", BcryptHash("other", 5)}});
  std::atomic<int> wrong_answers{0};
  std::atomic<int> checks{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        const bool right = (i + t) % 2 == 0;
        const bool grafana = (i + t) % 3 == 0;
        const std::string user = grafana ? "grafana" : "prometheus";
        const std::string password =
            right ? (grafana ? "other" : "right") : "wrong" + std::to_string(i);
        if (auth.Check(Basic(user + ":" + password).c_str()) != right) ++wrong_answers;
        if (auth.Check(Basic("nobody:" + password).c_str())) ++wrong_answers;
        checks += 2;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  CHECK(checks == 8 * 20 * 2);
  CHECK(wrong_answers == 0);
  // Most right answers came from the cache (a few threads may race the first bcrypt).
  CHECK(auth.CacheHits() >= 8 * 10 - 16);
}

}  // namespace
}  // namespace exporter::web
