// Tokens and JWKS made by another implementation (PyJWT over pyca/cryptography, make_python_tokens.py,
// run at test time with fresh keys) verify, or are refused for the reason their case names.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "identity/jwks.h"
#include "identity/jwt.h"

using namespace kedge::identity;

namespace {

constexpr std::int64_t kNow = 1'800'000'000;

std::string read(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

TEST_CASE("PyJWT tokens against a PyJWT JWKS", "[jwt][python]") {
  const auto dir = std::filesystem::temp_directory_path() / ("kedge-pyjwt-" + std::to_string(::getpid()));
  const std::string command =
      std::string("/usr/bin/python3 '") + KEDGE_IDENTITY_PY_TOKENS + "' '" + dir.string() + "' " + std::to_string(kNow);
  REQUIRE(std::system(command.c_str()) == 0);
  const KeySet keys = KeySet::load_file(dir / "jwks.json");
  const auto tokens = nlohmann::json::parse(read(dir / "tokens.json"));
  std::filesystem::remove_all(dir);
  REQUIRE(keys.keys().size() == 2);

  JwtPolicy policy;
  policy.issuer = "https://py.example";
  policy.audiences = {"kedge"};

  const std::vector<std::pair<const char*, std::optional<JwtRefusal>>> cases = {
      {"valid_rs256", std::nullopt},
      {"valid_es256", std::nullopt},
      {"expired_es256", JwtRefusal::expired},
      {"not_yet_valid_rs256", JwtRefusal::not_yet_valid},
      {"wrong_audience_rs256", JwtRefusal::wrong_audience},
      {"wrong_issuer_es256", JwtRefusal::wrong_issuer},
      {"other_key_es256", JwtRefusal::bad_signature},
      {"unknown_kid_rs256", JwtRefusal::unknown_key_id},
      {"hs256", JwtRefusal::unsupported_algorithm},
      {"none", JwtRefusal::unsupported_algorithm},
  };
  for (const auto& [name, expected] : cases) {
    CAPTURE(name);
    const auto result = verify_jwt(tokens.at(name).get<std::string>(), keys, policy, kNow);
    if (!expected) {
      REQUIRE(std::holds_alternative<VerifiedJwt>(result));
      CHECK(std::get<VerifiedJwt>(result).principal == "py-user");
      CHECK(std::get<VerifiedJwt>(result).expires_at == kNow + 600);
    } else {
      REQUIRE(std::holds_alternative<JwtFailure>(result));
      CHECK(std::get<JwtFailure>(result).reason == *expected);
    }
  }
}
