// SASL PLAIN (RFC 4616) against the stored SCRAM credentials.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "identity/plain.h"
#include "identity_fixture.h"

using namespace kedge;
using namespace kedge::identity;
using namespace kedge::identity::testing;

namespace {

std::string plain(std::string_view authzid, std::string_view authcid, std::string_view password) {
  std::string message(authzid);
  message += '\0';
  message += authcid;
  message += '\0';
  message += password;
  return message;
}

AuthErrc refusal(const FinalStep& step) {
  REQUIRE(std::holds_alternative<Refused>(step));
  CHECK(std::get<Refused>(step).server_final.empty());
  return std::get<Refused>(step).reason;
}

}  // namespace

TEST_CASE("PLAIN: the right password for the RFC 7677 user authenticates", "[plain]") {
  const UserStore users = rfc_store();
  for (const std::string& message : {plain("", "user", "pencil"), plain("user", "user", "pencil")}) {
    const FinalStep step = authenticate_plain(message, users);
    REQUIRE(std::holds_alternative<Authenticated>(step));
    CHECK(std::get<Authenticated>(step).principal == "user");
    CHECK(std::get<Authenticated>(step).server_final.empty());
  }
}

TEST_CASE("PLAIN: a wrong password and an unknown user are refused alike", "[plain]") {
  const UserStore users = rfc_store();
  const FinalStep wrong = authenticate_plain(plain("", "user", "pencil2"), users);
  const FinalStep unknown = authenticate_plain(plain("", "nobody", "pencil"), users);
  CHECK(refusal(wrong) == AuthErrc::wrong_password);
  CHECK(refusal(unknown) == AuthErrc::unknown_user);
  CHECK(client_message(AuthErrc::wrong_password, "PLAIN") == client_message(AuthErrc::unknown_user, "PLAIN"));
}

TEST_CASE("PLAIN: a user with only SCRAM-SHA-512 is checked against it", "[plain]") {
  UserStore users = UserStore::create();
  UserCredentials only512;
  only512[scram::Hash::sha512] = make_scram_credential(scram::Hash::sha512, "long enough", 4096);
  REQUIRE(users.set_user("carol", only512));
  CHECK(std::holds_alternative<Authenticated>(authenticate_plain(plain("", "carol", "long enough"), users)));
  CHECK(refusal(authenticate_plain(plain("", "carol", "long enougH"), users)) == AuthErrc::wrong_password);
  CHECK(refusal(authenticate_plain(plain("", "dave", "long enough"), users)) == AuthErrc::unknown_user);
}

TEST_CASE("PLAIN: every malformed message is refused with its reason", "[plain]") {
  const UserStore users = rfc_store();
  struct Case {
    std::string message;
    AuthErrc reason;
  };
  const std::vector<Case> cases{
      {"", AuthErrc::malformed_message},
      {"userpencil", AuthErrc::malformed_message},
      {std::string("user\0pencil", 11), AuthErrc::malformed_message},
      {plain("", "", "pencil"), AuthErrc::malformed_message},
      {plain("", "user", ""), AuthErrc::malformed_message},
      {plain("", "user", std::string("pen\0cil", 7)), AuthErrc::malformed_message},
      {plain(std::string(256, 'a'), "user", "pencil"), AuthErrc::malformed_message},
      {plain("", std::string(256, 'u'), "pencil"), AuthErrc::malformed_message},
      {plain("", "user", std::string(256, 'p')), AuthErrc::malformed_message},
      {plain("other", "user", "pencil"), AuthErrc::authzid_mismatch},
      {plain("", "us\ner", "pencil"), AuthErrc::invalid_username_encoding},
      {plain("", "\xff", "pencil"), AuthErrc::invalid_username_encoding},
      {std::string(kMaxPlainMessageBytes + 1, 'x'), AuthErrc::message_too_long},
  };
  for (const Case& c : cases) {
    INFO(c.message);
    const auto parsed = parse_plain(c.message);
    REQUIRE(std::holds_alternative<AuthErrc>(parsed));
    CHECK(std::get<AuthErrc>(parsed) == c.reason);
    CHECK(refusal(authenticate_plain(c.message, users)) == c.reason);
  }
}

TEST_CASE("PLAIN: fields of exactly 255 bytes parse, as views into the message", "[plain]") {
  const std::string name(255, 'u'), password(255, 'p');
  const std::string message = plain(name, name, password);
  REQUIRE(message.size() == kMaxPlainMessageBytes);
  const auto parsed = parse_plain(message);
  REQUIRE(std::holds_alternative<PlainMessage>(parsed));
  const PlainMessage& fields = std::get<PlainMessage>(parsed);
  CHECK(fields.authzid == name);
  CHECK(fields.authcid == name);
  CHECK(fields.password == password);
  CHECK(fields.password.data() == message.data() + 512);
}
