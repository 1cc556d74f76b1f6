#pragma once

#include <memory>
#include <string>

#include "exporter/config/web_config.h"

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

// The TLS material of one web config: certificate chain, key, client CA store and the protocol
// settings, loaded and checked once (a bad file is a ConfigError at start or on SIGHUP, never a
// failed handshake later), then applied to each new connection. Connections pick up the newest
// material when they start, so a reload rotates certificates without dropping the listener.
namespace exporter::web {

class TlsContext {
 public:
  // Reads and checks every file `config` names: the key must match the certificate, the CA file
  // must hold at least one certificate. `source` (the web config's path) prefixes messages.
  // Throws ConfigError.
  static std::shared_ptr<const TlsContext> Load(const config::TlsServerConfig& config,
                                                const std::string& source);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  // Sets the certificate, key, versions, ciphers, groups and client verification on a
  // connection whose ClientHello has just arrived. Returns false when OpenSSL refused.
  bool ApplyTo(SSL* ssl) const;

  // One-time settings of the listener's context that cannot be made per connection.
  static void PrepareListenerContext(SSL_CTX* ctx);

  struct Material;

 private:
  TlsContext();
  std::unique_ptr<Material> material_;
};

}  // namespace exporter::web
