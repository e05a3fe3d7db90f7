// make_server_context: the context's policy, real in-memory handshakes
// against it, and the errors for bad files.
#include <catch2/catch.hpp>

#include <memory>
#include <string>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "cert_fixture.h"
#include "certs/tls_context.h"

using kedge::certs::make_server_context;
using kedge::certs::SslCtxPtr;
using kedge::certs::TlsSetupError;
using kedge::certs::testing::CertTree;

namespace {

struct SslDeleter { void operator()(SSL* ssl) const { SSL_free(ssl); } };
using SslPtr = std::unique_ptr<SSL, SslDeleter>;

std::string setup_error_of(const std::filesystem::path& cert, const std::filesystem::path& key) {
  try {
    make_server_context(cert, key);
  } catch (const TlsSetupError& error) {
    return error.what();
  }
  return "<no TlsSetupError thrown>";
}

// A client context that trusts `ca_file` and checks the server's name.
SslCtxPtr make_client_context(const std::filesystem::path& ca_file, int max_version) {
  SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  REQUIRE(ctx);
  REQUIRE(SSL_CTX_load_verify_locations(ctx.get(), ca_file.c_str(), nullptr) == 1);
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  SSL_CTX_set_max_proto_version(ctx.get(), max_version);
  if (max_version < TLS1_2_VERSION) {
    // OpenSSL 3 refuses TLS < 1.2 at the default security level; a legacy
    // client would not, and that is the client the server must refuse.
    SSL_CTX_set_min_proto_version(ctx.get(), TLS1_VERSION);
    REQUIRE(SSL_CTX_set_cipher_list(ctx.get(), "DEFAULT:@SECLEVEL=0") == 1);
  }
  return ctx;
}

struct HandshakeResult {
  bool ok = false;
  std::string client_error;
  std::string server_error;
};

// Connects a client and a server SSL through an in-memory BIO pair and runs
// both handshakes to completion or failure.
HandshakeResult handshake(SSL* client, SSL* server) {
  BIO* client_bio = nullptr;
  BIO* server_bio = nullptr;
  REQUIRE(BIO_new_bio_pair(&client_bio, 0, &server_bio, 0) == 1);
  SSL_set_bio(client, client_bio, client_bio);
  SSL_set_bio(server, server_bio, server_bio);
  SSL_set_connect_state(client);
  SSL_set_accept_state(server);

  HandshakeResult result;
  bool client_done = false, server_done = false;
  for (int round = 0; round < 50 && !(client_done && server_done); ++round) {
    for (auto [ssl, done, error] : {std::tuple{client, &client_done, &result.client_error},
                                    std::tuple{server, &server_done, &result.server_error}}) {
      if (*done) continue;
      ERR_clear_error();
      const int rc = SSL_do_handshake(ssl);
      if (rc == 1) {
        *done = true;
        continue;
      }
      const int reason = SSL_get_error(ssl, rc);
      if (reason != SSL_ERROR_WANT_READ && reason != SSL_ERROR_WANT_WRITE) {
        *error = kedge::certs::drain_openssl_errors();
        if (error->empty()) *error = "SSL_get_error " + std::to_string(reason);
        return result;
      }
    }
  }
  result.ok = client_done && server_done;
  return result;
}

struct Connection {
  SslPtr client;
  SslPtr server;
  HandshakeResult result;
};

Connection connect(SSL_CTX* client_ctx, SSL_CTX* server_ctx, const char* host,
                   SSL_SESSION* resume = nullptr) {
  Connection connection{SslPtr(SSL_new(client_ctx)), SslPtr(SSL_new(server_ctx)), {}};
  REQUIRE(connection.client);
  REQUIRE(connection.server);
  REQUIRE(SSL_set_tlsext_host_name(connection.client.get(), host) == 1);
  REQUIRE(SSL_set1_host(connection.client.get(), host) == 1);
  if (resume != nullptr) REQUIRE(SSL_set_session(connection.client.get(), resume) == 1);
  connection.result = handshake(connection.client.get(), connection.server.get());
  return connection;
}

}  // namespace

TEST_CASE("the server context enforces the TLS policy", "[certs]") {
  // given
  const CertTree tls;
  // when
  const SslCtxPtr ctx = make_server_context(tls / "server.pem", tls / "server.key");
  // then
  REQUIRE(ctx);
  CHECK(SSL_CTX_get_min_proto_version(ctx.get()) == TLS1_2_VERSION);
  const uint64_t options = SSL_CTX_get_options(ctx.get());
  CHECK((options & SSL_OP_NO_COMPRESSION) != 0);
  CHECK((options & SSL_OP_NO_RENEGOTIATION) != 0);
  CHECK((options & SSL_OP_CIPHER_SERVER_PREFERENCE) != 0);
  CHECK((options & SSL_OP_NO_TICKET) == 0);
  CHECK((SSL_CTX_get_mode(ctx.get()) & SSL_MODE_RELEASE_BUFFERS) != 0);

  SECTION("only forward-secret AEAD suites are offered") {
    const STACK_OF(SSL_CIPHER)* ciphers = SSL_CTX_get_ciphers(ctx.get());
    REQUIRE(ciphers != nullptr);
    int tls13_suites = 0, tls12_suites = 0;
    for (int i = 0; i < sk_SSL_CIPHER_num(ciphers); ++i) {
      const SSL_CIPHER* cipher = sk_SSL_CIPHER_value(ciphers, i);
      INFO(SSL_CIPHER_get_name(cipher));
      CHECK(SSL_CIPHER_is_aead(cipher) == 1);
      const int kx = SSL_CIPHER_get_kx_nid(cipher);
      CHECK((kx == NID_kx_ecdhe || kx == NID_kx_any));  // NID_kx_any: TLS 1.3 (RFC 8446 §4.2.7)
      (kx == NID_kx_any ? tls13_suites : tls12_suites) += 1;
    }
    CHECK(tls13_suites >= 3);
    CHECK(tls12_suites == 6);
  }
}

