#include "identity/principal_mapping.h"

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <regex>

#include "identity/principal.h"

namespace kedge::identity {

// One replacement piece: literal text, or a capture group (Java Matcher.appendReplacement semantics).
struct ReplacementPiece {
  std::string literal;
  int group = -1;  // >= 0: a group reference
};

struct PrincipalRules::Rule {
  bool is_default = false;
  std::string pattern_text;
  std::string replacement_text;
  std::regex pattern;
  std::vector<ReplacementPiece> replacement;
  enum class Case { keep, lower, upper } fold = Case::keep;
};

namespace {

CertificatePrincipalFailure failure(CertificateRefusal reason, std::string detail) {
  return CertificatePrincipalFailure{reason, std::move(detail)};
}

// Reads pattern or replacement text up to the next unescaped "/" (Kafka: ((\\.|[^\\/])*)/ ). Returns the
// text as written and advances `pos` past the "/", or nullopt when no such "/" exists.
std::optional<std::string> read_rule_part(std::string_view rule, std::size_t& pos) {
  const std::size_t start = pos;
  while (pos < rule.size()) {
    if (rule[pos] == '\\') {
      if (pos + 1 >= rule.size()) return std::nullopt;
      pos += 2;
    } else if (rule[pos] == '/') {
      std::string part(rule.substr(start, pos - start));
      ++pos;
      return part;
    } else {
      ++pos;
    }
  }
  return std::nullopt;
}

std::vector<ReplacementPiece> parse_replacement(std::string_view text, unsigned groups, const std::string& where) {
  std::vector<ReplacementPiece> pieces;
  auto literal = [&](char c) {
    if (pieces.empty() || pieces.back().group >= 0) pieces.push_back({});
    pieces.back().literal += c;
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\\') {
      if (i + 1 >= text.size()) throw PrincipalRuleError(where + ": the replacement ends with a lone \"\\\"");
      literal(text[++i]);
      continue;
    }
    if (c != '$') {
      literal(c);
      continue;
    }
    if (i + 1 >= text.size() || text[i + 1] < '0' || text[i + 1] > '9') {
      throw PrincipalRuleError(where +
                               ": \"$\" in the replacement must be followed by a group number "
                               "(named groups do not exist here; write \\$ for a dollar sign)");
    }
    const unsigned first = static_cast<unsigned>(text[i + 1] - '0');
    if (first > groups) {
      if (groups == 0) {
        throw PrincipalRuleError(where + ": the replacement refers to group $" + std::string(1, text[i + 1]) +
                                 " but the pattern has no capturing group");
      }
      literal('$');  // Kafka escapes such a reference into literal text
      continue;
    }
    // Java: the longest digit run, read left to right, that still names an existing group.
    unsigned group = first;
    std::size_t next = i + 2;
    while (next < text.size() && text[next] >= '0' && text[next] <= '9') {
      const unsigned longer = group * 10 + static_cast<unsigned>(text[next] - '0');
      if (longer > groups) break;
      group = longer;
      ++next;
    }
    pieces.push_back({std::string(), static_cast<int>(group)});
    i = next - 1;
  }
  return pieces;
}

// True if `pattern` holds a number of more than 9 digits right after "{" (a repeat count) or "\\" (a
// back-reference); escaped characters ("\\{", "\\\\") are skipped.
bool has_oversized_regex_number(std::string_view pattern) {
  const auto digits_from = [&](std::size_t i) {
    std::size_t n = 0;
    while (i + n < pattern.size() && pattern[i + n] >= '0' && pattern[i + n] <= '9') ++n;
    return n;
  };
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '{' && digits_from(i + 1) > 9) return true;
    if (pattern[i] == '\\') {
      if (digits_from(i + 1) > 9) return true;
      ++i;  // the escaped character
    }
  }
  return false;
}

