#pragma once
// OpenSSL glue for kedge's listeners. Everything here runs at configuration
// time (startup, reload); failures throw TlsSetupError with OpenSSL's reason.
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include <openssl/ssl.h>

namespace kedge::certs {

class TlsSetupError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct SslCtxDeleter { void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); } };
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxDeleter>;

// A server context: TLS 1.2 minimum, modern AEAD cipher suites only (TLS 1.2:
// ECDHE + AES-GCM / ChaCha20-Poly1305; TLS 1.3 defaults), no compression, no
// renegotiation, session tickets on. Loads the PEM certificate chain and the
// private key and checks they match. Throws TlsSetupError naming the file.
SslCtxPtr make_server_context(const std::filesystem::path& cert_chain_pem,
                              const std::filesystem::path& private_key_pem);

// Refusing a TLS 1.3 client after its certificate was verified, with an alert
// of kedge's choosing (mTLS: access_denied for a principal not bound to the
// virtual cluster, issue 17). OpenSSL 3.0 lets an application pick the alert
// only where a callback may set one, and no such callback runs at or after the
// client's Certificate: a verify callback's refusal is translated by OpenSSL's
// X509-error-to-alert table, which has no entry for access_denied
// (X509_V_ERR_APPLICATION_VERIFICATION gives handshake_failure). The add
// callback of a custom extension may: returning -1 aborts the handshake with
// the alert it sets (SSL_CTX_add_custom_ext(3)), and a TLS 1.3 server builds
// its NewSessionTickets (RFC 8446 §4.6.1) right after it verified the client's
// Finished, before it reads application data. make_server_context registers
// such an extension for the NewSessionTicket message; it never reaches the
// wire (the callback adds nothing unless it aborts). This marks `ssl` so that
// its next ticket aborts the session with `alert` (an SSL_AD_* value); 0
// unmarks it. Tickets are also built after the handshake on demand
// (SSL_new_session_ticket), which is how an established session is refused.
// TLS 1.2 sends no extensions in its tickets: there the caller must refuse
// otherwise. Loop thread of the connection only.
void refuse_at_next_ticket(SSL* ssl, int alert);
// The alert refuse_at_next_ticket set on `ssl` (0: none).
int ticket_refusal(const SSL* ssl);

// Lets `ssl` (a session of a server context made here) select ALPN "http/1.1"
// when the client offers it (RFC 7301): the gateway calls it for a connection
// it serves as HTTP (docs/http.md). Every other session answers without ALPN.
void allow_http_alpn(SSL* ssl);
// The protocol ALPN selected ("" when none).
std::string selected_alpn(const SSL* ssl);

// What a client context toward the brokers needs (backend.tls).
struct ClientTlsFiles {
  std::optional<std::filesystem::path> ca_file;      // absent = the system trust store
  std::optional<std::filesystem::path> cert_chain;   // mTLS client certificate (with key)
  std::optional<std::filesystem::path> private_key;
  bool verify = true;                                // false: no chain or name check (explicit opt-out)
};

// A client context: TLS 1.2 minimum, the same AEAD suites as the server side,
// no compression or renegotiation. With verify, the peer chain is checked
// against ca_file (or the default verify paths) and SSL_VERIFY_PEER fails the
// handshake on a bad chain; the host name is set per connection
// (configure_client_session). Throws TlsSetupError naming the file.
SslCtxPtr make_client_context(const ClientTlsFiles& files);

// Prepares a client SSL for one broker: SNI (RFC 6066 §3) = `name` unless it
// is an IP literal (SNI carries host names only), and with verification on,
// RFC 6125 name checking against `name` (DNS name, or iPAddress SAN for an IP
// literal). Returns false with OpenSSL's reason in `error`.
bool configure_client_session(SSL* ssl, const std::string& name, bool verify, std::string& error);

// Drains OpenSSL's error queue into one human-readable line ("" if empty).
std::string drain_openssl_errors();

}  // namespace kedge::certs
