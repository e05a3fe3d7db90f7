// The SCRAM server: RFC 7677's example end to end, SCRAM-SHA-512 against an independently computed
// conversation, round trips with random salts and nonces, unknown users, and every refusal.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "identity/scram_server.h"
#include "identity_fixture.h"

using namespace kedge;
using namespace kedge::identity;
using namespace kedge::identity::testing;

namespace {

// The client side of a conversation, written from RFC 5802 §3 over kedge's primitives.
struct ServerFirst {
  std::string nonce;
  std::string salt;
  std::uint32_t iterations = 0;
};
ServerFirst parse_server_first(const std::string& message) {
  ServerFirst out;
  std::size_t start = 0;
  while (start < message.size()) {
    std::size_t comma = message.find(',', start);
    if (comma == std::string::npos) comma = message.size();
    const std::string item = message.substr(start, comma - start);
    if (item.rfind("r=", 0) == 0) out.nonce = item.substr(2);
    if (item.rfind("s=", 0) == 0) out.salt = *scram::base64_decode(item.substr(2));
    if (item.rfind("i=", 0) == 0) out.iterations = static_cast<std::uint32_t>(std::stoul(item.substr(2)));
    start = comma + 1;
  }
  return out;
}

// client-final for `without_proof`, proving `password`.
std::string client_final(scram::Hash hash, const std::string& password, const std::string& client_first_bare,
                         const std::string& server_first, const std::string& without_proof) {
  const ServerFirst first = parse_server_first(server_first);
  const auto keys = scram::keys_from_password(hash, password, first.salt, first.iterations);
  const std::string auth_message = client_first_bare + "," + server_first + "," + without_proof;
  const auto signature = scram::hmac(hash, keys->stored_key, auth_message);
  return without_proof + ",p=" + scram::base64_encode(*scram::xor_bytes(keys->client_key, *signature));
}

template <typename T, typename Step>
const T& expect(const Step& step) {
  REQUIRE(std::holds_alternative<T>(step));
  return std::get<T>(step);
}

AuthErrc refusal_of_first(std::string_view message, const UserStore& users) {
  ScramServer server(scram::Hash::sha256, NoncePolicy::accept_repeated_client_nonce, kServerNonce);
  const FirstStep step = server.on_client_first(message, users);
  REQUIRE(std::holds_alternative<Refused>(step));
  const Refused& refused = std::get<Refused>(step);
  CHECK(refused.server_final == "e=" + std::string(scram_error_value(refused.reason)));
  return refused.reason;
}

}  // namespace

TEST_CASE("RFC 7677 SCRAM-SHA-256 example, end to end", "[scram_server]") {
  // given
  const UserStore users = rfc_store();
  ScramServer server(scram::Hash::sha256, NoncePolicy::strict, kServerNonce);
  // when
  const FirstStep first = server.on_client_first(kClientFirst, users);
  // then
  CHECK(expect<Challenge>(first).server_first == kServerFirst);
  CHECK(server.claimed_user() == "user");
  // when
  const FinalStep final_step = server.on_client_final(kClientFinal256);
  // then
  const Authenticated& ok = expect<Authenticated>(final_step);
  CHECK(ok.principal == "user");
  CHECK(ok.server_final == kServerFinal256);
  CHECK_FALSE(ok.repeated_client_nonce);
}

TEST_CASE("SCRAM-SHA-512 against an independently computed conversation", "[scram_server]") {
  const UserStore users = rfc_store();
  ScramServer server(scram::Hash::sha512, NoncePolicy::strict, kServerNonce);
  CHECK(expect<Challenge>(server.on_client_first(kClientFirst, users)).server_first == kServerFirst);
  const FinalStep step = server.on_client_final(kClientFinal512);
  const Authenticated& ok = expect<Authenticated>(step);
  CHECK(ok.principal == "user");
  CHECK(ok.server_final == kServerFinal512);
}

