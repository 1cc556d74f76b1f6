#include "test_pki.h"

#include <crypt.h>
#include <doctest/doctest.h>

#include <array>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

namespace test_support {
namespace {

void Openssl(const std::string& dir, const std::string& arguments) {
  // Quiet unless it fails; the log stays in the temp dir for the failure message.
  const std::string command = "cd '" + dir + "' && openssl " + arguments + " >>openssl.log 2>&1";
  const int status = std::system(command.c_str());
  if (status != 0) {
    FAIL("openssl failed (" << status << "): openssl " << arguments << "\n"
                            << ReadFile(dir + "/openssl.log"));
  }
}

void MakeKey(const std::string& dir, const std::string& name) {
  Openssl(dir, "genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out " + name);
}

void MakeCa(const std::string& dir, const std::string& name, const std::string& subject) {
  MakeKey(dir, name + ".key");
  Openssl(dir, "req -x509 -new -key " + name + ".key -out " + name + ".crt -days 2 -subj '" +
                   subject + "' -addext basicConstraints=critical,CA:TRUE");
}

void MakeLeaf(const std::string& dir, const std::string& ca, const std::string& name,
              const std::string& subject, const std::string& extensions) {
  MakeKey(dir, name + ".key");
  Openssl(dir, "req -new -key " + name + ".key -out " + name + ".csr -subj '" + subject + "'");
  WriteFile(dir + "/" + name + ".ext", extensions + "\n");
  Openssl(dir, "x509 -req -in " + name + ".csr -CA " + ca + ".crt -CAkey " + ca +
                   ".key -CAcreateserial -out " + name + ".crt -days 2 -extfile " + name + ".ext");
}

}  // namespace

TestPki::TestPki(const TempDir& dir) {
  const std::string& d = dir.path();
  MakeCa(d, "ca", "/CN=smartproxy_exporter test CA");
  MakeCa(d, "other-ca", "/CN=unrelated test CA");
  const std::string server_ext =
      "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth";
  MakeLeaf(d, "ca", "server", "/CN=localhost", server_ext);
  MakeLeaf(d, "ca", "server2", "/CN=localhost", server_ext);
  MakeLeaf(d, "ca", "client", "/CN=prometheus", "extendedKeyUsage=clientAuth");
  MakeLeaf(d, "other-ca", "other-client", "/CN=intruder", "extendedKeyUsage=clientAuth");
  Openssl(d, "pkey -in server.key -aes256 -passout pass:secret -out encrypted.key");
  ca_cert = dir.File("ca.crt");
  server_cert = dir.File("server.crt");
  server_key = dir.File("server.key");
  second_server_cert = dir.File("server2.crt");
  second_server_key = dir.File("server2.key");
  client_cert = dir.File("client.crt");
  client_key = dir.File("client.key");
  other_ca_cert = dir.File("other-ca.crt");
  other_client_cert = dir.File("other-client.crt");
  other_client_key = dir.File("other-client.key");
  encrypted_key = dir.File("encrypted.key");
}

std::string BcryptHash(const std::string& password, unsigned cost) {
  std::array<char, CRYPT_GENSALT_OUTPUT_SIZE> setting{};
  REQUIRE(crypt_gensalt_rn("$2y$", cost, nullptr, 0, setting.data(),
                           static_cast<int>(setting.size())) != nullptr);
  const auto data = std::make_unique<crypt_data>();
  const char* hash = crypt_rn(password.c_str(), setting.data(), data.get(), sizeof(crypt_data));
  REQUIRE(hash != nullptr);
  REQUIRE(hash[0] == '$');
  return hash;
}

}  // namespace test_support
