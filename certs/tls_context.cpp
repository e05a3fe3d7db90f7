// Server SSL_CTX construction (see tls_context.h). Configuration time only.
#include "certs/tls_context.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>

#include <cstdint>

namespace kedge::certs {
namespace {

// TLS 1.2 suites: forward-secret key exchange (ECDHE) with AEAD ciphers only,
// ECDSA first because make_certs.sh and most wildcard deployments use EC keys.
// This is the TLS 1.2 part of Mozilla's "intermediate" profile without DHE
// (finite-field DHE is slow and needs parameter management). TLS 1.3 suites
// (RFC 8446 §B.4) are all AEAD, so OpenSSL's defaults are kept.
constexpr const char* kTls12CipherList =
    "ECDHE-ECDSA-AES128-GCM-SHA256:"
    "ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:"
    "ECDHE-RSA-CHACHA20-POLY1305";

// Session resumption (tickets, RFC 5077 / RFC 8446 §4.6.1) is scoped to this
// id context, so a session from another application's context is not reused.
constexpr unsigned char kSessionIdContext[] = "kedge";

// The extension type of the NewSessionTicket refusal hook (refuse_at_next_ticket):
// in the private-use range and never sent, so no peer can be confused by it.
constexpr unsigned int kTicketRefusalExtension = 0xffce;

int ticket_refusal_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

int http_alpn_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

// RFC 7301 §3.2: the server picks one protocol the client offered, or sends
// no ALPN extension at all (NOACK). Kafka clients offer none; a connection the
// gateway serves as HTTP (allow_http_alpn) selects http/1.1 when offered, and
// every other one answers without ALPN, as before.
int select_alpn(SSL* ssl, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                unsigned int inlen, void*) {
  if (SSL_get_ex_data(ssl, http_alpn_index()) == nullptr) return SSL_TLSEXT_ERR_NOACK;
  static const unsigned char kHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, outlen, kHttp11, sizeof kHttp11, in, inlen) != OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_NOACK;
  }
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

int add_ticket_refusal(SSL* ssl, unsigned int, unsigned int, const unsigned char**, size_t*, X509*, size_t,
                       int* alert, void*) {
  const int refusal = ticket_refusal(ssl);
  if (refusal == 0) return 0;  // nothing to add: the ticket goes out without the extension
  *alert = refusal;
  return -1;
}

[[noreturn]] void fail(const std::string& subject, const std::string& what = {}) {
  std::string reason = drain_openssl_errors();
  std::string message = subject + ": ";
  if (!what.empty()) message += what;
  if (!what.empty() && !reason.empty()) message += ": ";
  message += reason.empty() && what.empty() ? "unknown OpenSSL error" : reason;
  throw TlsSetupError(message);
}

}  // namespace

std::string drain_openssl_errors() {
  std::string text;
  const char* data = nullptr;
  int flags = 0;
  unsigned long code = 0;
  while ((code = ERR_get_error_all(nullptr, nullptr, nullptr, &data, &flags)) != 0) {
    if (!text.empty()) text += "; ";
    const char* library = ERR_lib_error_string(code);
    const char* reason = ERR_reason_error_string(code);
    if (library != nullptr) {
      text += library;
      text += ": ";
    }
    if (reason != nullptr) {
      text += reason;
    } else {
      char buffer[256];
      ERR_error_string_n(code, buffer, sizeof buffer);
      text += buffer;
    }
    if (data != nullptr && (flags & ERR_TXT_STRING) != 0 && *data != '\0') {
      text += " (";
      text += data;
      text += ")";
    }
  }
  return text;
}

