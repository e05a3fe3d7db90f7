// libFuzzer target for sni::parse_client_hello and HostnameMapper::identify.
// Seed corpus: tests/data/client_hello/ (real captures, see its README.md).
//
// Beyond "no crash, no sanitizer report" it traps on broken contracts:
//  - a Found name is non-empty, at most 255 bytes, [a-z0-9._-] only, with no
//    empty label and no trailing dot;
//  - a Found ALPN list holds at most kMaxAlpnProtocols names of 1..255 bytes,
//    and offers_protocol agrees with it;
//  - NeedMore is only returned while fewer than max_bytes have arrived;
//  - verdicts are stable: once a prefix has a verdict, the whole input has the
//    same one (the gateway acts on the first verdict it sees);
//  - a name identify() recognises is exactly the name the mapper generates
//    for that target (ids are canonical, names lower-case).
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <variant>

#include "sni/client_hello.h"
#include "sni/hostname.h"

namespace {

using kedge::sni::HelloResult;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

bool same_verdict(const HelloResult& a, const HelloResult& b) {
  if (a.index() != b.index()) return false;
  if (const auto* found = std::get_if<kedge::sni::Found>(&a)) {
    const auto& other = std::get<kedge::sni::Found>(b);
    return found->name == other.name && found->alpn == other.alpn;
  }
  if (const auto* malformed = std::get_if<kedge::sni::Malformed>(&a)) {
    return malformed->reason == std::get<kedge::sni::Malformed>(b).reason;
  }
  return true;
}

bool valid_found_name(const std::string& name) {
  if (name.empty() || name.size() > 255 || name.front() == '.' || name.back() == '.') return false;
  if (name.find("..") != std::string::npos) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
    if (!ok) return false;
  }
  return true;
}

bool valid_alpn(const kedge::sni::Found& found) {
  if (found.alpn.size() > kedge::sni::kMaxAlpnProtocols) return false;
  for (const std::string& protocol : found.alpn) {
    if (protocol.empty() || protocol.size() > 255) return false;
    if (!kedge::sni::offers_protocol(found, protocol)) return false;
  }
  return !kedge::sni::offers_protocol(found, "");
}

const kedge::sni::HostnameMapper& mapper() {
  static const kedge::sni::HostnameMapper instance = [] {
    kedge::sni::HostnameMapper m;
    check(m.add_cluster({"alpha", kedge::sni::HostnameFormat::subdomain, "kafka.example.com"}).empty());
    check(m.add_cluster({"beta", kedge::sni::HostnameFormat::shared_suffix, "kafka.example.com"}).empty());
    check(m.add_cluster({"team-a-prod", kedge::sni::HostnameFormat::shared_suffix, "example.com"}).empty());
    return m;
  }();
  return instance;
}

// `exact`: the name is already normalised (a Found name), so the generated
// host must equal it; otherwise the generated host must identify the same way.
void check_identify(const std::string& name, bool exact) {
  const kedge::sni::Target target = mapper().identify(name);
  std::string generated;
  if (std::holds_alternative<kedge::sni::Bootstrap>(target.role)) {
    generated = mapper().bootstrap_host(target.cluster);
  } else if (std::holds_alternative<kedge::sni::Http>(target.role)) {
    generated = mapper().http_host(target.cluster);
  } else if (const auto* node = std::get_if<kedge::sni::Node>(&target.role)) {
    check(node->id >= 0);
    generated = mapper().broker_host(target.cluster, node->id);
  } else {
    return;
  }
  if (exact) {
    check(generated == name);
  } else {
    const kedge::sni::Target again = mapper().identify(generated);
    check(again.cluster == target.cluster && again.role == target.role);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> input(data, size);
  // A small cap as well as the default one, so the cap paths are reachable
  // with inputs of fuzzer size.
  for (std::size_t max_bytes : {kedge::sni::kMaxClientHelloBytes, std::size_t{300}}) {
    const HelloResult whole = kedge::sni::parse_client_hello(input, max_bytes);
    if (const auto* found = std::get_if<kedge::sni::Found>(&whole)) {
      check(valid_found_name(found->name));
      check(valid_alpn(*found));
      check_identify(found->name, /*exact=*/true);
    }
    if (std::holds_alternative<kedge::sni::NeedMore>(whole)) check(size < max_bytes);

    const HelloResult half = kedge::sni::parse_client_hello(input.first(size / 2), max_bytes);
    if (!std::holds_alternative<kedge::sni::NeedMore>(half)) check(same_verdict(half, whole));
  }
  // Arbitrary text straight into identify(): must not crash, and the round
  // trip holds for whatever it recognises.
  if (size <= 300) {
    check_identify(std::string(reinterpret_cast<const char*>(data), size), /*exact=*/false);
  }
  return 0;
}
