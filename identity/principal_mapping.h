#pragma once
// The principal of an mTLS client, taken from its verified certificate by one configured source:
//   subject_cn     the subject's commonName (exactly one CN attribute, else refused)
//   san_dns        the first subjectAltName dNSName
//   san_uri        the first subjectAltName uniformResourceIdentifier
//   san_email      the first subjectAltName rfc822Name
//   subject_rules  Kafka's ssl.principal.mapping.rules (KIP-371) applied to the RFC 2253 subject
//
// Kafka's rules (SslPrincipalMapper), as kedge reads them:
//   rule        = "DEFAULT" / "RULE:" pattern "/" replacement "/" [ "L" / "U" ]
//   pattern     = *( "\" any-char / any-char-but-"\"-and-"/" )   ; kept as written, backslashes included
//   replacement = same grammar
// Rules are tried in order; the first whose pattern matches the WHOLE subject (Java Matcher.matches) wins,
// and its result is the subject with EVERY match of the pattern replaced (Java String.replaceAll: a lazy
// pattern such as "CN=(.*?)" can leave a tail after the first replacement; Kafka behaves so and so do we).
// "L"/"U" then fold case. DEFAULT yields the subject unchanged. No rule matching: refused (Kafka's
// NoMatchingRule). A result that fails principal_problem() (e.g. empty) is refused, not skipped.
// Replacement syntax is Java's: "$n" is group n, read greedily while the number names an existing group
// (Kafka first turns a "$n" whose first digit exceeds the group count into a literal "$n"); "\x" is a
// literal x; "$0" is the whole match.
//
// Where kedge differs from Java (std::regex, ECMAScript grammar, over UTF-8 bytes):
//   - Java-only syntax is a load error or means something else: possessive quantifiers (a*+), atomic
//     groups (?>...), lookbehind (?<=...), named groups (?<n>...) and "${name}", inline flags (?i),
//     \Q...\E, \p{...} classes, class intersection [a-z&&[^b]], \A \Z \z, \h \R.
//   - "." and negated classes step over one byte, not one UTF-16 unit: a pattern that counts characters
//     of a non-ASCII value ("^CN=.{3}$" on "CN=Zoë") matches differently. ASCII subjects behave the same.
//   - "L"/"U" fold ASCII letters only (Java: Locale.ENGLISH, all of Unicode).
//   - Kafka accepts, then fails at connection time on, "$" not followed by a digit, "${name}", a trailing
//     "\" and "$1" in a pattern without groups; kedge refuses these rules at load time.
//   - A user-escaped "\$1" is a literal "$1" here; Kafka's escaping pass can turn it into a group reference.
//   - Subjects longer than kMaxRuleSubjectBytes are refused before matching (libstdc++'s std::regex matcher
//     recurses per character and would exhaust the stack on long input).
// Cost: both engines backtrack and neither has a step limit; a pattern with k quantifiers can take O(n^k)
// steps and nested ones ("(a*)*") exponential time, on the worker's event loop. The subject comes only
// from a certificate the configured CA signed (mapping runs after chain verification), so the pattern is
// the operator's to keep tame: anchored, with literal separators, as in Kafka's examples.
//
// The RFC 2253 subject is formatted as Java's X500Principal.getName() does, since rules are written
// against that string: RDNs most specific first, ",", "+" inside a multi-valued RDN, no spaces; keywords
// CN C L ST O OU STREET DC UID and dotted OIDs otherwise (emailAddress is "1.2.840.113549.1.9.1=#16...");
// a value under a dotted OID, or of a type other than Printable/T61/IA5/General/BMP/UTF8String, is "#" +
// lowercase hex of its DER; string values escape , = + < > # ; " \ with "\", NUL as "\00", leading and
// trailing spaces/CR with "\". Difference: values are converted to UTF-8 by OpenSSL from their ASN.1 type;
// Java decodes T61 and BMP string bytes as UTF-8 (mangling BMP), so such subjects differ.
//
// Loading (PrincipalRules::parse*) throws PrincipalRuleError naming the rule; map() is noexcept.
#include <openssl/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace kedge::identity {