PrincipalRules::Rule parse_rule(std::string_view text, const std::string& position) {
  const std::string where = position + " (\"" + printable_excerpt(text, 80) + "\")";
  if (text.size() > kMaxRuleBytes) throw PrincipalRuleError(where + ": longer than 1024 bytes");
  PrincipalRules::Rule rule;
  if (text == "DEFAULT") {
    rule.is_default = true;
    return rule;
  }
  if (!text.starts_with("RULE:")) {
    throw PrincipalRuleError(where +
                             ": a rule is \"DEFAULT\" or \"RULE:pattern/replacement/\" with an optional "
                             "L or U at the end");
  }
  std::size_t pos = 5;
  auto pattern = read_rule_part(text, pos);
  auto replacement = pattern ? read_rule_part(text, pos) : std::nullopt;
  if (!pattern || !replacement) {
    throw PrincipalRuleError(where + ": expected RULE:pattern/replacement/ (a \"/\" inside either is written \\/)");
  }
  if (pos < text.size() && (text[pos] == 'L' || text[pos] == 'U')) {
    rule.fold = text[pos] == 'L' ? PrincipalRules::Rule::Case::lower : PrincipalRules::Rule::Case::upper;
    ++pos;
  }
  if (pos != text.size()) {
    throw PrincipalRuleError(where + ": unexpected text after the rule: \"" + printable_excerpt(text.substr(pos), 40) +
                             "\"");
  }
  // libstdc++'s regex compiler reads a repeat count ({n}) or a back-reference (\n) into a long without a bound
  // (signed overflow, undefined behaviour: fuzz_principal_rules): numbers past 9 digits are refused here.
  if (has_oversized_regex_number(*pattern)) {
    throw PrincipalRuleError(where + ": the pattern has a repeat count or back-reference longer than 9 digits");
  }
  try {
    rule.pattern = std::regex(*pattern, std::regex::ECMAScript);
  } catch (const std::regex_error& error) {
    throw PrincipalRuleError(where + ": the pattern is not a valid ECMAScript regular expression (" + error.what() +
                             ")");
  }
  rule.replacement = parse_replacement(*replacement, rule.pattern.mark_count(), where);
  rule.pattern_text = std::move(*pattern);
  rule.replacement_text = std::move(*replacement);
  return rule;
}

