#include "exporter/web/tls_context.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include "exporter/config/config.h"

namespace exporter::web {
namespace {

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using StorePtr = std::unique_ptr<X509_STORE, Deleter<X509_STORE, X509_STORE_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;

void FreeChain(STACK_OF(X509) * chain) { sk_X509_pop_free(chain, X509_free); }
void FreeNames(STACK_OF(X509_NAME) * names) { sk_X509_NAME_pop_free(names, X509_NAME_free); }
using ChainPtr = std::unique_ptr<STACK_OF(X509), Deleter<STACK_OF(X509), FreeChain>>;
using NamesPtr = std::unique_ptr<STACK_OF(X509_NAME), Deleter<STACK_OF(X509_NAME), FreeNames>>;

// OpenSSL's queued errors as one line (and the queue emptied, so the next call starts clean).
std::string OpenSslErrors() {
  std::string text;
  while (const unsigned long code = ERR_get_error()) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof buffer);
    if (!text.empty()) text += "; ";
    text += buffer;
  }
  return text.empty() ? "unknown OpenSSL error" : text;
}

[[noreturn]] void Fail(const std::string& source, std::string_view key, const std::string& file,
                       std::string_view problem) {
  ERR_clear_error();
  throw config::ConfigError(source + ": tls_server_config." + std::string(key) + ": " +
                            config::QuoteForMessage(file) + ": " + std::string(problem));
}

BioPtr OpenFile(const std::string& source, std::string_view key, const std::string& path) {
  errno = 0;
  BioPtr bio(BIO_new_file(path.c_str(), "r"));
  if (!bio) {
    Fail(source, key, path,
         std::string("cannot open: ") + (errno != 0 ? std::strerror(errno) : OpenSslErrors()));
  }
  return bio;
}

// Keys protected by a passphrase would make OpenSSL prompt on the terminal; refuse them instead.
int NoPassphrase(char*, int, int, void*) { return -1; }

int TlsVersionNumber(config::TlsVersion version) {
  switch (version) {
    case config::TlsVersion::kTls10:
      return TLS1_VERSION;
    case config::TlsVersion::kTls11:
      return TLS1_1_VERSION;
    case config::TlsVersion::kTls12:
      return TLS1_2_VERSION;
    case config::TlsVersion::kTls13:
      return TLS1_3_VERSION;
  }
  return TLS1_2_VERSION;
}

// RequestClientCert and RequireAnyClientCert take whatever certificate the client sends, as Go
// does: the handshake must not fail on its verification.
int AcceptAnyCertificate(int, X509_STORE_CTX*) { return 1; }

std::string Join(const std::vector<std::string>& names) {
  std::string joined;
  for (const std::string& name : names) {
    if (!joined.empty()) joined += ':';
    joined += name;
  }
  return joined;
}

}  // namespace

struct TlsContext::Material {
  X509Ptr certificate;
  ChainPtr chain{sk_X509_new_null()};
  PkeyPtr key;
  StorePtr client_ca_store;
  NamesPtr client_ca_names;
  config::ClientAuthType client_auth_type = config::ClientAuthType::kNoClientCert;
  int min_version = TLS1_2_VERSION;
  int max_version = 0;  // 0: the highest OpenSSL supports
  std::string cipher_list;
  std::string groups_list;
  bool prefer_server_cipher_suites = true;
};

TlsContext::TlsContext() : material_(std::make_unique<Material>()) {}
TlsContext::~TlsContext() = default;