inline constexpr std::size_t kMaxRuleSubjectBytes = 1024;
inline constexpr std::size_t kMaxRuleBytes = 1024;

class PrincipalRuleError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

#define KEDGE_CERTIFICATE_REFUSALS(X)         \
  X(no_subject_cn, "no_subject_cn")           \
  X(several_subject_cn, "several_subject_cn") \
  X(no_matching_san, "no_matching_san")       \
  X(no_rule_matched, "no_rule_matched")       \
  X(subject_too_long, "subject_too_long")     \
  X(undecodable_name, "undecodable_name")     \
  X(invalid_principal, "invalid_principal")   \
  X(internal_error, "internal_error")

enum class CertificateRefusal : std::uint8_t {
#define KEDGE_CERTIFICATE_REFUSAL_ENUM(name, label) name,
  KEDGE_CERTIFICATE_REFUSALS(KEDGE_CERTIFICATE_REFUSAL_ENUM)
#undef KEDGE_CERTIFICATE_REFUSAL_ENUM
};
std::string_view label(CertificateRefusal reason) noexcept;

struct CertificatePrincipalFailure {
  CertificateRefusal reason = CertificateRefusal::internal_error;
  std::string detail;  // for kedge's log; subject text through printable_excerpt()
};

// The principal name, or why there is none.
using CertificatePrincipalResult = std::variant<std::string, CertificatePrincipalFailure>;

class PrincipalRules {
 public:
  // One rule per entry ("DEFAULT" or "RULE:pattern/replacement/[LU]"), exactly as Kafka's RULE_PARSER
  // accepts one rule (no surrounding whitespace). Errors: "[2] (\"RULE:...\"): <why>", the 0-based index
  // for the caller to put after its JSON path.
  static PrincipalRules parse(std::span<const std::string> rules);
  // Kafka's single-string form of ssl.principal.mapping.rules ("RULE:...,RULE:...,DEFAULT"), split as
  // SslPrincipalMapper splits it (commas inside a pattern stay; empty entries are ignored), for operators
  // who copy the broker's setting. At most 16 KiB. Errors name "rule N" (1-based, after splitting).
  static PrincipalRules parse_kafka(std::string_view rules);

  // Applies the rules to an RFC 2253 subject (see above).
  CertificatePrincipalResult apply(std::string_view subject) const noexcept;

  std::size_t size() const noexcept;
  // The rules as Kafka's SslPrincipalMapper.toString() shows them: "[RULE:p/r/L, DEFAULT]".
  std::string describe() const;

  struct Rule;  // defined in principal_mapping.cpp

  PrincipalRules();
  ~PrincipalRules();
  PrincipalRules(PrincipalRules&&) noexcept;
  PrincipalRules& operator=(PrincipalRules&&) noexcept;
  PrincipalRules(const PrincipalRules&);
  PrincipalRules& operator=(const PrincipalRules&);

 private:
  std::vector<Rule> rules_;
};

enum class CertificatePrincipalSource { subject_cn, san_dns, san_uri, san_email, subject_rules };

class CertificatePrincipalMapper {
 public:
  // For every source but subject_rules (subject_rules with this constructor behaves as one DEFAULT rule).
  explicit CertificatePrincipalMapper(CertificatePrincipalSource source);
  explicit CertificatePrincipalMapper(PrincipalRules rules);

  // The principal of a certificate that the TLS layer has already verified. Never throws.
  CertificatePrincipalResult map(const X509* certificate) const noexcept;

  CertificatePrincipalSource source() const noexcept { return source_; }

 private:
  CertificatePrincipalSource source_;
  std::optional<PrincipalRules> rules_;
};

// The certificate subject as Java's X500Principal.getName() (RFC 2253) writes it; nullopt when a value
// cannot be converted to UTF-8. Never throws.
std::optional<std::string> rfc2253_subject(const X509* certificate) noexcept;

}  // namespace kedge::identity
