// libFuzzer target for proxy::parse_proxy_header.
// Seed corpus: tests/data/proxy_header/*.bin (HAProxy captures, see its README.md).
//
// Beyond "no crash, no sanitizer report" it traps on broken contracts:
//  - Found consumes at most the input, at most 107 bytes for v1 and
//    16 + kMaxV2PayloadBytes for v2, and has_source implies a parsable address;
//  - NeedMore is only returned while the input is shorter than the largest header;
//  - verdicts are stable: once a prefix has a verdict, the whole input has the
//    same one (the gateway acts on the first verdict it sees).
#include <cstddef>
#include <cstdint>
#include <span>
#include <variant>

#include "proxy/proxy_header.h"

namespace {

using namespace kedge::proxy;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

bool same_verdict(const ProxyResult& a, const ProxyResult& b) {
  if (a.index() != b.index()) return false;
  if (const auto* found = std::get_if<Found>(&a)) {
    const auto& other = std::get<Found>(b);
    return found->consumed == other.consumed && found->header.source_address() == other.header.source_address();
  }
  if (const auto* bad = std::get_if<Malformed>(&a)) return bad->reason == std::get<Malformed>(b).reason;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> input(data, size);
  const ProxyResult whole = parse_proxy_header(input);
  if (const auto* found = std::get_if<Found>(&whole)) {
    check(found->consumed <= size);
    if (found->header.version == Version::v1) check(found->consumed <= kMaxV1Bytes);
    if (found->header.version == Version::v2) check(found->consumed <= kV2HeaderBytes + kMaxV2PayloadBytes);
    if (found->header.has_source) {
      check(found->header.family != Family::unknown);
      check(!found->header.source_ip.empty() && !found->header.destination_ip.empty());
    }
  }
  if (std::holds_alternative<NeedMore>(whole)) check(size < kV2HeaderBytes + kMaxV2PayloadBytes);
  for (std::size_t cut : {size / 2, size / 3, size > 0 ? size - 1 : 0}) {
    const ProxyResult prefix = parse_proxy_header(input.first(cut));
    if (!std::holds_alternative<NeedMore>(prefix)) check(same_verdict(prefix, whole));
  }
  return 0;
}