TEST_CASE("round trips with fresh salts and nonces, both hashes, and a wrong password", "[scram_server]") {
  UserStore users = UserStore::create();
  UserCredentials alice;
  for (const scram::Hash hash : scram::kHashes) alice[hash] = make_scram_credential(hash, "s3cret pass", 4096);
  REQUIRE(users.set_user("alice", alice));
  for (const scram::Hash hash : scram::kHashes) {
    INFO(scram::mechanism_name(hash));
    for (const char* password : {"s3cret pass", "s3cret pasS"}) {
      const bool right = std::string(password) == "s3cret pass";
      // given
      const std::string client_nonce = scram::random_nonce();
      const std::string bare = "n=alice,r=" + client_nonce;
      ScramServer server(hash);
      const std::string server_first = expect<Challenge>(server.on_client_first("n,," + bare, users)).server_first;
      const ServerFirst parsed = parse_server_first(server_first);
      CHECK(parsed.nonce.size() == client_nonce.size() + 32);
      CHECK(parsed.nonce.substr(0, client_nonce.size()) == client_nonce);
      CHECK(parsed.salt == alice[hash]->salt);
      CHECK(parsed.iterations == 4096);
      // when
      const FinalStep step = server.on_client_final(
          client_final(hash, password, bare, server_first, "c=biws,r=" + parsed.nonce));
      // then
      if (right) {
        CHECK(expect<Authenticated>(step).principal == "alice");
      } else {
        CHECK(expect<Refused>(step).reason == AuthErrc::wrong_password);
        CHECK(expect<Refused>(step).server_final == "e=invalid-proof");
      }
    }
  }
}

TEST_CASE("two conversations get different server nonces", "[scram_server]") {
  const UserStore users = rfc_store();
  ScramServer a(scram::Hash::sha256), b(scram::Hash::sha256);
  CHECK(expect<Challenge>(a.on_client_first(kClientFirst, users)).server_first !=
        expect<Challenge>(b.on_client_first(kClientFirst, users)).server_first);
}

TEST_CASE("an unknown user gets a stable decoy salt and fails at client-final like a wrong password",
          "[scram_server]") {
  const UserStore users = rfc_store();
  const UserStore reloaded = rfc_store();  // the same file loaded again (another kedge, or after a restart)
  const auto first_for = [](const UserStore& store, const std::string& name) {
    ScramServer server(scram::Hash::sha256, NoncePolicy::strict, kServerNonce);
    return expect<Challenge>(server.on_client_first("n,,n=" + name + ",r=" + kClientNonce, store)).server_first;
  };
  // then: same shape as the real user's answer, stable across loads, different per name
  const ServerFirst mallory = parse_server_first(first_for(users, "mallory"));
  CHECK(mallory.salt.size() == parse_server_first(kServerFirst).salt.size());
  CHECK(mallory.iterations == 4096);
  CHECK(first_for(users, "mallory") == first_for(reloaded, "mallory"));
  CHECK(first_for(users, "mallory") != first_for(users, "mallory2"));
  CHECK(first_for(users, "mallory") != first_for(users, "user"));

  // when: the unknown user proves "pencil", and the known one a wrong password
  const auto refuse = [&](const std::string& name, const std::string& password) {
    ScramServer server(scram::Hash::sha256, NoncePolicy::strict, kServerNonce);
    const std::string bare = "n=" + name + ",r=" + kClientNonce;
    const std::string server_first = expect<Challenge>(server.on_client_first("n,," + bare, users)).server_first;
    const std::string nonce = parse_server_first(server_first).nonce;
    return expect<Refused>(
        server.on_client_final(client_final(scram::Hash::sha256, password, bare, server_first, "c=biws,r=" + nonce)));
  };
  const Refused unknown = refuse("mallory", "pencil");
  const Refused wrong = refuse("user", "pencil!");
  // then: told apart in the log reason only
  CHECK(unknown.reason == AuthErrc::unknown_user);
  CHECK(wrong.reason == AuthErrc::wrong_password);
  CHECK(unknown.server_final == wrong.server_final);
  CHECK(client_message(unknown.reason, "SCRAM-SHA-256") == client_message(wrong.reason, "SCRAM-SHA-256"));
  CHECK(client_message(wrong.reason, "SCRAM-SHA-256") ==
        "Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-256");
  CHECK(label(unknown.reason) == label(wrong.reason));
}

TEST_CASE("a user without the requested mechanism is answered with a decoy", "[scram_server]") {
  UserStore users = UserStore::create();
  UserCredentials only256;
  only256[scram::Hash::sha256] = make_scram_credential(scram::Hash::sha256, "pw", 4096);
  REQUIRE(users.set_user("bob", only256));
  ScramServer server(scram::Hash::sha512, NoncePolicy::strict, kServerNonce);
  const std::string bare = std::string("n=bob,r=") + kClientNonce;
  const std::string server_first = expect<Challenge>(server.on_client_first("n,," + bare, users)).server_first;
  const std::string nonce = parse_server_first(server_first).nonce;
  CHECK(expect<Refused>(server.on_client_final(
                            client_final(scram::Hash::sha512, "pw", bare, server_first, "c=biws,r=" + nonce)))
            .reason == AuthErrc::unknown_user);
}

