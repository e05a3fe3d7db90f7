// mTLS at the downstream TLS (gateway/client_certificate.h, gateway/downstream_tls.h): kedge's server side,
// built by build_snapshot from a Config made in C++, against a real OpenSSL client over memory BIOs. Each
// case asserts both sides: the check's outcome on kedge's side, and the alert the client received and the
// error it reports (what librdkafka prints after "SSL handshake failed:" or "SSL transport error:").
// Certificates, keys and CRLs are made at test time (tests/unit/certs/test_pki.h).
#include <catch2/catch.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <optional>
#include <string>

#include "config/snapshot.h"
#include "gateway/client_certificate.h"
#include "gateway/downstream_tls.h"
#include "temp_dir.h"
#include "test_pki.h"

using namespace kedge;
using namespace kedge::certs::testing;
using State = ClientCertificateOutcome::State;

namespace {

// The test PKI and a snapshot with one SNI listener terminating mTLS for every cluster it serves:
//   alpha  principals alice, svc-*                    (the listener's authentication)
//   beta   principals bob                             (same)
//   gamma  passthrough (its own authentication overrides the listener's)
//   delta  principals *, principal from the first SAN dNSName
//   eps    principals bob, SASL (SCRAM-SHA-256) and optional client certificates: SASL names the principal
// (The SASL half itself is tested in sasl_terminator_test.cpp and the identity integration tests.)
struct Pki {
  config_testing::TempDir tmp{"kedge-gateway-test"};
  Issued server_ca = make_root_ca("server CA");
  Issued client_ca = make_root_ca("client CA");
  Issued other_ca = make_root_ca("another CA");
  Issued alice = make_client(client_ca, "alice");
  Issued bob = make_client(client_ca, "bob");
  Issued svc = make_client(client_ca, "svc-orders");
  Issued expired = make_client(client_ca, "alice", -10L * 24 * 3600, -3600);
  Issued revoked = make_client(client_ca, "alice");
  Issued stranger = make_client(other_ca, "alice");
  Issued no_cn = [this] {
    CertSpec spec;
    spec.extra_subject = {"O=Acme"};
    return issue(spec, &client_ca);
  }();
  Issued server = [this] {
    CertSpec spec;
    spec.cn = "kafka.example.com";
    spec.role = Role::server;
    spec.dns_sans = {"*.kafka.example.com"};
    return issue(spec, &server_ca);
  }();

  Config config(bool required = true) const {
    write_file(tmp.path() / "server.pem", pem(server.cert.get()));
    write_file(tmp.path() / "server.key", pem(server.key.get()));
    write_file(tmp.path() / "clients-ca.pem", pem(client_ca.cert.get()));
    write_file(tmp.path() / "clients.crl", pem(make_crl(client_ca, {revoked.serial}).get()));
    Config c;
    ListenerConfig listener;
    listener.name = "public";
    listener.tls = TlsFiles{tmp.path() / "server.pem", tmp.path() / "server.key"};
    AuthenticationConfig mtls;
    mtls.mode = AuthenticationMode::terminate;
    mtls.mtls = MtlsConfig{};
    mtls.mtls->client_certificates = required ? ClientCertificates::required : ClientCertificates::optional;
    mtls.mtls->ca_file = tmp.path() / "clients-ca.pem";
    mtls.mtls->crl_file = tmp.path() / "clients.crl";
    listener.authentication = mtls;
    c.listeners = {listener};
    const auto cluster = [](const std::string& name, std::vector<std::string> principals) {
      VirtualClusterConfig vc;
      vc.name = name;
      vc.format = sni::HostnameFormat::shared_suffix;
      vc.domain = name + ".kafka.example.com";
      vc.backend.bootstrap_servers = {HostPort{"10.0.0.5", 9092}};
      vc.principals = std::move(principals);
      return vc;
    };
    c.virtual_clusters = {cluster("alpha", {"alice", "svc-*"}), cluster("beta", {"bob"}), cluster("gamma", {}),
                          cluster("delta", {"*"}), cluster("eps", {"bob"})};
    c.virtual_clusters[2].authentication = AuthenticationConfig{};
    AuthenticationConfig by_san = mtls;
    by_san.mtls->principal = CertificatePrincipalSource::san_dns;
    c.virtual_clusters[3].authentication = by_san;
    AuthenticationConfig with_sasl = mtls;
    with_sasl.mtls->client_certificates = ClientCertificates::optional;
    with_sasl.sasl = SaslTerminationConfig{};
    with_sasl.sasl->mechanisms = {TerminatedMechanism::scram_sha_256};
    c.virtual_clusters[4].authentication = with_sasl;
    return c;
  }
};

const Pki& pki() {
  static const Pki instance;
  return instance;
}

std::shared_ptr<const Snapshot> snapshot(std::uint64_t generation = 1) {
  static auto first = build_snapshot(pki().config(), 1);
  return generation == 1 ? first : build_snapshot(pki().config(), generation);
}

struct Sink final : CiphertextSink {
  std::string bytes;
  void send_ciphertext(const char* first, std::size_t first_len, const char* second, std::size_t second_len) override {
    bytes.append(first, first_len);
    if (second != nullptr) bytes.append(second, second_len);
  }
};

struct Client {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL* ssl = nullptr;
  BIO* in = BIO_new(BIO_s_mem());   // what kedge sent
  BIO* out = BIO_new(BIO_s_mem());  // what the client sends
  int received_alert = -1;

