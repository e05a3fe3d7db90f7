#pragma once
// mTLS at kedge's listeners, the per-connection half (docs/identity.md, "mTLS"). A connection routed to a
// (listener, virtual cluster) pair whose authentication has `mtls` installs a ClientCertificateCheck on its
// server SSL before the handshake starts. The check asks that one session for a client certificate
// (SSL_set_verify; SSL_VERIFY_FAIL_IF_NO_PEER_CERT when required), verifies it against the pair's CA store
// (SSL_set1_verify_cert_store: CA bundle and CRLs, certs/client_ca.h), maps the verified leaf to a principal
// (identity/principal_mapping.h) and checks that the principal is bound to the virtual cluster
// (identity/principal_binding.h). Other virtual clusters on the same listener, which share its SSL_CTX, are
// untouched: nothing is set on the context.
//
// What a refused client is told (OpenSSL 3.0.19; tests/unit/gateway/client_certificate_test.cpp asserts
// each row from the client's side):
//   certificate missing (required)  TLS 1.3: certificate_required (116)  TLS 1.2: handshake_failure (40)
//   unknown CA, CRL missing         unknown_ca (48)
//   expired, CRL stale              certificate_expired (45)
//   revoked                         certificate_revoked (44)
//   not yet valid, bad purpose...   bad_certificate (42) / unsupported_certificate (43)
//   no principal in the certificate bad_certificate (42)                 (X509_V_ERR_CERT_REJECTED)
//   principal not bound             TLS 1.3: access_denied (49)          TLS 1.2: handshake_failure (40)
// The verification rows are OpenSSL's own translation of its X509 error. A refusal decided in the verify
// callback can only pick an X509 error, and OpenSSL's table maps none of them to access_denied (RFC 8446
// §6.2: "a valid certificate ... was received, but when access control was applied, the sender decided not
// to proceed"). So for an unbound principal on TLS 1.3 the callback accepts the chain, records the refusal
// and marks the session (certs::refuse_at_next_ticket): the NewSessionTicket that OpenSSL builds right after
// verifying the client's Finished aborts the handshake with access_denied. The client has sent its Finished
// by then in any case (in TLS 1.3 the server reads the client certificate after its own Finished), so the
// alert arrives at the same point either way, and kedge has read no application data: SSL_do_handshake
// fails, the connection never enters forwarding, and no Kafka byte of the client reaches a broker. TLS 1.2
// tickets carry no extensions: there the callback refuses with X509_V_ERR_APPLICATION_VERIFICATION, which
// OpenSSL sends as handshake_failure, before the server's Finished.
//
// When the pair also terminates SASL, SASL names the principal (as a Kafka broker does for SASL_SSL with
// client authentication): the certificate is verified (CA, validity, CRL) and then `verified`, with no
// principal taken from it and no binding checked here; SaslTerminator binds the SASL principal.
//
// Resumed sessions verify nothing, so handshake_done() judges the session's certificate again. A session
// resumes only on the pair and configuration generation that verified it (the pair's session-id context,
// config/snapshot.h), so the judgement is the same as at verification; should it still refuse, TLS 1.3
// sessions are ended with access_denied through an on-demand ticket (DownstreamTls), TLS 1.2 ones are closed.
//
// Loop thread of the connection only. The check borrows nothing beyond its ClientAuthentication (held).
#include <openssl/ssl.h>

#include <cstdint>
#include <memory>
#include <string>

#include "admin/counters.h"
#include "config/snapshot.h"

namespace kedge {

struct ClientCertificateOutcome {
  enum class State : std::uint8_t {
    pending,   // not verified yet
    accepted,  // principal set
    verified,  // the chain verified; the pair also terminates SASL, which names the principal
    absent,    // no certificate, and the pair makes it optional (the principal comes from SASL)
    refused,   // reason and detail set
  };
  State state = State::pending;
  std::string principal;
  ClientCertificateRefusal reason = ClientCertificateRefusal::bad_certificate;
  std::string detail;  // for kedge's log: OpenSSL's verification error and the certificate's subject
};

class ClientCertificateCheck {
 public:
  // `authentication` must have `config.mtls` (and so client_ca and certificate_principal).
  ClientCertificateCheck(std::shared_ptr<const ClientAuthentication> authentication, std::string cluster_name);
  ClientCertificateCheck(const ClientCertificateCheck&) = delete;
  ClientCertificateCheck& operator=(const ClientCertificateCheck&) = delete;

  // Asks `ssl`'s client for a certificate and binds this check to `ssl` (which must not outlive it). Call
  // before the first SSL_do_handshake. False with OpenSSL's reason in `error`.
  bool install(SSL* ssl, std::string& error);

  // SSL_do_handshake failed with `openssl_error` (its first queued error): records `missing` when OpenSSL
  // refused for want of a certificate (the verify callback does not run then).
  void handshake_failed(unsigned long openssl_error);
  // SSL_do_handshake completed. Judges a resumed session's certificate; returns the final outcome (refused
  // also when the callback deferred a refusal that no ticket delivered).
  const ClientCertificateOutcome& handshake_done(SSL* ssl);

  const ClientCertificateOutcome& outcome() const { return outcome_; }
  // The alert that refuses an established session for the outcome's reason (access_denied for not_bound).
  int refusal_alert() const;

 private:
  static int on_verify(int preverify_ok, X509_STORE_CTX* store);
  int verify(int preverify_ok, X509_STORE_CTX* store, SSL* ssl);
  // Maps `leaf` and checks the binding: accepted, or refused with the reason.
  void judge(const X509* leaf);
  void refuse(ClientCertificateRefusal reason, std::string detail);
  bool required() const;
  // The principal comes from the certificate (the pair terminates no SASL).
  bool names_principal() const;

  std::shared_ptr<const ClientAuthentication> authentication_;
  std::string cluster_name_;
  ClientCertificateOutcome outcome_;
};

}  // namespace kedge