std::string fold_case(std::string text, PrincipalRules::Rule::Case fold) {
  if (fold == PrincipalRules::Rule::Case::keep) return text;
  for (char& c : text) {
    if (fold == PrincipalRules::Rule::Case::lower && c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (fold == PrincipalRules::Rule::Case::upper && c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return text;
}

// Java String.replaceAll(pattern, replacement) over the whole subject.
std::string replace_all(const PrincipalRules::Rule& rule, const std::string& subject) {
  std::string out;
  auto last = subject.cbegin();
  for (std::sregex_iterator it(subject.cbegin(), subject.cend(), rule.pattern), end; it != end; ++it) {
    const std::smatch& match = *it;
    out.append(last, match[0].first);
    for (const auto& piece : rule.replacement) {
      if (piece.group < 0) {
        out += piece.literal;
      } else if (match[static_cast<std::size_t>(piece.group)].matched) {
        out += match[static_cast<std::size_t>(piece.group)].str();
      }
    }
    last = match[0].second;
  }
  out.append(last, subject.cend());
  return out;
}

std::string describe_rule(const PrincipalRules::Rule& rule) {
  if (rule.is_default) return "DEFAULT";
  std::string text = "RULE:" + rule.pattern_text + "/" + rule.replacement_text;
  if (rule.fold == PrincipalRules::Rule::Case::lower) text += "/L";
  if (rule.fold == PrincipalRules::Rule::Case::upper) text += "/U";
  return text;
}

// ---- X.509 names ----

struct Utf8 {
  unsigned char* data = nullptr;
  int length = -1;
  ~Utf8() { OPENSSL_free(data); }
};

std::optional<std::string> to_utf8(const ASN1_STRING* value) {
  Utf8 utf8;
  utf8.length = ASN1_STRING_to_UTF8(&utf8.data, value);
  if (utf8.length < 0 || utf8.data == nullptr) return std::nullopt;
  return std::string(reinterpret_cast<const char*>(utf8.data), static_cast<std::size_t>(utf8.length));
}

// X500Principal RFC 2253 keywords (sun.security.x509.AVAKeyword entries marked RFC 2253-compliant).
const char* rfc2253_keyword(int nid) {
  switch (nid) {
    case NID_commonName: return "CN";
    case NID_countryName: return "C";
    case NID_localityName: return "L";
    case NID_stateOrProvinceName: return "ST";
    case NID_organizationName: return "O";
    case NID_organizationalUnitName: return "OU";
    case NID_streetAddress: return "STREET";
    case NID_domainComponent: return "DC";
    case NID_userId: return "UID";
    default: return nullptr;
  }
}

bool is_directory_string(int type) {
  switch (type) {
    case V_ASN1_PRINTABLESTRING:
    case V_ASN1_T61STRING:
    case V_ASN1_IA5STRING:
    case V_ASN1_GENERALSTRING:
    case V_ASN1_BMPSTRING:
    case V_ASN1_UTF8STRING: return true;
    default: return false;
  }
}

bool append_der_hex(std::string& out, const ASN1_STRING* value) {
  static constexpr char kHex[] = "0123456789abcdef";
  ASN1_TYPE* wrapped = ASN1_TYPE_new();
  if (wrapped == nullptr) return false;
  bool ok = ASN1_TYPE_set1(wrapped, ASN1_STRING_type(value), value) == 1;
  unsigned char* der = nullptr;
  const int length = ok ? i2d_ASN1_TYPE(wrapped, &der) : -1;
  ASN1_TYPE_free(wrapped);
  if (length <= 0 || der == nullptr) return false;
  out += '#';
  for (int i = 0; i < length; ++i) {
    out += kHex[der[i] >> 4];
    out += kHex[der[i] & 0x0f];
  }
  OPENSSL_free(der);
  return true;
}

// sun.security.x509.AVA.toRFC2253String's escaping of a string value.
void append_escaped_value(std::string& out, std::string_view value) {
  std::string escaped;
  for (const char c : value) {
    if (c == '\0') {
      escaped += "\\00";
      continue;
    }
    if (std::string_view(",=+<>#;\"\\").find(c) != std::string_view::npos) escaped += '\\';
    escaped += c;
  }
  std::size_t lead = 0;
  while (lead < escaped.size() && (escaped[lead] == ' ' || escaped[lead] == '\r')) ++lead;
  std::size_t trail_start = escaped.size();
  while (trail_start > lead && (escaped[trail_start - 1] == ' ' || escaped[trail_start - 1] == '\r')) --trail_start;
  for (std::size_t i = 0; i < escaped.size(); ++i) {
    if (i < lead || i >= trail_start) out += '\\';
    out += escaped[i];
  }
}

bool append_ava(std::string& out, const X509_NAME_ENTRY* entry) {
  const ASN1_OBJECT* object = X509_NAME_ENTRY_get_object(entry);
  const ASN1_STRING* value = X509_NAME_ENTRY_get_data(entry);
  if (object == nullptr || value == nullptr) return false;
  const char* keyword = rfc2253_keyword(OBJ_obj2nid(object));
  if (keyword != nullptr) {
    out += keyword;
  } else {
    char oid[128];
    const int length = OBJ_obj2txt(oid, sizeof oid, object, 1);
    if (length <= 0 || static_cast<std::size_t>(length) >= sizeof oid) return false;
    out.append(oid, static_cast<std::size_t>(length));
  }
  out += '=';
  if (keyword == nullptr || !is_directory_string(ASN1_STRING_type(value))) return append_der_hex(out, value);
  const auto text = to_utf8(value);
  if (!text) return false;
  append_escaped_value(out, *text);
  return true;
}

std::optional<std::string> format_subject(const X509* certificate) {
  const X509_NAME* name = X509_get_subject_name(certificate);
  if (name == nullptr) return std::nullopt;
  std::string out;
  int last = X509_NAME_entry_count(name) - 1;
  while (last >= 0) {
    // Entries of one RDN share a set number; RDNs are written most specific (last) first.
    const int set = X509_NAME_ENTRY_set(X509_NAME_get_entry(name, last));
    int first = last;
    while (first > 0 && X509_NAME_ENTRY_set(X509_NAME_get_entry(name, first - 1)) == set) --first;
    if (!out.empty()) out += ',';
    for (int i = first; i <= last; ++i) {
      if (i > first) out += '+';
      if (!append_ava(out, X509_NAME_get_entry(name, i))) return std::nullopt;
    }
    last = first - 1;
  }
  return out;
}

CertificatePrincipalResult checked(std::string principal, std::string_view source) {
  if (const auto problem = principal_problem(principal)) {
    return failure(CertificateRefusal::invalid_principal, std::string(source) + ": " + std::string(*problem));
  }
  return principal;
}

CertificatePrincipalResult subject_cn(const X509* certificate) {
  const X509_NAME* name = X509_get_subject_name(certificate);
  const int index = name ? X509_NAME_get_index_by_NID(name, NID_commonName, -1) : -1;
  if (index < 0) return failure(CertificateRefusal::no_subject_cn, "the certificate subject has no CN");
  if (X509_NAME_get_index_by_NID(name, NID_commonName, index) >= 0) {
    return failure(CertificateRefusal::several_subject_cn, "the certificate subject has more than one CN");
  }
  auto text = to_utf8(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index)));
  if (!text) return failure(CertificateRefusal::undecodable_name, "the subject CN is not convertible to UTF-8");
  return checked(std::move(*text), "subject CN");
}

struct GeneralNamesFree {
  void operator()(GENERAL_NAMES* names) const { GENERAL_NAMES_free(names); }
};

CertificatePrincipalResult first_san(const X509* certificate, int type, const char* type_name) {
  int critical = 0;
  std::unique_ptr<GENERAL_NAMES, GeneralNamesFree> names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(certificate, NID_subject_alt_name, &critical, nullptr)));
  if (!names) {
    if (critical == -2) {
      return failure(CertificateRefusal::undecodable_name, "the certificate has several subjectAltName extensions");
    }
    return failure(CertificateRefusal::no_matching_san, std::string("the certificate has no ") + type_name + " SAN");
  }
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* entry = sk_GENERAL_NAME_value(names.get(), i);
    int entry_type = 0;
    const auto* value = static_cast<const ASN1_STRING*>(GENERAL_NAME_get0_value(entry, &entry_type));
    if (entry_type != type || value == nullptr) continue;
    const auto* bytes = ASN1_STRING_get0_data(value);
    return checked(
        std::string(reinterpret_cast<const char*>(bytes), static_cast<std::size_t>(ASN1_STRING_length(value))),
        std::string("first ") + type_name + " SAN");
  }
  return failure(CertificateRefusal::no_matching_san, std::string("the certificate has no ") + type_name + " SAN");
}

}  // namespace