  Client(const Issued* certificate, int max_version, const std::string& sni, SSL_SESSION* resume = nullptr) {
    SSL_CTX_set_max_proto_version(ctx, max_version);
    X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), pki().server_ca.cert.get());
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    if (certificate != nullptr) {
      REQUIRE(SSL_CTX_use_certificate(ctx, certificate->cert.get()) == 1);
      REQUIRE(SSL_CTX_use_PrivateKey(ctx, certificate->key.get()) == 1);
    }
    ssl = SSL_new(ctx);
    SSL_set_bio(ssl, in, out);
    SSL_set_connect_state(ssl);
    SSL_set_tlsext_host_name(ssl, sni.c_str());
    if (resume != nullptr) SSL_set_session(ssl, resume);
    SSL_set_app_data(ssl, this);
    SSL_set_info_callback(ssl, [](const SSL* s, int where, int ret) {
      if ((where & SSL_CB_READ_ALERT) == SSL_CB_READ_ALERT) {
        static_cast<Client*>(SSL_get_app_data(s))->received_alert = ret & 0xff;
      }
    });
  }
  ~Client() {
    // A clean close (close_notify) keeps the session resumable; SSL_free alone marks it not resumable.
    if (SSL_is_init_finished(ssl)) SSL_shutdown(ssl);
    SSL_free(ssl);
    SSL_CTX_free(ctx);
  }
  std::string take_output() {
    std::string bytes;
    char buffer[16384];
    int n = 0;
    while ((n = BIO_read(out, buffer, sizeof buffer)) > 0) bytes.append(buffer, static_cast<std::size_t>(n));
    return bytes;
  }
};

// Keeps the reason of the client's first OpenSSL error (as librdkafka reports it) and clears the queue.
void note_client_error(std::string& first) {
  const unsigned long code = ERR_peek_error();
  ERR_clear_error();
  if (code == 0 || !first.empty()) return;
  const char* reason = ERR_reason_error_string(code);
  first = reason != nullptr ? reason : "?";
}

struct Run {
  std::optional<DownstreamTls::Step> server_step;  // done or failed (nullopt: still waiting)
  ClientCertificateOutcome outcome;                 // the check's (pending for passthrough)
  bool checked = false;                             // a check was installed
  int sent_alert = -1;                              // what kedge says it sent
  int received_alert = -1;                          // what the client received
  std::string client_error;                         // the client's first OpenSSL error reason
  std::string server_read;                          // application data kedge decrypted after the handshake
  bool reused = false;
  SSL_SESSION* session = nullptr;                   // the client's session afterwards (caller frees)
};