SslCtxPtr make_server_context(const std::filesystem::path& cert_chain_pem,
                              const std::filesystem::path& private_key_pem) {
  ERR_clear_error();  // so a failure below reports only its own reasons

  SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx) fail("SSL_CTX_new");

  // TLS 1.0/1.1 are deprecated (RFC 8996).
  if (SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION) != 1) {
    fail("SSL_CTX_set_min_proto_version");
  }
  if (SSL_CTX_set_cipher_list(ctx.get(), kTls12CipherList) != 1) fail("SSL_CTX_set_cipher_list");

  // No compression (CRIME), no renegotiation (a client-driven CPU sink and
  // not needed by Kafka clients), and our cipher order rather than the client's.
  SSL_CTX_set_options(ctx.get(),
                      SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_clear_options(ctx.get(), SSL_OP_NO_TICKET);
  // Idle Kafka connections are the common case; release the 16 KiB+ record
  // buffers when nothing is pending instead of holding them per connection.
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_RELEASE_BUFFERS);
  if (SSL_CTX_set_session_id_context(ctx.get(), kSessionIdContext, sizeof kSessionIdContext - 1) != 1) {
    fail("SSL_CTX_set_session_id_context");
  }

  if (ticket_refusal_index() < 0 ||
      SSL_CTX_add_custom_ext(ctx.get(), kTicketRefusalExtension, SSL_EXT_TLS1_3_NEW_SESSION_TICKET,
                             add_ticket_refusal, nullptr, nullptr, nullptr, nullptr) != 1) {
    fail("SSL_CTX_add_custom_ext", "cannot register the NewSessionTicket refusal hook");
  }

  SSL_CTX_set_alpn_select_cb(ctx.get(), select_alpn, nullptr);

  const std::string cert_file = cert_chain_pem.string();
  const std::string key_file = private_key_pem.string();
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), cert_file.c_str()) != 1) fail(cert_file);
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), key_file.c_str(), SSL_FILETYPE_PEM) != 1) fail(key_file);
  // use_PrivateKey_file already rejects a key of the certificate's type that
  // does not match it; a key of another type (RSA key, EC certificate) lands in
  // a different slot and is only caught here.
  if (SSL_CTX_check_private_key(ctx.get()) != 1) {
    fail(key_file, "does not match certificate " + cert_file);
  }
  return ctx;
}

SslCtxPtr make_client_context(const ClientTlsFiles& files) {
  ERR_clear_error();
  SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) fail("SSL_CTX_new");
  if (SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION) != 1) fail("SSL_CTX_set_min_proto_version");
  if (SSL_CTX_set_cipher_list(ctx.get(), kTls12CipherList) != 1) fail("SSL_CTX_set_cipher_list");
  SSL_CTX_set_options(ctx.get(), SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_RELEASE_BUFFERS);
  if (files.verify) {
    if (files.ca_file) {
      const std::string ca = files.ca_file->string();
      if (SSL_CTX_load_verify_locations(ctx.get(), ca.c_str(), nullptr) != 1) fail(ca, "cannot load CA certificates");
    } else if (SSL_CTX_set_default_verify_paths(ctx.get()) != 1) {
      fail("system trust store", "cannot load the default verify paths");
    }
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  } else {
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
  }
  if (files.cert_chain && files.private_key) {
    const std::string cert_file = files.cert_chain->string();
    const std::string key_file = files.private_key->string();
    if (SSL_CTX_use_certificate_chain_file(ctx.get(), cert_file.c_str()) != 1) fail(cert_file);
    if (SSL_CTX_use_PrivateKey_file(ctx.get(), key_file.c_str(), SSL_FILETYPE_PEM) != 1) fail(key_file);
    if (SSL_CTX_check_private_key(ctx.get()) != 1) fail(key_file, "does not match certificate " + cert_file);
  }
  return ctx;
}

void refuse_at_next_ticket(SSL* ssl, int alert) {
  SSL_set_ex_data(ssl, ticket_refusal_index(), reinterpret_cast<void*>(static_cast<std::intptr_t>(alert)));
}

int ticket_refusal(const SSL* ssl) {
  return static_cast<int>(reinterpret_cast<std::intptr_t>(SSL_get_ex_data(ssl, ticket_refusal_index())));
}

bool configure_client_session(SSL* ssl, const std::string& name, bool verify, std::string& error) {
  ERR_clear_error();
  in6_addr v6{};
  in_addr v4{};
  const std::string bare = name.substr(0, name.find('%'));
  const bool is_ip = inet_pton(AF_INET, bare.c_str(), &v4) == 1 || inet_pton(AF_INET6, bare.c_str(), &v6) == 1;
  if (!is_ip && SSL_set_tlsext_host_name(ssl, name.c_str()) != 1) {
    error = "cannot set SNI " + name + ": " + drain_openssl_errors();
    return false;
  }
  if (!verify) return true;
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  // RFC 6125 §6.4.3: a wildcard matches one whole left-most label only.
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  const int ok = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, bare.c_str()) : SSL_set1_host(ssl, name.c_str());
  if (ok != 1) {
    error = "cannot set the name to verify (" + name + "): " + drain_openssl_errors();
    return false;
  }
  return true;
}

void allow_http_alpn(SSL* ssl) {
  static int marker = 1;
  if (http_alpn_index() >= 0) SSL_set_ex_data(ssl, http_alpn_index(), &marker);
}

std::string selected_alpn(const SSL* ssl) {
  const unsigned char* data = nullptr;
  unsigned int len = 0;
  SSL_get0_alpn_selected(ssl, &data, &len);
  return data != nullptr ? std::string(reinterpret_cast<const char*>(data), len) : std::string();
}

}  // namespace kedge::certs
