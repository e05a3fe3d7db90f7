// libFuzzer target for identity's SASL PLAIN (RFC 4616): parse_plain and authenticate_plain.
//
// The store holds "user" / "pencil" with 1 PBKDF2 iteration (built in memory: the users file would refuse
// fewer than 4096), so every input can run the whole check quickly.
//
// Beyond "no crash, no sanitizer report" it traps on broken contracts:
//  - a parsed message's three fields are views that rebuild the input exactly, each within 255 bytes, with
//    no NUL, a non-empty authcid and password, and an authzid empty or equal to authcid;
//  - parse refusals and authenticate_plain refusals agree;
//  - Authenticated only for "user" with the password "pencil".
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "identity/plain.h"

namespace {

using namespace kedge;
using namespace kedge::identity;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

const UserStore& store() {
  static const UserStore users = [] {
    UserStore built = UserStore::parse(
        R"({"version": 1, "unknown_user_secret": "a2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2s=", "users": {}})", "fuzz");
    const std::string salt = "0123456789abcdef";
    UserCredentials credentials;
    for (const scram::Hash hash : scram::kHashes) {
      const auto keys = scram::keys_from_password(hash, "pencil", salt, 1);
      credentials[hash] = ScramCredential{salt, 1, keys->stored_key, keys->server_key};
    }
    built.set_user("user", credentials);
    return built;
  }();
  return users;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto parsed = parse_plain(input);
  const FinalStep verdict = authenticate_plain(input, store());
  if (const auto* refusal = std::get_if<AuthErrc>(&parsed)) {
    check(std::holds_alternative<Refused>(verdict) && std::get<Refused>(verdict).reason == *refusal);
    return 0;
  }
  const PlainMessage& fields = std::get<PlainMessage>(parsed);
  std::string rebuilt(fields.authzid);
  rebuilt += '\0';
  rebuilt += fields.authcid;
  rebuilt += '\0';
  rebuilt += fields.password;
  check(rebuilt == input);
  for (const std::string_view field : {fields.authzid, fields.authcid, fields.password}) {
    check(field.size() <= kMaxPlainFieldBytes && field.find('\0') == std::string_view::npos);
  }
  check(!fields.authcid.empty() && !fields.password.empty());
  check(fields.authzid.empty() || fields.authzid == fields.authcid);
  if (const auto* ok = std::get_if<Authenticated>(&verdict)) {
    check(ok->principal == "user" && fields.authcid == "user" && fields.password == "pencil");
  } else {
    const AuthErrc reason = std::get<Refused>(verdict).reason;
    check(reason == AuthErrc::unknown_user || reason == AuthErrc::wrong_password);
    check((reason == AuthErrc::unknown_user) == (fields.authcid != "user"));
  }
  return 0;
}