// One connection: the ClientHello starts kedge's session (as Connection does after SNI routing), then the
// two sides exchange flights until kedge's handshake is done or failed; the client then sends "ping" and
// reads, which is where a TLS 1.3 client learns of a refusal of its certificate.
Run connect(const std::string& cluster, const Issued* certificate, int max_version, SSL_SESSION* resume = nullptr,
            std::shared_ptr<const Snapshot> snap = snapshot(),
            std::shared_ptr<const ClientAuthentication> authentication_override = nullptr) {
  Client client(certificate, max_version, "bootstrap." + cluster + ".kafka.example.com", resume);
  const ListenerSettings& listener = *snap->listeners[0];
  std::size_t index = 0;
  while (snap->clusters[index]->config.name != cluster) ++index;
  const auto& authentication = authentication_override ? authentication_override : listener.authentication[index];

  RecordGather gather;
  Sink sink;
  std::optional<ClientCertificateCheck> check;
  DownstreamTls tls(gather, sink);
  Run run;
  REQUIRE(SSL_do_handshake(client.ssl) == -1);  // the ClientHello
  const std::string hello = client.take_output();
  if (authentication && authentication->config.mtls) check.emplace(authentication, cluster);
  std::string error;
  REQUIRE(tls.start(listener.default_ctx.get(), std::vector<std::uint8_t>(hello.begin(), hello.end()), error,
                    check ? &*check : nullptr));
  std::string to_server;
  for (int round = 0; round < 10 && !run.server_step; ++round) {
    tls.receive(to_server.data(), to_server.size(), [&] {
      const DownstreamTls::Step step = tls.handshake(error);
      if (step != DownstreamTls::Step::want_more) run.server_step = step;
    });
    tls.flush();
    BIO_write(client.in, sink.bytes.data(), static_cast<int>(sink.bytes.size()));
    sink.bytes.clear();
    ERR_clear_error();
    SSL_do_handshake(client.ssl);
    note_client_error(run.client_error);
    to_server = client.take_output();
  }
  // The client's first request, then its read.
  if (SSL_is_init_finished(client.ssl)) SSL_write(client.ssl, "ping", 4);
  note_client_error(run.client_error);
  to_server += client.take_output();
  if (run.server_step == DownstreamTls::Step::done) {
    tls.receive(to_server.data(), to_server.size(), [&] {
      char buffer[64];
      std::size_t n = 0;
      while (tls.read(buffer, sizeof buffer, n, error) == DownstreamTls::Read::data) run.server_read.append(buffer, n);
    });
    tls.flush();
    BIO_write(client.in, sink.bytes.data(), static_cast<int>(sink.bytes.size()));
  }
  if (run.client_error.empty()) {
    char buffer[64];
    SSL_read(client.ssl, buffer, sizeof buffer);  // the refusal's alert, or (accepted) nothing yet
    note_client_error(run.client_error);
  }
  run.received_alert = client.received_alert;
  run.sent_alert = tls.sent_alert();
  run.checked = check.has_value();
  if (check) run.outcome = check->outcome();
  run.reused = SSL_session_reused(client.ssl) == 1;
  run.session = SSL_get1_session(client.ssl);
  return run;
}

void refused_with(const Run& run, ClientCertificateRefusal reason, int alert, const std::string& client_error) {
  INFO("detail: " << run.outcome.detail);
  CHECK(run.server_step == DownstreamTls::Step::failed);
  CHECK(run.outcome.state == State::refused);
  CHECK(run.outcome.reason == reason);
  CHECK(run.outcome.principal.empty());
  CHECK(run.sent_alert == alert);
  CHECK(run.received_alert == alert);
  CHECK(run.client_error == client_error);
  CHECK(run.server_read.empty());  // no application byte was decrypted, so none could be forwarded
}

}  // namespace

TEST_CASE("a client certificate of the CA with a bound principal is accepted", "[gateway][mtls]") {
  for (const int version : {TLS1_3_VERSION, TLS1_2_VERSION}) {
    CAPTURE(version);
    for (const Issued* certificate : {&pki().alice, &pki().svc}) {
      const Run run = connect("alpha", certificate, version);
      CHECK(run.server_step == DownstreamTls::Step::done);
      CHECK(run.outcome.state == State::accepted);
      CHECK(run.outcome.principal == (certificate == &pki().alice ? "alice" : "svc-orders"));
      CHECK(run.server_read == "ping");
      CHECK(run.sent_alert == -1);
      SSL_SESSION_free(run.session);
    }
  }
}

