// libFuzzer target: mTLS principal mapping.
// Input: one mode byte, then
//   mode % 3 == 0: a rule (up to the first '\n', at most 128 bytes) and a subject (the rest):
//                  PrincipalRules::parse, then apply();
//   mode % 3 == 1: the Kafka single-string form (at most 256 bytes): PrincipalRules::parse_kafka, then
//                  apply() to a fixed subject;
//   mode % 3 == 2: a DER certificate: rfc2253_subject() and every principal source.
// Load-time errors must be PrincipalRuleError; apply() and map() are noexcept. Traps when a mapped
// principal fails principal_problem().
// std::regex (ECMAScript) backtracks: a pattern with k quantifiers can take O(n^k) steps on an n-byte
// subject, and nested ones (a*)* exponential time. That is the operator's pattern against subjects only
// the trusted CA signs (principal_mapping.h), not a finding; so that one input never runs for minutes, a
// rule is matched only when it holds at most 2 quantifier characters and the subject is at most 20 bytes
// (mode 0), or the Kafka string holds at most 2 (mode 1, where parsing and splitting still see it all).
#include <openssl/err.h>
#include <openssl/x509.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "identity/principal.h"
#include "identity/principal_mapping.h"

namespace {

using namespace kedge::identity;

std::size_t quantifiers(std::string_view text) {
  std::size_t count = 0;
  for (const char c : text) count += (c == '*' || c == '+' || c == '?' || c == '{') ? 1 : 0;
  return count;
}

void check(const CertificatePrincipalResult& result) {
  if (const auto* principal = std::get_if<std::string>(&result)) {
    if (principal_problem(*principal)) __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t mode = data[0] % 3;
  const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);

  if (mode == 0) {
    const std::size_t newline = rest.find('\n');
    const std::string_view rule = rest.substr(0, newline);
    const std::string_view subject = newline == std::string_view::npos ? std::string_view() : rest.substr(newline + 1);
    if (rule.size() > 128 || subject.size() > 256) return 0;
    try {
      const std::vector<std::string> rules = {std::string(rule)};
      const auto parsed = PrincipalRules::parse(rules);
      (void)parsed.describe();
      if (quantifiers(rule) <= 2 && subject.size() <= 20) check(parsed.apply(subject));
    } catch (const PrincipalRuleError&) {
    }
  } else if (mode == 1) {
    if (rest.size() > 256) return 0;
    try {
      const auto parsed = PrincipalRules::parse_kafka(rest);
      (void)parsed.describe();
      if (quantifiers(rest) <= 2) check(parsed.apply("CN=Duke,OU=SU,O=Org,C=US"));
    } catch (const PrincipalRuleError&) {
    }
  } else {
    const auto* der = reinterpret_cast<const unsigned char*>(rest.data());
    X509* cert = d2i_X509(nullptr, &der, static_cast<long>(rest.size()));
    ERR_clear_error();
    if (cert == nullptr) return 0;
    (void)rfc2253_subject(cert);
    for (const auto source : {CertificatePrincipalSource::subject_cn, CertificatePrincipalSource::san_dns,
                              CertificatePrincipalSource::san_uri, CertificatePrincipalSource::san_email,
                              CertificatePrincipalSource::subject_rules}) {
      check(CertificatePrincipalMapper(source).map(cert));
    }
    if (ERR_peek_error() != 0) __builtin_trap();
    X509_free(cert);
  }
  return 0;
}