// ---- PrincipalRules ----

PrincipalRules::PrincipalRules() = default;
PrincipalRules::~PrincipalRules() = default;
PrincipalRules::PrincipalRules(PrincipalRules&&) noexcept = default;
PrincipalRules& PrincipalRules::operator=(PrincipalRules&&) noexcept = default;
PrincipalRules::PrincipalRules(const PrincipalRules&) = default;
PrincipalRules& PrincipalRules::operator=(const PrincipalRules&) = default;

PrincipalRules PrincipalRules::parse(std::span<const std::string> rules) {
  PrincipalRules parsed;
  if (rules.empty()) throw PrincipalRuleError("no rules: write at least \"DEFAULT\"");
  for (std::size_t i = 0; i < rules.size(); ++i)
    parsed.rules_.push_back(parse_rule(rules[i], "[" + std::to_string(i) + "]"));
  return parsed;
}

PrincipalRules PrincipalRules::parse_kafka(std::string_view rules) {
  if (rules.size() > 16 * 1024) throw PrincipalRuleError("the rules are longer than 16 KiB");
  // Java String.trim(): every char <= U+0020 at both ends.
  while (!rules.empty() && static_cast<unsigned char>(rules.front()) <= 0x20) rules.remove_prefix(1);
  while (!rules.empty() && static_cast<unsigned char>(rules.back()) <= 0x20) rules.remove_suffix(1);
  // SslPrincipalMapper.RULE_SPLITTER, which uses no syntax that ECMAScript lacks.
  static const std::regex splitter(R"(\s*((DEFAULT)|RULE:((\\.|[^\\/])*)/((\\.|[^\\/])*)/([LU]?).*?|(.*?))\s*(,\s*|$))",
                                   std::regex::ECMAScript);
  std::vector<std::string> entries;
  const std::string text(rules);
  for (std::sregex_iterator it(text.begin(), text.end(), splitter), end; it != end; ++it) {
    if ((*it)[1].length() > 0) entries.push_back((*it)[1].str());
  }
  PrincipalRules parsed;
  for (std::size_t i = 0; i < entries.size(); ++i)
    parsed.rules_.push_back(parse_rule(entries[i], "rule " + std::to_string(i + 1)));
  if (parsed.rules_.empty()) throw PrincipalRuleError("no rules: write at least \"DEFAULT\"");
  return parsed;
}