TEST_CASE("refused certificates end the handshake with OpenSSL's matching alert", "[gateway][mtls]") {
  for (const int version : {TLS1_3_VERSION, TLS1_2_VERSION}) {
    CAPTURE(version);
    SECTION("no certificate where one is required") {
      const Run run = connect("alpha", nullptr, version);
      if (version == TLS1_3_VERSION) {
        refused_with(run, ClientCertificateRefusal::missing, SSL_AD_CERTIFICATE_REQUIRED,
                     "tlsv13 alert certificate required");
      } else {
        refused_with(run, ClientCertificateRefusal::missing, SSL_AD_HANDSHAKE_FAILURE,
                     "sslv3 alert handshake failure");
      }
      SSL_SESSION_free(run.session);
    }
    SECTION("another CA") {
      const Run run = connect("alpha", &pki().stranger, version);
      refused_with(run, ClientCertificateRefusal::unknown_ca, SSL_AD_UNKNOWN_CA, "tlsv1 alert unknown ca");
      CHECK(run.outcome.detail == "unable to get local issuer certificate (depth 0, subject CN=alice)");
      SSL_SESSION_free(run.session);
    }
    SECTION("expired") {
      const Run run = connect("alpha", &pki().expired, version);
      refused_with(run, ClientCertificateRefusal::expired, SSL_AD_CERTIFICATE_EXPIRED,
                   "sslv3 alert certificate expired");
      CHECK(run.outcome.detail == "certificate has expired (depth 0, subject CN=alice)");
      SSL_SESSION_free(run.session);
    }
    SECTION("revoked by the CRL") {
      const Run run = connect("alpha", &pki().revoked, version);
      refused_with(run, ClientCertificateRefusal::revoked, SSL_AD_CERTIFICATE_REVOKED,
                   "sslv3 alert certificate revoked");
      SSL_SESSION_free(run.session);
    }
    SECTION("no principal in the certificate (no subject CN)") {
      const Run run = connect("alpha", &pki().no_cn, version);
      refused_with(run, ClientCertificateRefusal::no_principal, SSL_AD_BAD_CERTIFICATE, "sslv3 alert bad certificate");
      CHECK(run.outcome.detail == "no principal in certificate O=Acme (no_subject_cn: the certificate subject has no CN)");
      SSL_SESSION_free(run.session);
    }
  }
}

TEST_CASE("a principal not bound to the virtual cluster: access_denied on TLS 1.3, handshake_failure on TLS 1.2",
          "[gateway][mtls]") {
  SECTION("TLS 1.3: the NewSessionTicket after the client's Finished carries the refusal") {
    const Run run = connect("beta", &pki().alice, TLS1_3_VERSION);
    refused_with(run, ClientCertificateRefusal::not_bound, SSL_AD_ACCESS_DENIED, "tlsv1 alert access denied");
    CHECK(run.outcome.detail == "principal \"alice\" is not bound to virtual cluster beta (bound: bob)");
    SSL_SESSION_free(run.session);
  }
  SECTION("TLS 1.2: refused in the verify callback, before kedge's Finished") {
    const Run run = connect("beta", &pki().alice, TLS1_2_VERSION);
    refused_with(run, ClientCertificateRefusal::not_bound, SSL_AD_HANDSHAKE_FAILURE, "sslv3 alert handshake failure");
    SSL_SESSION_free(run.session);
  }
  SECTION("the same principal on its own cluster, and bob on beta") {
    const Run alpha = connect("alpha", &pki().alice, TLS1_3_VERSION);
    CHECK(alpha.outcome.principal == "alice");
    const Run beta = connect("beta", &pki().bob, TLS1_3_VERSION);
    CHECK(beta.outcome.principal == "bob");
    CHECK(beta.server_read == "ping");
    SSL_SESSION_free(alpha.session);
    SSL_SESSION_free(beta.session);
  }
}

TEST_CASE("a passthrough cluster on the same listener asks for no certificate", "[gateway][mtls]") {
  for (const Issued* certificate : {static_cast<const Issued*>(nullptr), &pki().stranger}) {
    const Run run = connect("gamma", certificate, TLS1_3_VERSION);
    CHECK_FALSE(run.checked);
    CHECK(run.server_step == DownstreamTls::Step::done);
    CHECK(run.server_read == "ping");
    SSL_SESSION_free(run.session);
  }
}

TEST_CASE("with SASL on the pair: certificates optional, verified, the principal left to SASL", "[gateway][mtls]") {
  for (const int version : {TLS1_3_VERSION, TLS1_2_VERSION}) {
    CAPTURE(version);
    SECTION("no certificate: absent") {
      const Run run = connect("eps", nullptr, version);
      CHECK(run.server_step == DownstreamTls::Step::done);
      CHECK(run.outcome.state == State::absent);
      CHECK(run.server_read == "ping");
      SSL_SESSION_free(run.session);
    }
    SECTION("alice's certificate: verified, no principal taken from it, no binding checked here") {
      const Run run = connect("eps", &pki().alice, version);
      CHECK(run.server_step == DownstreamTls::Step::done);
      CHECK(run.outcome.state == State::verified);
      CHECK(run.outcome.principal.empty());
      CHECK(run.server_read == "ping");
      SSL_SESSION_free(run.session);
    }
    SECTION("a certificate that does not verify is still refused") {
      const Run run = connect("eps", &pki().revoked, version);
      refused_with(run, ClientCertificateRefusal::revoked, SSL_AD_CERTIFICATE_REVOKED,
                   "sslv3 alert certificate revoked");
      SSL_SESSION_free(run.session);
    }
  }
}

