// The users file (format and contracts in users_file.h).
#include "identity/users_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <utility>

#include <fmt/format.h>
#include <openssl/rand.h>

namespace kedge::identity {
namespace {

using nlohmann::json;
namespace sj = strict_json;

constexpr std::uint64_t kFormatVersion = 1;

std::string decode_base64_field(const json& value, const std::string& path, std::size_t min_bytes,
                                std::size_t max_bytes) {
  const std::string& text = sj::expect_string(value, path);
  std::optional<std::string> bytes = scram::base64_decode(text);
  if (!bytes) sj::fail(path, "is not canonical base64 (RFC 4648, with padding)");
  if (bytes->size() < min_bytes || bytes->size() > max_bytes) {
    sj::fail(path, min_bytes == max_bytes
                       ? fmt::format("decodes to {} bytes, expected {}", bytes->size(), min_bytes)
                       : fmt::format("decodes to {} bytes, expected {}..{}", bytes->size(), min_bytes, max_bytes));
  }
  return std::move(*bytes);
}

ScramCredential read_credential(const json& value, const std::string& path, scram::Hash hash) {
  const sj::ObjectReader object(value, path, {"salt", "iterations", "stored_key", "server_key"});
  ScramCredential credential;
  credential.salt = decode_base64_field(object.required("salt"), object.path_of("salt"), kMinSaltBytes, kMaxSaltBytes);
  credential.iterations = static_cast<std::uint32_t>(sj::expect_integer(
      object.required("iterations"), object.path_of("iterations"), scram::kMinIterations, scram::kMaxIterations));
  const std::size_t key_bytes = scram::digest_size(hash);
  credential.stored_key =
      decode_base64_field(object.required("stored_key"), object.path_of("stored_key"), key_bytes, key_bytes);
  credential.server_key =
      decode_base64_field(object.required("server_key"), object.path_of("server_key"), key_bytes, key_bytes);
  return credential;
}

UserCredentials read_user(const json& value, const std::string& path) {
  sj::expect_object(value, path);
  UserCredentials credentials;
  for (const auto& [mechanism, credential] : value.items()) {
    const std::optional<scram::Hash> hash = scram::hash_of_mechanism(mechanism);
    if (!hash) {
      sj::fail(sj::member_path(path, mechanism),
               "unknown mechanism (allowed here: SCRAM-SHA-256, SCRAM-SHA-512; PLAIN is checked against these)");
    }
    credentials[*hash] = read_credential(credential, sj::member_path(path, mechanism), *hash);
  }
  if (credentials.empty()) sj::fail(path, "a user needs at least one mechanism (SCRAM-SHA-256 or SCRAM-SHA-512)");
  return credentials;
}

json credential_json(const ScramCredential& credential) {
  return json{{"salt", scram::base64_encode(credential.salt)},
              {"iterations", credential.iterations},
              {"stored_key", scram::base64_encode(credential.stored_key)},
              {"server_key", scram::base64_encode(credential.server_key)}};
}

std::string random_bytes(std::size_t count) {
  std::string out(count, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(count)) != 1) return {};
  return out;
}

// `count` bytes of HMAC-SHA-512(secret, label || 0 || mechanism || 0 || name || counter) blocks.
std::optional<std::string> derive_bytes(std::string_view secret, std::string_view label, scram::Hash hash,
                                        std::string_view name, std::size_t count) {
  std::string out;
  for (unsigned char counter = 0; out.size() < count; ++counter) {
    std::string input(label);
    input += '\0';
    input += scram::mechanism_name(hash);
    input += '\0';
    input += name;
    input += static_cast<char>(counter);
    std::optional<std::string> block = scram::hmac(scram::Hash::sha512, secret, input);
    if (!block) return std::nullopt;
    out += *block;
  }
  out.resize(count);
  return out;
}

[[noreturn]] void fail_io(const std::filesystem::path& file, std::string_view what, int error) {
  throw FileError(fmt::format("{}: {}: {}", file.string(), what, std::strerror(error)));
}

}  // namespace

bool is_valid_user_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxUserNameBytes || !scram::is_utf8(name)) return false;
  for (const char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return false;
  }
  return true;
}

std::optional<ScramCredential> make_scram_credential(scram::Hash hash, std::string_view password,
                                                     std::uint32_t iterations) {
  if (iterations < scram::kMinIterations || iterations > scram::kMaxIterations) return std::nullopt;
  ScramCredential credential;
  credential.salt = random_bytes(kNewSaltBytes);
  if (credential.salt.empty()) return std::nullopt;
  credential.iterations = iterations;
  std::optional<scram::Keys> keys = scram::keys_from_password(hash, password, credential.salt, iterations);
  if (!keys) return std::nullopt;
  credential.stored_key = keys->stored_key;
  credential.server_key = keys->server_key;
  return credential;
}

UserStore UserStore::create() {
  UserStore store;
  store.unknown_user_secret_ = random_bytes(kUnknownUserSecretBytes);
  if (store.unknown_user_secret_.empty()) throw FileError("cannot create a users file: RAND_bytes failed");
  return store;
}

