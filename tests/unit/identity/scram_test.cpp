// SCRAM primitives: key derivation against RFC 7677's example, strict base64, saslname escaping, UTF-8.
#include <catch2/catch.hpp>

#include <string>

#include "identity/scram.h"
#include "identity_fixture.h"

using namespace kedge;
using namespace kedge::identity::testing;

TEST_CASE("keys_from_password derives RFC 7677's StoredKey and ServerKey for SHA-256 and SHA-512", "[scram]") {
  const std::string salt = *scram::base64_decode(kSalt);
  for (const auto& [hash, stored, server] : {std::tuple{scram::Hash::sha256, kStoredKey256, kServerKey256},
                                             std::tuple{scram::Hash::sha512, kStoredKey512, kServerKey512}}) {
    // when
    const auto keys = scram::keys_from_password(hash, "pencil", salt, 4096);
    // then
    REQUIRE(keys);
    CHECK(scram::base64_encode(keys->stored_key) == stored);
    CHECK(scram::base64_encode(keys->server_key) == server);
    CHECK(keys->client_key.size() == scram::digest_size(hash));
    CHECK(*scram::digest(hash, keys->client_key) == keys->stored_key);
  }
}

TEST_CASE("salted_password refuses zero iterations", "[scram]") {
  CHECK_FALSE(scram::salted_password(scram::Hash::sha256, "pencil", "salt", 0));
}

TEST_CASE("mechanism names map both ways", "[scram]") {
  CHECK(scram::mechanism_name(scram::Hash::sha256) == "SCRAM-SHA-256");
  CHECK(scram::mechanism_name(scram::Hash::sha512) == "SCRAM-SHA-512");
  CHECK(scram::hash_of_mechanism("SCRAM-SHA-512") == scram::Hash::sha512);
  CHECK_FALSE(scram::hash_of_mechanism("scram-sha-256"));
  CHECK_FALSE(scram::hash_of_mechanism("PLAIN"));
}

TEST_CASE("base64 round-trips every length and decodes canonically only", "[scram]") {
  std::string bytes;
  for (int i = 0; i < 70; ++i) {
    CHECK(scram::base64_decode(scram::base64_encode(bytes)) == bytes);
    bytes += static_cast<char>(i * 37 + 11);
  }
  CHECK(scram::base64_encode("n,,") == "biws");
  CHECK(scram::base64_encode("y,,") == "eSws");
  CHECK(scram::base64_decode("") == std::string());
  CHECK(scram::base64_decode("QQ==") == std::string("A"));
  CHECK(scram::base64_decode("QUI=") == std::string("AB"));
  for (const char* bad : {"Q", "QQ=", "QR==", "QUJ=", "QQ==QQ==", "Q===", "====", "QU I", "QUI\n", "QUI-", "QU=I"}) {
    INFO(bad);
    CHECK_FALSE(scram::base64_decode(bad));
  }
  CHECK_FALSE(scram::base64_decode(std::string_view("QUI\0", 4)));
}

TEST_CASE("saslname escaping (RFC 5802 §5.1)", "[scram]") {
  CHECK(scram::escape_saslname("a,b=c") == "a=2Cb=3Dc");
  CHECK(scram::unescape_saslname("a=2Cb=3Dc") == std::string("a,b=c"));
  CHECK(scram::unescape_saslname("user") == std::string("user"));
  CHECK(scram::unescape_saslname("=3D=2C") == std::string("=,"));
  for (const char* bad : {"", "a=2c", "a=3d", "a=", "a=2", "a=41", "a,b", "=", "\xff", "\xc0\x80"}) {
    INFO(bad);
    CHECK_FALSE(scram::unescape_saslname(bad));
  }
  CHECK_FALSE(scram::unescape_saslname(std::string_view("a\0b", 3)));
}

TEST_CASE("UTF-8 validation refuses overlong forms, surrogates and truncation", "[scram]") {
  CHECK(scram::is_utf8("plain ascii"));
  CHECK(scram::is_utf8("\xc3\xa9t\xc3\xa9"));         // été
  CHECK(scram::is_utf8("\xf0\x9f\x94\x91"));          // U+1F511
  CHECK_FALSE(scram::is_utf8("\xc0\xaf"));            // overlong '/'
  CHECK_FALSE(scram::is_utf8("\xe0\x80\xaf"));        // overlong, 3 bytes
  CHECK_FALSE(scram::is_utf8("\xed\xa0\x80"));        // surrogate U+D800
  CHECK_FALSE(scram::is_utf8("\xf4\x90\x80\x80"));    // beyond U+10FFFF
  CHECK_FALSE(scram::is_utf8("\xc3"));                // truncated
  CHECK_FALSE(scram::is_utf8("\x80"));                // lone continuation
}

TEST_CASE("nonces are printable without commas, and random ones are fresh", "[scram]") {
  CHECK(scram::is_printable_nonce(kServerNonce));
  CHECK_FALSE(scram::is_printable_nonce(""));
  CHECK_FALSE(scram::is_printable_nonce("a,b"));
  CHECK_FALSE(scram::is_printable_nonce("a b"));
  CHECK_FALSE(scram::is_printable_nonce("a\x7f"));
  const std::string a = scram::random_nonce(), b = scram::random_nonce();
  CHECK(a.size() == 32);
  CHECK(scram::is_printable_nonce(a));
  CHECK(a != b);
}

TEST_CASE("equal_secrets and xor_bytes", "[scram]") {
  CHECK(scram::equal_secrets("abc", "abc"));
  CHECK_FALSE(scram::equal_secrets("abc", "abd"));
  CHECK_FALSE(scram::equal_secrets("abc", "abcd"));
  CHECK(scram::xor_bytes("\x01\x02", "\x03\x02") == std::string("\x02\x00", 2));
  CHECK_FALSE(scram::xor_bytes("a", "ab"));
}
