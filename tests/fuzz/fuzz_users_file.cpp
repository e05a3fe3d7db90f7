// libFuzzer target for the users-file loader (identity::UserStore::parse).
//
// Beyond "no crash, no sanitizer report" (an exception other than FileError escaping is a crash too):
//  - a file that loads serializes to a text that loads to an equal store, and serializing is stable;
//  - every loaded credential is within the documented bounds (salt 16..128 bytes, iterations
//    4096..16384, keys of |H| bytes) and every name is a valid user name.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "identity/users_file.h"

namespace {

using namespace kedge;
using namespace kedge::identity;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::optional<UserStore> users;
  try {
    users = UserStore::parse(text, "fuzz");
  } catch (const FileError&) {
    return 0;
  }
  for (const auto& [name, credentials] : users->users()) {
    check(is_valid_user_name(name) && !credentials.empty());
    for (const scram::Hash hash : scram::kHashes) {
      const auto& credential = credentials[hash];
      if (!credential) continue;
      check(credential->salt.size() >= kMinSaltBytes && credential->salt.size() <= kMaxSaltBytes);
      check(credential->iterations >= scram::kMinIterations && credential->iterations <= scram::kMaxIterations);
      check(credential->stored_key.size() == scram::digest_size(hash));
      check(credential->server_key.size() == scram::digest_size(hash));
    }
  }
  const std::string serialized = users->serialize();
  const UserStore again = UserStore::parse(serialized, "fuzz-serialized");
  check(again == *users);
  check(again.serialize() == serialized);
  return 0;
}