std::shared_ptr<const TlsContext> TlsContext::Load(const config::TlsServerConfig& config,
                                                   const std::string& source) {
  ERR_clear_error();
  std::shared_ptr<TlsContext> context(new TlsContext());
  Material& m = *context->material_;

  {
    const BioPtr bio = OpenFile(source, "cert_file", config.cert_file);
    m.certificate.reset(PEM_read_bio_X509_AUX(bio.get(), nullptr, nullptr, nullptr));
    if (!m.certificate) {
      Fail(source, "cert_file", config.cert_file,
           "no PEM certificate in it (" + OpenSslErrors() + ")");
    }
    // The rest of the file is the chain, leaf first, as Go's tls.LoadX509KeyPair reads it.
    while (X509* intermediate = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
      sk_X509_push(m.chain.get(), intermediate);
    }
    ERR_clear_error();  // the end of the file
  }
  {
    const BioPtr bio = OpenFile(source, "key_file", config.key_file);
    m.key.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, &NoPassphrase, nullptr));
    if (!m.key) {
      Fail(source, "key_file", config.key_file,
           "no unencrypted PEM private key in it (" + OpenSslErrors() + ")");
    }
  }
  if (X509_check_private_key(m.certificate.get(), m.key.get()) != 1) {
    Fail(source, "key_file", config.key_file,
         "does not match the certificate in " + config::QuoteForMessage(config.cert_file));
  }

  m.client_auth_type = config.client_auth_type;
  if (!config.client_ca_file.empty()) {
    OpenFile(source, "client_ca_file", config.client_ca_file);  // a precise message if unreadable
    m.client_ca_store.reset(X509_STORE_new());
    if (!m.client_ca_store ||
        X509_STORE_load_file(m.client_ca_store.get(), config.client_ca_file.c_str()) != 1) {
      Fail(source, "client_ca_file", config.client_ca_file,
           "no PEM certificate in it (" + OpenSslErrors() + ")");
    }
    m.client_ca_names.reset(SSL_load_client_CA_file(config.client_ca_file.c_str()));
    if (!m.client_ca_names) {
      Fail(source, "client_ca_file", config.client_ca_file,
           "no PEM certificate in it (" + OpenSslErrors() + ")");
    }
  }

  m.min_version = TlsVersionNumber(config.min_version);
  m.max_version = config.max_version ? TlsVersionNumber(*config.max_version) : 0;
  m.cipher_list = Join(config.cipher_suites);
  m.groups_list = Join(config.curve_preferences);
  m.prefer_server_cipher_suites = config.prefer_server_cipher_suites;

  // Try the whole set on a scratch connection now, so that a setting OpenSSL refuses (a cipher
  // list with nothing usable, say) is a config error and not a failed handshake later.
  const std::unique_ptr<SSL_CTX, Deleter<SSL_CTX, SSL_CTX_free>> scratch_ctx(
      SSL_CTX_new(TLS_server_method()));
  const std::unique_ptr<SSL, Deleter<SSL, SSL_free>> scratch(
      scratch_ctx ? SSL_new(scratch_ctx.get()) : nullptr);
  if (!scratch || !context->ApplyTo(scratch.get())) {
    throw config::ConfigError(source + ": tls_server_config: OpenSSL refused the settings (" +
                              OpenSslErrors() + ")");
  }
  return context;
}

bool TlsContext::ApplyTo(SSL* ssl) const {
  const Material& m = *material_;
  if (SSL_use_cert_and_key(ssl, m.certificate.get(), m.key.get(), m.chain.get(), 1) != 1) {
    return false;
  }
  if (SSL_set_min_proto_version(ssl, m.min_version) != 1) return false;
  if (SSL_set_max_proto_version(ssl, m.max_version) != 1) return false;
  if (!m.cipher_list.empty() && SSL_set_cipher_list(ssl, m.cipher_list.c_str()) != 1) return false;
  if (!m.groups_list.empty() && SSL_set1_groups_list(ssl, m.groups_list.c_str()) != 1) {
    return false;
  }
  if (m.prefer_server_cipher_suites) {
    SSL_set_options(ssl, SSL_OP_CIPHER_SERVER_PREFERENCE);
  } else {
    SSL_clear_options(ssl, SSL_OP_CIPHER_SERVER_PREFERENCE);
  }
  switch (m.client_auth_type) {
    case config::ClientAuthType::kNoClientCert:
      SSL_set_verify(ssl, SSL_VERIFY_NONE, nullptr);
      return true;
    case config::ClientAuthType::kRequestClientCert:
      SSL_set_verify(ssl, SSL_VERIFY_PEER, &AcceptAnyCertificate);
      return true;
    case config::ClientAuthType::kRequireAnyClientCert:
      SSL_set_verify(ssl, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, &AcceptAnyCertificate);
      return true;
    case config::ClientAuthType::kVerifyClientCertIfGiven:
      SSL_set_verify(ssl, SSL_VERIFY_PEER, nullptr);
      break;
    case config::ClientAuthType::kRequireAndVerifyClientCert:
      SSL_set_verify(ssl, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
      break;
  }
  // Verifying modes: the client's chain is checked against the configured CAs only, never the
  // system's trust store, and the CertificateRequest names them.
  if (SSL_set1_verify_cert_store(ssl, m.client_ca_store.get()) != 1) return false;
  STACK_OF(X509_NAME)* names = SSL_dup_CA_list(m.client_ca_names.get());
  if (names == nullptr) return false;
  SSL_set_client_CA_list(ssl, names);
  return true;
}

void TlsContext::PrepareListenerContext(SSL_CTX* ctx) {
  // Sessions may be resumed only by the server that issued them; with client verification on,
  // OpenSSL refuses resumption unless a session id context is set (civetweb sets one only when
  // it loads the certificate itself, which it does not here).
  static constexpr unsigned char kSessionContext[] = "smartproxy_exporter";
  SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof kSessionContext - 1);
  // No resumption at all: a resumed session skips client-certificate verification, so after a
  // reload that changed client_ca_file an old session would still get in. Scrapers keep their
  // connections alive, so full handshakes are rare.
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
}

}  // namespace exporter::web
