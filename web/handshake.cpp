#include "web/handshake.h"


#include "common/ascii.h"
#include "common/base64.h"

namespace kedge::web {
namespace {

// RFC 9110 §5.6.3: OWS = *( SP / HTAB ).
std::string_view trim_ows(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// Whether a comma-separated list (RFC 9110 §5.6.1, empty elements allowed)
// holds `token`, compared case-insensitively.
bool list_contains(std::string_view list, std::string_view token) {
  while (true) {
    const std::size_t comma = list.find(',');
    if (kedge::ascii::iequals(trim_ows(list.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) return false;
    list.remove_prefix(comma + 1);
  }
}

struct Occurrences {
  std::size_t count = 0;
  std::string_view first;  // trimmed value of the first occurrence
  bool any_contains = false;  // for list fields: some occurrence contains the token asked for
};

Occurrences find_field(std::span<const HeaderField> headers, std::string_view name,
                       std::string_view token = {}) {
  Occurrences found;
  for (const HeaderField& field : headers) {
    if (!kedge::ascii::iequals(field.name, name)) continue;
    if (found.count++ == 0) found.first = trim_ows(field.value);
    if (!token.empty() && list_contains(field.value, token)) found.any_contains = true;
  }
  return found;
}

}  // namespace

bool is_websocket_key(std::string_view value) {
  // 16 bytes = 128 bits = 21 characters of 6 bits + 2 bits in a 22nd, then "==".
  if (value.size() != 24 || value[22] != '=' || value[23] != '=') return false;
  for (std::size_t i = 0; i < 22; ++i) {
    if (base64::sextet(value[i]) < 0) return false;
  }
  return (base64::sextet(value[21]) & 0x0F) == 0;
}

UpgradeCheck check_upgrade_request(std::span<const HeaderField> headers) {
  const auto refuse = [](HandshakeProblem problem) { return UpgradeCheck{UpgradeRefused{problem}}; };

  const Occurrences host = find_field(headers, "Host");
  if (host.count == 0) return refuse(HandshakeProblem::missing_host);
  if (host.count > 1) return refuse(HandshakeProblem::duplicate_host);

  const Occurrences upgrade = find_field(headers, "Upgrade", "websocket");
  if (upgrade.count == 0) return refuse(HandshakeProblem::missing_upgrade);
  if (!upgrade.any_contains) return refuse(HandshakeProblem::upgrade_not_websocket);

  const Occurrences connection = find_field(headers, "Connection", "upgrade");
  if (connection.count == 0) return refuse(HandshakeProblem::missing_connection);
  if (!connection.any_contains) return refuse(HandshakeProblem::connection_without_upgrade);

  const Occurrences version = find_field(headers, "Sec-WebSocket-Version");
  if (version.count == 0) return refuse(HandshakeProblem::missing_version);
  if (version.count > 1) return refuse(HandshakeProblem::duplicate_version);
  if (version.first != "13") return refuse(HandshakeProblem::unsupported_version);

  const Occurrences key = find_field(headers, "Sec-WebSocket-Key");
  if (key.count == 0) return refuse(HandshakeProblem::missing_key);
  if (key.count > 1) return refuse(HandshakeProblem::duplicate_key);
  if (!is_websocket_key(key.first)) return refuse(HandshakeProblem::malformed_key);

  return UpgradeAccepted{key.first};
}

}  // namespace kedge::web