CertificatePrincipalResult PrincipalRules::apply(std::string_view subject) const noexcept {
  try {
    if (subject.size() > kMaxRuleSubjectBytes) {
      return failure(CertificateRefusal::subject_too_long,
                     "subject of " + std::to_string(subject.size()) + " bytes (rules match at most 1024)");
    }
    const std::string text(subject);
    for (std::size_t i = 0; i < rules_.size(); ++i) {
      const Rule& rule = rules_[i];
      if (rule.is_default) return checked(text, "rule " + std::to_string(i + 1) + " (DEFAULT)");
      if (!std::regex_match(text, rule.pattern)) continue;
      return checked(fold_case(replace_all(rule, text), rule.fold), "rule " + std::to_string(i + 1));
    }
    return failure(CertificateRefusal::no_rule_matched,
                   "no rule matches the subject \"" + printable_excerpt(subject, 200) + "\"");
  } catch (...) {  // std::regex_error (error_complexity, error_stack) or std::bad_alloc
    try {
      return failure(CertificateRefusal::internal_error, "rule matching failed");
    } catch (...) {
      return CertificatePrincipalFailure{};
    }
  }
}

std::size_t PrincipalRules::size() const noexcept { return rules_.size(); }

std::string PrincipalRules::describe() const {
  std::string text = "[";
  for (std::size_t i = 0; i < rules_.size(); ++i) {
    if (i > 0) text += ", ";
    text += describe_rule(rules_[i]);
  }
  return text + "]";
}

// ---- CertificatePrincipalMapper ----

CertificatePrincipalMapper::CertificatePrincipalMapper(CertificatePrincipalSource source) : source_(source) {
  if (source_ == CertificatePrincipalSource::subject_rules) {
    const std::string default_rule = "DEFAULT";
    rules_ = PrincipalRules::parse(std::span<const std::string>(&default_rule, 1));
  }
}

CertificatePrincipalMapper::CertificatePrincipalMapper(PrincipalRules rules)
    : source_(CertificatePrincipalSource::subject_rules), rules_(std::move(rules)) {}

CertificatePrincipalResult CertificatePrincipalMapper::map(const X509* certificate) const noexcept {
  if (certificate == nullptr) return CertificatePrincipalFailure{CertificateRefusal::internal_error, {}};
  ERR_set_mark();
  CertificatePrincipalResult result = CertificatePrincipalFailure{};
  try {
    switch (source_) {
      case CertificatePrincipalSource::subject_cn: result = subject_cn(certificate); break;
      case CertificatePrincipalSource::san_dns: result = first_san(certificate, GEN_DNS, "DNS"); break;
      case CertificatePrincipalSource::san_uri: result = first_san(certificate, GEN_URI, "URI"); break;
      case CertificatePrincipalSource::san_email: result = first_san(certificate, GEN_EMAIL, "email"); break;
      case CertificatePrincipalSource::subject_rules: {
        auto subject = format_subject(certificate);
        if (!subject) {
          result = failure(CertificateRefusal::undecodable_name, "the subject cannot be written as RFC 2253 text");
        } else {
          result = rules_->apply(*subject);
        }
        break;
      }
    }
  } catch (...) {
    result = CertificatePrincipalFailure{};
  }
  ERR_pop_to_mark();
  return result;
}

std::optional<std::string> rfc2253_subject(const X509* certificate) noexcept {
  if (certificate == nullptr) return std::nullopt;
  ERR_set_mark();
  std::optional<std::string> subject;
  try {
    subject = format_subject(certificate);
  } catch (...) {
    subject.reset();
  }
  ERR_pop_to_mark();
  return subject;
}

std::string_view label(CertificateRefusal reason) noexcept {
  switch (reason) {
#define KEDGE_CERTIFICATE_REFUSAL_LABEL(name, text) \
  case CertificateRefusal::name: return text;
    KEDGE_CERTIFICATE_REFUSALS(KEDGE_CERTIFICATE_REFUSAL_LABEL)
#undef KEDGE_CERTIFICATE_REFUSAL_LABEL
  }
  return "unknown";
}

}  // namespace kedge::identity