TEST_CASE("clients complete handshakes against make_certs.sh material", "[certs]") {
  // given
  const CertTree tls;
  const SslCtxPtr server_ctx = make_server_context(tls / "server.pem", tls / "server.key");

  SECTION("TLS 1.3 with a wildcard-covered broker name") {
    const SslCtxPtr client_ctx = make_client_context(tls / "ca.pem", TLS1_3_VERSION);
    const Connection c = connect(client_ctx.get(), server_ctx.get(), "broker-1-alpha.kafka.example.com");
    INFO(c.result.client_error << " / " << c.result.server_error);
    REQUIRE(c.result.ok);
    CHECK(SSL_version(c.client.get()) == TLS1_3_VERSION);
    CHECK(SSL_get_verify_result(c.client.get()) == X509_V_OK);
  }
  SECTION("TLS 1.2 negotiates ECDHE-ECDSA with AES-GCM and resumes via a session ticket") {
    const SslCtxPtr client_ctx = make_client_context(tls / "ca.pem", TLS1_2_VERSION);
    const Connection first = connect(client_ctx.get(), server_ctx.get(), "kafka.example.com");
    INFO(first.result.client_error << " / " << first.result.server_error);
    REQUIRE(first.result.ok);
    CHECK(SSL_version(first.client.get()) == TLS1_2_VERSION);
    CHECK(std::string(SSL_get_cipher_name(first.client.get())) == "ECDHE-ECDSA-AES128-GCM-SHA256");
    SSL_SESSION* session = SSL_get_session(first.client.get());
    REQUIRE(session != nullptr);
    CHECK(SSL_SESSION_has_ticket(session) == 1);

    const Connection second = connect(client_ctx.get(), server_ctx.get(), "kafka.example.com", session);
    REQUIRE(second.result.ok);
    CHECK(SSL_session_reused(second.client.get()) == 1);
  }
  SECTION("a TLS 1.1 client is refused") {
    const SslCtxPtr client_ctx = make_client_context(tls / "ca.pem", TLS1_1_VERSION);
    const Connection c = connect(client_ctx.get(), server_ctx.get(), "kafka.example.com");
    CHECK_FALSE(c.result.ok);
    CHECK_THAT(c.result.server_error, Catch::Contains("unsupported protocol"));
  }
  SECTION("a client trusting a different CA rejects the server") {
    const SslCtxPtr client_ctx = make_client_context(tls / "wrong-ca.pem", TLS1_3_VERSION);
    const Connection c = connect(client_ctx.get(), server_ctx.get(), "kafka.example.com");
    CHECK_FALSE(c.result.ok);
    CHECK_THAT(c.result.client_error, Catch::Contains("certificate verify failed"));
  }
}

TEST_CASE("setup errors name the offending file", "[certs][errors]") {
  const CertTree tls;

  SECTION("a key that belongs to another certificate") {
    const std::string message = setup_error_of(tls / "server.pem", tls / "wrong-ca.key");
    CHECK_THAT(message, Catch::StartsWith((tls / "wrong-ca.key").string() + ": ") &&
                            Catch::Contains("key values mismatch"));
  }
  SECTION("a key of another type than the certificate") {
    kedge::certs::testing::run(
        "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out '" + (tls / "rsa.key").string() + "'",
        tls / "rsa.log");
    const std::string message = setup_error_of(tls / "server.pem", tls / "rsa.key");
    CHECK_THAT(message, Catch::StartsWith((tls / "rsa.key").string() + ": does not match certificate " +
                                          (tls / "server.pem").string()));
  }
  SECTION("a missing certificate file") {
    const std::string message = setup_error_of(tls / "absent.pem", tls / "server.key");
    CHECK_THAT(message, Catch::StartsWith((tls / "absent.pem").string() + ": ") &&
                            Catch::Contains("No such file"));
  }
  SECTION("a missing key file") {
    const std::string message = setup_error_of(tls / "server.pem", tls / "absent.key");
    CHECK_THAT(message, Catch::StartsWith((tls / "absent.key").string() + ": ") &&
                            Catch::Contains("No such file"));
  }
  SECTION("a certificate file that is not PEM") {
    {
      std::ofstream(tls / "garbage.pem") << "not a certificate\n";
    }
    const std::string message = setup_error_of(tls / "garbage.pem", tls / "server.key");
    CHECK_THAT(message, Catch::StartsWith((tls / "garbage.pem").string() + ": "));
  }
  SECTION("a certificate given as the key") {
    const std::string message = setup_error_of(tls / "server.pem", tls / "server.pem");
    CHECK_THAT(message, Catch::StartsWith((tls / "server.pem").string() + ": "));
  }
  SECTION("errors leave OpenSSL's queue empty") {
    setup_error_of(tls / "absent.pem", tls / "server.key");
    CHECK(ERR_peek_error() == 0);
    CHECK(kedge::certs::drain_openssl_errors().empty());
  }
}
