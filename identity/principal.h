#pragma once
// What every authentication mechanism hands the gateway: a principal name, checked once here so that mTLS,
// OAUTHBEARER (and the SASL users file) agree on what a name may contain before it reaches a log line, a
// metric label or a binding match.
//
// Nothing here allocates beyond the returned strings; nothing throws except std::bad_alloc from them, which
// the callers on the authentication path catch at their own boundary.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace kedge::identity {

// A principal longer than this is refused. Kafka has no limit, but a principal ends up in access-log lines,
// /v1/state and error messages; 1 KiB holds any real DN, e-mail address or `sub` claim.
inline constexpr std::size_t kMaxPrincipalLength = 1024;

// Why `name` cannot be a principal, or nullopt when it can: empty, longer than kMaxPrincipalLength, or
// holding a control byte (0x00-0x1F, 0x7F), which could forge log lines. Bytes >= 0x80 are allowed
// (UTF-8 names such as a CN "Zoë"); the text never echoes the name itself.
std::optional<std::string_view> principal_problem(std::string_view name) noexcept;

// `text` made safe to put in a log line or an error: at most `max_bytes` of it, every byte outside printable
// ASCII (0x20-0x7E) written as \xNN, a backslash as "\\", and "..." appended when cut. For names and claim
// values (an issuer, a kid) in refusal details; never call it on a token or a secret.
std::string printable_excerpt(std::string_view text, std::size_t max_bytes = 64);

}  // namespace kedge::identity