TEST_CASE("escaped names, authzid equal to the user, and ignored extensions are accepted", "[scram_server]") {
  UserStore users = UserStore::create();
  UserCredentials credentials;
  credentials[scram::Hash::sha256] = make_scram_credential(scram::Hash::sha256, "pw", 4096);
  REQUIRE(users.set_user("a,b=c", credentials));
  struct Case {
    std::string gs2;
    std::string bare_suffix;
    std::string final_extensions;
  };
  for (const Case& c : std::vector<Case>{{"n,,", "", ""},
                                         {"n,a=a=2Cb=3Dc,", "", ""},
                                         {"y,,", "", ""},
                                         {"n,,", ",x=anything,tokenauth=false", ",e=ext"}}) {
    INFO(c.gs2 << c.bare_suffix);
    ScramServer server(scram::Hash::sha256, NoncePolicy::strict);
    const std::string bare = "n=a=2Cb=3Dc,r=abc" + c.bare_suffix;
    const std::string server_first = expect<Challenge>(server.on_client_first(c.gs2 + bare, users)).server_first;
    CHECK(server.claimed_user() == "a,b=c");
    const std::string without_proof =
        "c=" + scram::base64_encode(c.gs2) + ",r=" + parse_server_first(server_first).nonce + c.final_extensions;
    const FinalStep step = server.on_client_final(client_final(scram::Hash::sha256, "pw", bare, server_first,
                                                               without_proof));
    CHECK(expect<Authenticated>(step).principal == "a,b=c");
  }
}

TEST_CASE("librdkafka < 2.6.1's repeated client nonce: accepted by default and flagged, refused when strict",
          "[scram_server]") {
  const UserStore users = rfc_store();
  for (const NoncePolicy policy : {NoncePolicy::accept_repeated_client_nonce, NoncePolicy::strict}) {
    ScramServer server(scram::Hash::sha256, policy, kServerNonce);
    const std::string server_first = expect<Challenge>(server.on_client_first(kClientFirst, users)).server_first;
    const std::string doubled = std::string(kClientNonce) + kClientNonce + kServerNonce;
    const std::string message = client_final(scram::Hash::sha256, "pencil", std::string(kClientFirst).substr(3),
                                             server_first, "c=biws,r=" + doubled);
    const FinalStep step = server.on_client_final(message);
    if (policy == NoncePolicy::strict) {
      CHECK(expect<Refused>(step).reason == AuthErrc::nonce_mismatch);
    } else {
      const Authenticated& ok = expect<Authenticated>(step);
      CHECK(ok.repeated_client_nonce);
      CHECK(ok.principal == "user");
    }
  }
  // Only that form: another prefix before the combined nonce is still refused.
  ScramServer server(scram::Hash::sha256, NoncePolicy::accept_repeated_client_nonce, kServerNonce);
  const std::string server_first = expect<Challenge>(server.on_client_first(kClientFirst, users)).server_first;
  const std::string other = std::string("XXXXXXXXXXXXXXXXXXXX") + kClientNonce + kServerNonce;
  CHECK(expect<Refused>(server.on_client_final(client_final(scram::Hash::sha256, "pencil",
                                                            std::string(kClientFirst).substr(3), server_first,
                                                            "c=biws,r=" + other)))
            .reason == AuthErrc::nonce_mismatch);
}