TEST_CASE("principal from a SAN", "[gateway][mtls]") {
  SECTION("a certificate without a dNSName: refused") {
    const Run run = connect("delta", &pki().alice, TLS1_3_VERSION);
    refused_with(run, ClientCertificateRefusal::no_principal, SSL_AD_BAD_CERTIFICATE, "sslv3 alert bad certificate");
    SSL_SESSION_free(run.session);
  }
  SECTION("a certificate with one") {
    CertSpec spec;
    spec.cn = "ignored";
    spec.dns_sans = {"orders.apps.example.com"};
    const Issued client = issue(spec, &pki().client_ca);
    const Run run = connect("delta", &client, TLS1_3_VERSION);
    CHECK(run.outcome.state == State::accepted);
    CHECK(run.outcome.principal == "orders.apps.example.com");
    SSL_SESSION_free(run.session);
  }
}

TEST_CASE("sessions resume only on the pair and generation that verified them", "[gateway][mtls][resumption]") {
  for (const int version : {TLS1_3_VERSION, TLS1_2_VERSION}) {
    CAPTURE(version);
    const Run first = connect("alpha", &pki().alice, version);
    REQUIRE(first.outcome.principal == "alice");
    REQUIRE(first.session != nullptr);
    REQUIRE(SSL_SESSION_is_resumable(first.session) == 1);

    SECTION("alpha again: resumed, the session's certificate judged again") {
      const Run again = connect("alpha", &pki().alice, version, first.session);
      CHECK(again.reused);
      CHECK(again.outcome.state == State::accepted);
      CHECK(again.outcome.principal == "alice");
      CHECK(again.server_read == "ping");
      SSL_SESSION_free(again.session);
    }
    SECTION("offered to beta on the same listener (same ticket keys): a full handshake, and refused") {
      const Run beta = connect("beta", &pki().alice, version, first.session);
      CHECK_FALSE(beta.reused);
      CHECK(beta.outcome.reason == ClientCertificateRefusal::not_bound);
      SSL_SESSION_free(beta.session);
    }
    SECTION("offered to a passthrough cluster: a full handshake") {
      const Run gamma = connect("gamma", &pki().alice, version, first.session);
      CHECK_FALSE(gamma.reused);
      CHECK(gamma.server_step == DownstreamTls::Step::done);
      SSL_SESSION_free(gamma.session);
    }
    SECTION("a resumed session whose principal kedge no longer admits is ended before its data is read") {
      // Same pair and session-id context, but a binding without alice: what a resumption across a change
      // of principals would meet if the session-id context did not already prevent it.
      auto narrowed = std::make_shared<ClientAuthentication>(*snapshot()->listeners[0]->authentication[0]);
      narrowed->binding = identity::PrincipalBinding::parse(std::vector<std::string>{"svc-*"});
      const Run again = connect("alpha", &pki().alice, version, first.session, snapshot(), narrowed);
      CHECK(again.reused);
      CHECK(again.server_step == DownstreamTls::Step::failed);
      CHECK(again.outcome.reason == ClientCertificateRefusal::not_bound);
      CHECK(again.server_read.empty());
      if (version == TLS1_3_VERSION) {
        CHECK(again.sent_alert == SSL_AD_ACCESS_DENIED);
        CHECK(again.received_alert == SSL_AD_ACCESS_DENIED);
        CHECK(again.client_error == "tlsv1 alert access denied");
      } else {
        CHECK(again.sent_alert == -1);  // TLS 1.2 cannot say it after the handshake: the connection is closed
      }
      SSL_SESSION_free(again.session);
    }
    SSL_SESSION_free(first.session);
  }
}

TEST_CASE("a reload starts new sessions: no resumption into another generation", "[gateway][mtls][resumption]") {
  const auto first_generation = build_snapshot(pki().config(), 7);
  const Run first = connect("alpha", &pki().alice, TLS1_3_VERSION, nullptr, first_generation);
  REQUIRE(first.session != nullptr);
  const auto next_generation = build_snapshot(pki().config(), 8);
  const Run again = connect("alpha", &pki().alice, TLS1_3_VERSION, first.session, next_generation);
  CHECK_FALSE(again.reused);
  CHECK(again.outcome.principal == "alice");
  CHECK(first_generation->listeners[0]->authentication[0]->session_id_context !=
        next_generation->listeners[0]->authentication[0]->session_id_context);
  SSL_SESSION_free(first.session);
  SSL_SESSION_free(again.session);
}