UserStore UserStore::parse(std::string_view text, std::string_view origin) {
  const json root = sj::parse(text, origin);
  const sj::ObjectReader top(root, "", {"version", "unknown_user_secret", "users"});
  const std::uint64_t version = sj::expect_integer(top.required("version"), top.path_of("version"), 0, UINT32_MAX);
  if (version != kFormatVersion) {
    sj::fail(top.path_of("version"), fmt::format("users file version {} is not supported (this kedge reads {})",
                                                 version, kFormatVersion));
  }
  UserStore store;
  store.unknown_user_secret_ =
      decode_base64_field(top.required("unknown_user_secret"), top.path_of("unknown_user_secret"),
                          kUnknownUserSecretBytes, kUnknownUserSecretBytes);
  const json& users = sj::expect_object(top.required("users"), top.path_of("users"));
  for (const auto& [name, credentials] : users.items()) {
    const std::string path = sj::member_path(top.path_of("users"), name);
    if (!is_valid_user_name(name)) {
      sj::fail(path, "a user name is 1..255 bytes of UTF-8 without control characters");
    }
    store.users_.emplace(name, read_user(credentials, path));
  }
  store.recompute_decoy_shapes();
  return store;
}

UserStore UserStore::load(const std::filesystem::path& file) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail_io(file, "cannot open the users file", errno);
  std::string text;
  char buffer[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error = errno;
      ::close(fd);
      fail_io(file, "cannot read the users file", error);
    }
    if (n == 0) break;
    if (text.size() + static_cast<std::size_t>(n) > kMaxUsersFileBytes) {
      ::close(fd);
      throw FileError(fmt::format("{}: the users file is larger than {} bytes", file.string(), kMaxUsersFileBytes));
    }
    text.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return parse(text, file.string());
}

std::string UserStore::serialize() const {
  json users = json::object();
  for (const auto& [name, credentials] : users_) {
    json mechanisms = json::object();
    for (const scram::Hash hash : scram::kHashes) {
      if (credentials[hash]) mechanisms[std::string(scram::mechanism_name(hash))] = credential_json(*credentials[hash]);
    }
    users[name] = std::move(mechanisms);
  }
  const json root{{"version", kFormatVersion},
                  {"unknown_user_secret", scram::base64_encode(unknown_user_secret_)},
                  {"users", std::move(users)}};
  return root.dump(2) + "\n";
}

void UserStore::save(const std::filesystem::path& file) const {
  const std::string text = serialize();
  const std::filesystem::path folder = file.parent_path().empty() ? std::filesystem::path(".") : file.parent_path();
  std::string temp = (folder / ("." + file.filename().string() + ".tmp-XXXXXX")).string();
  const int fd = ::mkostemp(temp.data(), O_CLOEXEC);  // mode 0600 (mkstemp's contract)
  if (fd < 0) fail_io(temp, "cannot create a temporary file beside the users file", errno);
  const auto abandon = [&](std::string_view what, int error) {
    ::close(fd);
    ::unlink(temp.c_str());
    fail_io(temp, what, error);
  };
  if (::fchmod(fd, S_IRUSR | S_IWUSR) != 0) abandon("cannot set mode 0600", errno);
  std::size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) abandon("cannot write", errno);
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) abandon("cannot fsync", errno);
  if (::close(fd) != 0) {
    const int error = errno;
    ::unlink(temp.c_str());
    fail_io(temp, "cannot close", error);
  }
  if (::rename(temp.c_str(), file.c_str()) != 0) {
    const int error = errno;
    ::unlink(temp.c_str());
    fail_io(file, "cannot replace the users file", error);
  }
  // The rename is durable once the folder is synced; failing that is not worth failing the command over.
  if (const int dir = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
}

const ScramCredential* UserStore::find(std::string_view name, scram::Hash hash) const {
  const auto it = users_.find(name);
  if (it == users_.end() || !it->second[hash]) return nullptr;
  return &*it->second[hash];
}

std::optional<ScramCredential> UserStore::decoy_credential(std::string_view name, scram::Hash hash) const {
  const DecoyShape& shape = decoy_shapes_[UserCredentials::index(hash)];
  ScramCredential decoy;
  decoy.iterations = shape.iterations;
  std::optional<std::string> salt = derive_bytes(unknown_user_secret_, "kedge decoy salt", hash, name, shape.salt_bytes);
  std::optional<std::string> stored =
      derive_bytes(unknown_user_secret_, "kedge decoy stored key", hash, name, scram::digest_size(hash));
  std::optional<std::string> server =
      derive_bytes(unknown_user_secret_, "kedge decoy server key", hash, name, scram::digest_size(hash));
  if (!salt || !stored || !server) return std::nullopt;
  decoy.salt = std::move(*salt);
  decoy.stored_key = std::move(*stored);
  decoy.server_key = std::move(*server);
  return decoy;
}

bool UserStore::set_user(const std::string& name, UserCredentials credentials) {
  if (!is_valid_user_name(name) || credentials.empty()) return false;
  users_.insert_or_assign(name, std::move(credentials));
  recompute_decoy_shapes();
  return true;
}

bool UserStore::remove_user(std::string_view name) {
  const auto it = users_.find(name);
  if (it == users_.end()) return false;
  users_.erase(it);
  recompute_decoy_shapes();
  return true;
}

void UserStore::recompute_decoy_shapes() {
  for (const scram::Hash hash : scram::kHashes) {
    std::map<std::pair<std::uint32_t, std::size_t>, std::size_t> counts;
    for (const auto& [name, credentials] : users_) {
      if (const auto& credential = credentials[hash]) ++counts[{credential->iterations, credential->salt.size()}];
    }
    DecoyShape shape;
    std::size_t best = 0;
    for (const auto& [key, count] : counts) shape.users += count;
    for (const auto& [key, count] : counts) {  // ascending keys: ">=" keeps the larger on a tie
      if (count >= best) {
        best = count;
        shape.iterations = key.first;
        shape.salt_bytes = key.second;
      }
    }
    decoy_shapes_[UserCredentials::index(hash)] = shape;
  }
}

}  // namespace kedge::identity
