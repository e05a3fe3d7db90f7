#include "gateway/client_certificate.h"

#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <fmt/format.h>

#include <utility>

#include "certs/inspect.h"
#include "certs/tls_context.h"
#include "identity/principal.h"

namespace kedge {
namespace {

int check_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

// OpenSSL's verification error, as counted.
ClientCertificateRefusal classify(int x509_error) {
  switch (x509_error) {
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_INVALID_CA:
    case X509_V_ERR_CERT_UNTRUSTED:
      return ClientCertificateRefusal::unknown_ca;
    case X509_V_ERR_CERT_HAS_EXPIRED:
      return ClientCertificateRefusal::expired;
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return ClientCertificateRefusal::not_yet_valid;
    case X509_V_ERR_CERT_REVOKED:
      return ClientCertificateRefusal::revoked;
    case X509_V_ERR_UNABLE_TO_GET_CRL:
    case X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER:
    case X509_V_ERR_CRL_HAS_EXPIRED:
    case X509_V_ERR_CRL_NOT_YET_VALID:
    case X509_V_ERR_CRL_SIGNATURE_FAILURE:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE:
    case X509_V_ERR_ERROR_IN_CRL_LAST_UPDATE_FIELD:
    case X509_V_ERR_ERROR_IN_CRL_NEXT_UPDATE_FIELD:
    case X509_V_ERR_DIFFERENT_CRL_SCOPE:
    case X509_V_ERR_KEYUSAGE_NO_CRL_SIGN:
      return ClientCertificateRefusal::crl_unusable;
    default:
      return ClientCertificateRefusal::bad_certificate;
  }
}

std::string subject_of(const X509* certificate) {
  if (certificate == nullptr) return "?";
  return identity::printable_excerpt(certs::name_line(X509_get_subject_name(certificate)), 200);
}

}  // namespace

ClientCertificateCheck::ClientCertificateCheck(std::shared_ptr<const ClientAuthentication> authentication,
                                               std::string cluster_name)
    : authentication_(std::move(authentication)), cluster_name_(std::move(cluster_name)) {}

bool ClientCertificateCheck::install(SSL* ssl, std::string& error) {
  ERR_clear_error();
  const auto& context = authentication_->session_id_context;
  if (check_index() < 0 || SSL_set_ex_data(ssl, check_index(), this) != 1 ||
      SSL_set1_verify_cert_store(ssl, authentication_->client_ca->store.get()) != 1 ||
      SSL_set_session_id_context(ssl, context.data(), static_cast<unsigned int>(context.size())) != 1) {
    error = "cannot set up client certificate verification: " + certs::drain_openssl_errors();
    return false;
  }
  SSL_set_verify(ssl, SSL_VERIFY_PEER | (required() ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0), on_verify);
  return true;
}

int ClientCertificateCheck::on_verify(int preverify_ok, X509_STORE_CTX* store) {
  auto* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  auto* self = ssl != nullptr ? static_cast<ClientCertificateCheck*>(SSL_get_ex_data(ssl, check_index())) : nullptr;
  if (self == nullptr) return 0;  // not ours: refuse rather than accept unchecked
  return self->verify(preverify_ok, store, ssl);
}

// OpenSSL calls this once per certificate of the chain with its verdict
// (preverify_ok), from the trust anchor down to the client's own certificate
// at depth 0, and again for every error it finds. Depth 0 with ok=1 comes
// after chain building, trust, revocation (CRLs) and the signatures and
// validity of the whole chain were checked, so the principal is mapped only
// from a certificate that verified.
int ClientCertificateCheck::verify(int preverify_ok, X509_STORE_CTX* store, SSL* ssl) {
  if (!preverify_ok) {
    const int error = X509_STORE_CTX_get_error(store);
    const int depth = X509_STORE_CTX_get_error_depth(store);
    // A verification error outranks a refusal deferred to the ticket: the handshake fails here.
    certs::refuse_at_next_ticket(ssl, 0);
    refuse(classify(error), fmt::format("{} (depth {}, subject {})", X509_verify_cert_error_string(error), depth,
                                        subject_of(X509_STORE_CTX_get_current_cert(store))));
    return 0;
  }
  if (X509_STORE_CTX_get_error_depth(store) != 0) return 1;
  if (!names_principal()) {
    outcome_.state = ClientCertificateOutcome::State::verified;
    return 1;
  }
  judge(X509_STORE_CTX_get_current_cert(store));
  if (outcome_.state != ClientCertificateOutcome::State::refused) return 1;
  if (outcome_.reason == ClientCertificateRefusal::not_bound && SSL_version(ssl) == TLS1_3_VERSION) {
    certs::refuse_at_next_ticket(ssl, SSL_AD_ACCESS_DENIED);  // see the header: access_denied at the ticket
    return 1;
  }
  // No principal (bad_certificate), or TLS 1.2 (handshake_failure).
  X509_STORE_CTX_set_error(store, outcome_.reason == ClientCertificateRefusal::not_bound
                                      ? X509_V_ERR_APPLICATION_VERIFICATION
                                      : X509_V_ERR_CERT_REJECTED);
  return 0;
}

void ClientCertificateCheck::judge(const X509* leaf) {
  const identity::CertificatePrincipalResult mapped = authentication_->certificate_principal->map(leaf);
  if (const auto* failure = std::get_if<identity::CertificatePrincipalFailure>(&mapped)) {
    refuse(ClientCertificateRefusal::no_principal,
           fmt::format("no principal in certificate {} ({}{}{})", subject_of(leaf), identity::label(failure->reason),
                       failure->detail.empty() ? "" : ": ", failure->detail));
    return;
  }
  const std::string& principal = std::get<std::string>(mapped);
  if (!authentication_->binding.binds(principal)) {
    refuse(ClientCertificateRefusal::not_bound,
           fmt::format("principal \"{}\" is not bound to virtual cluster {} (bound: {})",
                       identity::printable_excerpt(principal, 200), cluster_name_,
                       authentication_->binding.describe()));
    return;
  }
  outcome_.state = ClientCertificateOutcome::State::accepted;
  outcome_.principal = principal;
}

void ClientCertificateCheck::refuse(ClientCertificateRefusal reason, std::string detail) {
  outcome_.state = ClientCertificateOutcome::State::refused;
  outcome_.principal.clear();
  outcome_.reason = reason;
  outcome_.detail = std::move(detail);
}

void ClientCertificateCheck::handshake_failed(unsigned long openssl_error) {
  if (outcome_.state != ClientCertificateOutcome::State::pending) return;
  if (ERR_GET_LIB(openssl_error) == ERR_LIB_SSL &&
      ERR_GET_REASON(openssl_error) == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE) {
    refuse(ClientCertificateRefusal::missing,
           fmt::format("no client certificate, and virtual cluster {} requires one", cluster_name_));
  }
}

const ClientCertificateOutcome& ClientCertificateCheck::handshake_done(SSL* ssl) {
  using State = ClientCertificateOutcome::State;
  if (outcome_.state == State::refused || outcome_.state == State::accepted || outcome_.state == State::verified) {
    // Verified in this handshake (a refusal here is one no ticket delivered).
    if (!SSL_session_reused(ssl)) return outcome_;
  }
  // A resumed session (nothing was verified), or no certificate at all.
  const X509* peer = SSL_get0_peer_certificate(ssl);
  if (peer == nullptr) {
    if (required()) {
      refuse(ClientCertificateRefusal::missing,
             fmt::format("no client certificate, and virtual cluster {} requires one", cluster_name_));
    } else {
      outcome_.state = State::absent;
    }
    return outcome_;
  }
  if (const long result = SSL_get_verify_result(ssl); result != X509_V_OK) {
    refuse(classify(static_cast<int>(result)),
           fmt::format("{} (resumed session, subject {})", X509_verify_cert_error_string(result), subject_of(peer)));
    return outcome_;
  }
  if (!names_principal()) {
    outcome_.state = State::verified;
    return outcome_;
  }
  judge(peer);
  return outcome_;
}

bool ClientCertificateCheck::names_principal() const { return !authentication_->config.sasl.has_value(); }

bool ClientCertificateCheck::required() const {
  return authentication_->config.mtls->client_certificates == ClientCertificates::required;
}

int ClientCertificateCheck::refusal_alert() const {
  switch (outcome_.reason) {
    case ClientCertificateRefusal::not_bound: return SSL_AD_ACCESS_DENIED;
    case ClientCertificateRefusal::missing: return SSL_AD_CERTIFICATE_REQUIRED;
    default: return SSL_AD_BAD_CERTIFICATE;
  }
}

}  // namespace kedge
