// `kedge users` (contracts in users.h).
#include "cli/users.h"

#include <termios.h>
#include <unistd.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <openssl/crypto.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "identity/users_file.h"

namespace kedge::cli {
namespace {

constexpr std::size_t kMaxPasswordBytes = 255;
// Input read before deciding a password is too long (so "too long" is reported, not silently cut).
constexpr std::size_t kMaxPasswordInputBytes = 4096;

int usage(const std::string& problem) {
  std::fprintf(stderr, "kedge users: %s (see kedge --help)\n", problem.c_str());
  return kExitUsage;
}

int failure(const std::string& problem) {
  std::fprintf(stderr, "kedge users: %s\n", problem.c_str());
  return kExitFailure;
}

// A string that is wiped when it goes away.
struct Secret {
  std::string text;
  Secret() = default;
  Secret(const Secret&) = delete;
  Secret& operator=(const Secret&) = delete;
  ~Secret() { OPENSSL_cleanse(text.data(), text.size()); }
};

// Reads all of `in` up to kMaxPasswordInputBytes + 1 bytes.
bool read_all(std::FILE* in, Secret& out) {
  char buffer[512];
  while (out.text.size() <= kMaxPasswordInputBytes) {
    const std::size_t n = std::fread(buffer, 1, sizeof buffer, in);
    out.text.append(buffer, n);
    if (n < sizeof buffer) break;
  }
  OPENSSL_cleanse(buffer, sizeof buffer);
  return !std::ferror(in);
}

void strip_line_end(std::string& text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
    text.back() = '\0';
    text.pop_back();
  }
}

// One line from a terminal with echo off (prompt on stderr); false on EOF before any byte.
bool read_hidden_line(std::FILE* in, const char* prompt, Secret& out) {
  std::fputs(prompt, stderr);
  std::fflush(stderr);
  const int fd = fileno(in);
  termios saved{};
  const bool have_terminal = ::tcgetattr(fd, &saved) == 0;
  if (have_terminal) {
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    quiet.c_lflag |= ECHONL;
    ::tcsetattr(fd, TCSAFLUSH, &quiet);
  }
  bool ok = true;
  for (;;) {
    const int c = std::fgetc(in);
    if (c == EOF) {
      ok = !out.text.empty();
      break;
    }
    if (c == '\n') break;
    if (out.text.size() > kMaxPasswordInputBytes) continue;  // keep draining the line; reported as too long
    out.text.push_back(static_cast<char>(c));
  }
  if (have_terminal) ::tcsetattr(fd, TCSAFLUSH, &saved);
  return ok;
}

// Why `password` cannot be stored, or nullopt.
std::optional<std::string> problem_with(const std::string& password) {
  if (password.empty()) return "the password is empty";
  if (password.size() > kMaxPasswordBytes) {
    return "the password is longer than 255 bytes (RFC 4616 bounds a PLAIN password at 255, and PLAIN is checked "
           "against the same credential)";
  }
  if (password.find_first_of(std::string_view("\0\r\n", 3)) != std::string::npos) {
    return "the password contains a NUL, CR or LF (a password file must hold one line)";
  }
  return std::nullopt;
}

// The password from --password-file or standard input, checked; kExitOk, or kExitFailure after printing why not.
int read_password(const std::optional<std::string>& password_file, std::FILE* standard_input, const std::string& name,
                  Secret& password) {
  if (password_file) {
    std::FILE* file = std::fopen(password_file->c_str(), "rb");
    if (file == nullptr) return failure("cannot read the password file " + *password_file);
    const bool ok = read_all(file, password);
    std::fclose(file);
    if (!ok) return failure("cannot read the password file " + *password_file);
    strip_line_end(password.text);
  } else if (::isatty(fileno(standard_input)) == 1) {
    Secret again;
    if (!read_hidden_line(standard_input, ("Password for " + name + ": ").c_str(), password) ||
        !read_hidden_line(standard_input, "Retype the password: ", again)) {
      return failure("no password given on standard input");
    }
    strip_line_end(password.text);
    strip_line_end(again.text);
    if (password.text != again.text) return failure("the two passwords differ; nothing changed");
  } else {
    if (!read_all(standard_input, password)) return failure("cannot read the password from standard input");
    strip_line_end(password.text);
  }
  if (const auto problem = problem_with(password.text)) return failure(*problem + "; nothing changed");
  return kExitOk;
}

std::string mechanisms_text(const identity::UserCredentials& credentials, bool with_iterations) {
  std::string text;
  for (const scram::Hash hash : scram::kHashes) {
    if (!credentials[hash]) continue;
    text += text.empty() ? "" : ", ";
    text += scram::mechanism_name(hash);
    if (with_iterations) text += " (" + std::to_string(credentials[hash]->iterations) + " iterations)";
  }
  return text;
}

// The users file at `path`, or nullopt after printing why not.
std::optional<identity::UserStore> load(const std::string& path) {
  try {
    return identity::UserStore::load(path);
  } catch (const FileError& e) {
    failure(e.what());
    return std::nullopt;
  }
}

int save(const identity::UserStore& users, const std::string& path) {
  try {
    users.save(path);
    return kExitOk;
  } catch (const FileError& e) {
    return failure(e.what());
  }
}

int add(std::string_view name, std::span<const std::string_view> words, std::FILE* standard_input) {
  static constexpr OptionSpec kOptions[] = {
      {"--file", {}, true}, {"--mechanisms", {}, true}, {"--iterations", {}, true}, {"--password-file", {}, true}};
  std::string error;
  const std::optional<Args> args = Args::parse(words, kOptions, error);
  if (!args) return usage(error);
  const std::optional<std::string> path = args->value("--file");
  if (!path) return usage("--file F is required");
  if (!identity::is_valid_user_name(name)) {
    return usage("a user name is 1..255 bytes of UTF-8 without control characters");
  }
  std::vector<scram::Hash> hashes;
  const std::string mechanisms = args->value("--mechanisms").value_or("SCRAM-SHA-256,SCRAM-SHA-512");
  for (std::size_t start = 0; start <= mechanisms.size();) {
    const std::size_t comma = std::min(mechanisms.find(',', start), mechanisms.size());
    const std::string_view item = std::string_view(mechanisms).substr(start, comma - start);
    const std::optional<scram::Hash> hash = scram::hash_of_mechanism(item);
    if (!hash) return usage("--mechanisms takes SCRAM-SHA-256 and/or SCRAM-SHA-512, comma-separated");
    hashes.push_back(*hash);
    start = comma + 1;
  }
  bool ok = true;
  const auto iterations = args->integer("--iterations", scram::kMinIterations, scram::kMaxIterations, ok);
  if (!ok) return usage("--iterations takes 4096..16384 (RFC 7677 minimum .. Kafka's maximum)");

  std::optional<identity::UserStore> users;
  std::error_code ec;
  if (std::filesystem::exists(*path, ec)) {
    users = load(*path);
    if (!users) return kExitFailure;
  } else {
    try {
      users = identity::UserStore::create();
    } catch (const FileError& e) {
      return failure(e.what());
    }
  }
  Secret password;
  if (const int status = read_password(args->value("--password-file"), standard_input, std::string(name), password);
      status != kExitOk) {
    return status;
  }
  identity::UserCredentials credentials;
  for (const scram::Hash hash : hashes) {
    credentials[hash] = identity::make_scram_credential(
        hash, password.text, static_cast<std::uint32_t>(iterations.value_or(scram::kMinIterations)));
    if (!credentials[hash]) return failure("cannot derive the credential (RAND_bytes or a digest failed)");
  }
  const bool existed = users->users().find(name) != users->users().end();
  users->set_user(std::string(name), credentials);
  if (const int status = save(*users, *path); status != kExitOk) return status;
  std::printf("%s user %.*s in %s: %s\n", existed ? "replaced the credentials of" : "added",
              static_cast<int>(name.size()), name.data(), path->c_str(),
              mechanisms_text(credentials, true).c_str());
  return kExitOk;
}

// The words of `remove` and `list`: exactly --file F.
int file_argument(std::span<const std::string_view> words, std::string& path) {
  static constexpr OptionSpec kOptions[] = {{"--file", {}, true}};
  std::string error;
  const std::optional<Args> args = Args::parse(words, kOptions, error);
  if (!args) return usage(error);
  const std::optional<std::string> file = args->value("--file");
  if (!file) return usage("--file F is required");
  path = *file;
  return kExitOk;
}

int remove(std::string_view name, std::span<const std::string_view> words) {
  std::string path;
  if (const int status = file_argument(words, path); status != kExitOk) return status;
  std::optional<identity::UserStore> users = load(path);
  if (!users) return kExitFailure;
  if (!users->remove_user(name)) {
    return failure("there is no user " + std::string(name) + " in " + path + "; nothing changed");
  }
  if (const int status = save(*users, path); status != kExitOk) return status;
  std::printf("removed user %.*s from %s\n", static_cast<int>(name.size()), name.data(), path.c_str());
  return kExitOk;
}

int list(std::span<const std::string_view> words) {
  std::string path;
  if (const int status = file_argument(words, path); status != kExitOk) return status;
  const std::optional<identity::UserStore> users = load(path);
  if (!users) return kExitFailure;
  if (users->users().empty()) std::printf("no users in %s\n", path.c_str());
  for (const auto& [name, credentials] : users->users()) {
    std::printf("%s\t%s\n", name.c_str(), mechanisms_text(credentials, true).c_str());
  }
  return kExitOk;
}

}  // namespace

int users_command(std::span<const std::string_view> words) { return users_command(words, stdin); }

int users_command(std::span<const std::string_view> words, std::FILE* standard_input) {
  if (words.empty()) return usage("missing subcommand (add, remove or list)");
  const std::string_view subcommand = words[0];
  if (subcommand == "list") return list(words.subspan(1));
  if (subcommand != "add" && subcommand != "remove") {
    return usage("unknown subcommand '" + std::string(subcommand) + "' (add, remove or list)");
  }
  if (words.size() < 2 || words[1].starts_with("-")) return usage(std::string(subcommand) + " needs a user NAME");
  const std::string_view name = words[1];
  if (subcommand == "add") return add(name, words.subspan(2), standard_input);
  return remove(name, words.subspan(2));
}

}  // namespace kedge::cli