TEST_CASE("every malformed client-first is refused with its reason", "[scram_server]") {
  const UserStore users = rfc_store();
  struct Case {
    std::string message;
    AuthErrc reason;
  };
  const std::vector<Case> cases{
      {"", AuthErrc::malformed_message},
      {"n", AuthErrc::malformed_message},
      {"n,", AuthErrc::malformed_message},
      {"n,,", AuthErrc::malformed_message},
      {"x,,n=user,r=abc", AuthErrc::malformed_message},
      {"N,,n=user,r=abc", AuthErrc::malformed_message},
      {"p=tls-unique,,n=user,r=abc", AuthErrc::channel_binding_unsupported},
      {"p=tls-server-end-point,,n=user,r=abc", AuthErrc::channel_binding_unsupported},
      {"n,b=user,n=user,r=abc", AuthErrc::malformed_message},
      {"n,a=,n=user,r=abc", AuthErrc::invalid_username_encoding},
      {"n,a=other,n=user,r=abc", AuthErrc::authzid_mismatch},
      {"n,a=us=65r,n=user,r=abc", AuthErrc::invalid_username_encoding},
      {"n,,m=ext,n=user,r=abc", AuthErrc::mandatory_extension},
      {"n,,n=user,r=abc,m=ext", AuthErrc::mandatory_extension},
      {"n,,r=abc,n=user", AuthErrc::malformed_message},
      {"n,,n=user", AuthErrc::malformed_message},
      {"n,,n=user,", AuthErrc::malformed_message},
      {"n,,n=user,r=", AuthErrc::malformed_message},
      {"n,,n=user,r=a b", AuthErrc::malformed_message},
      {"n,,n=user,r=abc,", AuthErrc::malformed_message},
      {"n,,n=user,r=abc,1=x", AuthErrc::malformed_message},
      {"n,,n=user,r=abc,x=", AuthErrc::malformed_message},
      {"n,,n=user,r=abc,noequals", AuthErrc::malformed_message},
      {"n,,n=user,r=abc,tokenauth=true", AuthErrc::delegation_token_unsupported},
      {"n,,n=user,r=abc,tokenauth=TRUE", AuthErrc::delegation_token_unsupported},
      {"n,,n=,r=abc", AuthErrc::invalid_username_encoding},
      {"n,,n=us=2cer,r=abc", AuthErrc::invalid_username_encoding},
      {"n,,n=us=er,r=abc", AuthErrc::invalid_username_encoding},
      {"n,,n=user=,r=abc", AuthErrc::invalid_username_encoding},
      {"n,,n=\xff\xfe,r=abc", AuthErrc::invalid_username_encoding},
      {"n,,n=tab\there,r=abc", AuthErrc::invalid_username_encoding},
      {std::string("n,,n=nul\0x,r=abc", 16), AuthErrc::invalid_username_encoding},
      {"n,,n=" + std::string(256, 'u') + ",r=abc", AuthErrc::invalid_username_encoding},
      {"n,,n=user,r=" + std::string(257, 'r'), AuthErrc::malformed_message},
      {"n,,n=user,r=abc,x=" + std::string(ScramServer::kMaxMessageBytes, 'x'), AuthErrc::message_too_long},
  };
  for (const Case& c : cases) {
    INFO(c.message);
    CHECK(refusal_of_first(c.message, users) == c.reason);
  }
  // Exactly at the bounds is accepted.
  ScramServer server(scram::Hash::sha256);
  CHECK(std::holds_alternative<Challenge>(
      server.on_client_first("n,,n=" + std::string(255, 'u') + ",r=" + std::string(256, 'r'), users)));
}

