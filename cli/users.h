#pragma once
// `kedge users add|remove|list`: manages the users file (identity/users_file.h) of SASL termination.
//
//   kedge users add NAME --file F [--mechanisms SCRAM-SHA-256,SCRAM-SHA-512] [--iterations N]
//                                 [--password-file P]
//   kedge users remove NAME --file F
//   kedge users list --file F
//
// The password never comes from argv (it would show in `ps` and shell history): it is the content of
// --password-file P, or standard input (a terminal is asked twice with echo off; a pipe is read whole), minus
// trailing CR/LF. It must be 1..255 bytes (RFC 4616 §2 bounds a PLAIN password at 255, and PLAIN is checked
// against the same credential) without NUL, CR or LF. `add` creates F when it does not exist and replaces an
// existing user's credentials entirely. Writes are atomic with mode 0600. `list` prints names, mechanisms
// and iteration counts, never salts or keys.
//
// Exit codes as every command (cli/commands.h): 0 done, 1 failure (unreadable or invalid file, no such user,
// bad password input), 2 usage error.
#include <cstdio>
#include <span>
#include <string_view>

namespace kedge::cli {

// `args` are the words after "users"; `standard_input` is where a password is read when there is no
// --password-file (stdin in the binary; tests pass a stream).
int users_command(std::span<const std::string_view> args, std::FILE* standard_input);

}  // namespace kedge::cli
