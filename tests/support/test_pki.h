#pragma once

#include <string>

#include "temp_dir.h"

namespace test_support {

// A throwaway PKI made with the openssl command line (Debian package openssl) in a test's temp
// dir: a CA, a server certificate for localhost and 127.0.0.1 signed by it, a client
// certificate signed by it, and a second CA with a client certificate the first CA never saw.
// All keys are unencrypted P-256. Fails the test when openssl does.
struct TestPki {
  explicit TestPki(const TempDir& dir);

  std::string ca_cert;
  std::string server_cert;
  std::string server_key;
  std::string client_cert;
  std::string client_key;
  std::string other_ca_cert;      // a CA unrelated to ca_cert
  std::string other_client_cert;  // signed by other_ca_cert
  std::string other_client_key;
  std::string second_server_cert;  // another server certificate from ca_cert (rotation)
  std::string second_server_key;
  std::string encrypted_key;  // server_key under a passphrase
};

// A bcrypt hash of `password` at `cost`, made with libcrypt (crypt_gensalt + crypt).
std::string BcryptHash(const std::string& password, unsigned cost = 4);

}  // namespace test_support