TEST_CASE("every malformed or mismatched client-final is refused with its reason", "[scram_server]") {
  const UserStore users = rfc_store();
  const std::string nonce = std::string(kClientNonce) + kServerNonce;
  const std::string proof = "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
  struct Case {
    std::string message;
    AuthErrc reason;
  };
  const std::vector<Case> cases{
      {"", AuthErrc::malformed_message},
      {"c=biws", AuthErrc::malformed_message},
      {"c=biws,r=" + nonce, AuthErrc::malformed_message},
      {"c=biws,r=" + nonce + ",", AuthErrc::malformed_message},
      {"r=" + nonce + ",c=biws," + proof, AuthErrc::malformed_message},
      {"c=biws," + proof + ",r=" + nonce, AuthErrc::malformed_message},
      {"c=biws,r=" + nonce + "," + proof + ",x=y", AuthErrc::malformed_message},
      {"c=biws,r=" + nonce + ",1=y," + proof, AuthErrc::malformed_message},
      {"c=biws,r=" + nonce + ",m=y," + proof, AuthErrc::mandatory_extension},
      {"c=bi!s,r=" + nonce + "," + proof, AuthErrc::malformed_message},
      {"c=eSws,r=" + nonce + "," + proof, AuthErrc::channel_binding_mismatch},
      {"c=" + scram::base64_encode("n,a=user,") + ",r=" + nonce + "," + proof, AuthErrc::channel_binding_mismatch},
      {"c=,r=" + nonce + "," + proof, AuthErrc::channel_binding_mismatch},
      {"c=biws,r=" + std::string(kClientNonce) + "," + proof, AuthErrc::nonce_mismatch},
      {"c=biws,r=" + nonce + "x," + proof, AuthErrc::nonce_mismatch},
      {"c=biws,r=," + proof, AuthErrc::nonce_mismatch},
      {"c=biws,r=" + nonce + ",p=", AuthErrc::malformed_message},
      {"c=biws,r=" + nonce + ",p=dHzb", AuthErrc::malformed_message},
      {"c=biws,r=" + nonce + ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ", AuthErrc::malformed_message},
      {"c=biws,r=" + nonce + ",p=AHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", AuthErrc::wrong_password},
      {"c=biws,r=" + nonce + ",e=x=y,p=AHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", AuthErrc::wrong_password},
      {"c=biws,r=" + nonce + "," + proof + std::string(ScramServer::kMaxMessageBytes, 'A'),
       AuthErrc::message_too_long},
  };
  for (const Case& c : cases) {
    INFO(c.message);
    ScramServer server(scram::Hash::sha256, NoncePolicy::strict, kServerNonce);
    REQUIRE(std::holds_alternative<Challenge>(server.on_client_first(kClientFirst, users)));
    const FinalStep step = server.on_client_final(c.message);
    REQUIRE(std::holds_alternative<Refused>(step));
    CHECK(std::get<Refused>(step).reason == c.reason);
    CHECK(std::get<Refused>(step).server_final == "e=" + std::string(scram_error_value(c.reason)));
  }
}

TEST_CASE("messages out of order are refused and a conversation ends after its verdict", "[scram_server]") {
  const UserStore users = rfc_store();
  SECTION("client-final first") {
    ScramServer server(scram::Hash::sha256, NoncePolicy::strict, kServerNonce);
    CHECK(expect<Refused>(server.on_client_final(kClientFinal256)).reason == AuthErrc::out_of_order);
  }
  SECTION("client-first twice") {
    ScramServer server(scram::Hash::sha256, NoncePolicy::strict, kServerNonce);
    REQUIRE(std::holds_alternative<Challenge>(server.on_client_first(kClientFirst, users)));
    CHECK(expect<Refused>(server.on_client_first(kClientFirst, users)).reason == AuthErrc::out_of_order);
  }
  SECTION("anything after success") {
    ScramServer server(scram::Hash::sha256, NoncePolicy::strict, kServerNonce);
    REQUIRE(std::holds_alternative<Challenge>(server.on_client_first(kClientFirst, users)));
    REQUIRE(std::holds_alternative<Authenticated>(server.on_client_final(kClientFinal256)));
    CHECK(expect<Refused>(server.on_client_final(kClientFinal256)).reason == AuthErrc::out_of_order);
  }
  SECTION("a retry after a refusal") {
    ScramServer server(scram::Hash::sha256, NoncePolicy::strict, kServerNonce);
    REQUIRE(std::holds_alternative<Challenge>(server.on_client_first(kClientFirst, users)));
    REQUIRE(std::holds_alternative<Refused>(server.on_client_final("c=eSws,r=x,p=AAAA")));
    CHECK(expect<Refused>(server.on_client_final(kClientFinal256)).reason == AuthErrc::out_of_order);
  }
  SECTION("a refused client-first ends the conversation") {
    ScramServer server(scram::Hash::sha256, NoncePolicy::strict, kServerNonce);
    REQUIRE(std::holds_alternative<Refused>(server.on_client_first("p=x,,n=user,r=abc", users)));
    CHECK(expect<Refused>(server.on_client_first(kClientFirst, users)).reason == AuthErrc::out_of_order);
  }
}

TEST_CASE("an injected server nonce that is not printable is refused, not sent", "[scram_server]") {
  const UserStore users = rfc_store();
  ScramServer server(scram::Hash::sha256, NoncePolicy::strict, "bad,nonce");
  CHECK(expect<Refused>(server.on_client_first(kClientFirst, users)).reason == AuthErrc::no_resources);
}

TEST_CASE("every failure has a label, a SCRAM error value and a description", "[scram_server]") {
#define KEDGE_X(name, label_text, scram_error, text)                     \
  CHECK(label(AuthErrc::name) == label_text);                           \
  CHECK(scram_error_value(AuthErrc::name) == scram_error);              \
  CHECK_FALSE(describe(AuthErrc::name).empty());                        \
  CHECK(client_message(AuthErrc::name, "PLAIN").find("Authentication failed") == 0);
  KEDGE_AUTH_FAILURES(KEDGE_X)
#undef KEDGE_X
}
