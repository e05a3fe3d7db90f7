// mTLS principals: Kafka's ssl.principal.mapping.rules against Kafka's own test table and documented
// examples, the RFC 2253 subject as Java writes it, CN/SAN extraction from certificates built in memory;
// principal -> virtual cluster binding.
#include "identity/principal.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "identity/principal_binding.h"
#include "identity/principal_mapping.h"

using namespace kedge::identity;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

PrincipalRules rules(std::vector<std::string> list) { return PrincipalRules::parse(list); }

std::string mapped(const PrincipalRules& r, std::string_view subject) {
  const auto result = r.apply(subject);
  if (const auto* failure = std::get_if<CertificatePrincipalFailure>(&result)) {
    FAIL("refused: " << label(failure->reason) << ": " << failure->detail);
  }
  return std::get<std::string>(result);
}

CertificateRefusal refused(const CertificatePrincipalResult& result) {
  REQUIRE(std::holds_alternative<CertificatePrincipalFailure>(result));
  return std::get<CertificatePrincipalFailure>(result).reason;
}

std::string rule_error(std::vector<std::string> list) {
  try {
    (void)PrincipalRules::parse(list);
  } catch (const PrincipalRuleError& error) {
    return error.what();
  }
  FAIL("accepted");
  return {};
}

bool kafka_accepts(const std::string& text) {
  try {
    (void)PrincipalRules::parse_kafka(text);
    return true;
  } catch (const PrincipalRuleError&) {
    return false;
  }
}

}  // namespace

// Kafka's SslPrincipalMapperTest, case for case.
TEST_CASE("Kafka's valid and invalid rules", "[principal][rules]") {
  for (const char* valid :
       {"DEFAULT", "RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/", "RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/L, DEFAULT",
        "RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/", "RULE:^.*[Cc][Nn]=([a-zA-Z0-9.]*).*$/$1/L",
        "RULE:^cn=(.?),ou=(.?),dc=(.?),dc=(.?)$/$1@$2/U", "RULE:^CN=([^,ADEFLTU,]+)(,.*|$)/$1/",
        "RULE:^CN=([^,DEFAULT,]+)(,.*|$)/$1/"}) {
    CAPTURE(valid);
    CHECK(kafka_accepts(valid));
  }
  for (const char* invalid : {"default", "DEFAUL", "DEFAULT/L", "DEFAULT/U", "RULE:CN=(.*?),OU=ServiceUsers.*/$1",
                              "rule:^CN=(.*?),OU=ServiceUsers.*$/$1/", "RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/L/U",
                              "RULE:^CN=(.*?),OU=ServiceUsers.*$/L", "RULE:^CN=(.*?),OU=ServiceUsers.*$/U",
                              "RULE:^CN=(.*?),OU=ServiceUsers.*$/LU"}) {
    CAPTURE(invalid);
    CHECK_FALSE(kafka_accepts(invalid));
  }
}

TEST_CASE("Kafka's mapping table", "[principal][rules]") {
  const auto mapper = PrincipalRules::parse_kafka(
      "RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/L, "
      "RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/L, "
      "RULE:^cn=(.*?),ou=(.*?),dc=(.*?),dc=(.*?)$/$1@$2/U, "
      "RULE:^.*[Cc][Nn]=([a-zA-Z0-9.]*).*$/$1/U, "
      "DEFAULT");
  CHECK(mapped(mapper, "CN=Duke,OU=ServiceUsers,O=Org,C=US") == "duke");
  CHECK(mapped(mapper, "CN=Duke,OU=SME,O=mycp,L=Fulton,ST=MD,C=US") == "duke@sme");
  CHECK(mapped(mapper, "cn=duke,ou=sme,dc=mycp,dc=com") == "DUKE@SME");
  CHECK(mapped(mapper, "cN=duke,OU=JavaSoft,O=Sun Microsystems") == "DUKE");
  CHECK(mapped(mapper, "OU=JavaSoft,O=Sun Microsystems,C=US") == "OU=JavaSoft,O=Sun Microsystems,C=US");
}

TEST_CASE("Kafka's rule splitting, seen through describe()", "[principal][rules]") {
  const std::vector<std::pair<std::string, std::string>> table = {
      {"[DEFAULT]", "DEFAULT"},
      {"[RULE:/]", "RULE://"},
      {"[RULE:/.*]", "RULE:/.*/"},
      {"[RULE:/.*/L]", "RULE:/.*/L"},
      {"[RULE:/, DEFAULT]", "RULE://,DEFAULT"},
      {"[RULE:/, DEFAULT]", "  RULE:// ,  DEFAULT  "},
      {"[RULE:   /     , DEFAULT]", "  RULE:   /     / ,  DEFAULT  "},
      {"[RULE:  /     /U, DEFAULT]", "  RULE:  /     /U   ,DEFAULT  "},
      {"[RULE:([A-Z]*)/$1/U, RULE:([a-z]+)/$1, DEFAULT]", "  RULE:([A-Z]*)/$1/U   ,RULE:([a-z]+)/$1/,   DEFAULT  "},
      {"[RULE:/, DEFAULT]", ",,RULE://,,,DEFAULT,,"},
      {"[RULE: /   , DEFAULT]", ",  , RULE: /   /    ,,,   DEFAULT, ,   "},
      {"[RULE:   /  /U, DEFAULT]", "     ,  , RULE:   /  /U    ,,  ,DEFAULT, ,"},
      {R"([RULE:\/\\\(\)\n\t/\/\/])", R"(RULE:\/\\\(\)\n\t/\/\//)"},
      {R"([RULE:\**\/+/*/L, RULE:\/*\**/**])", R"(RULE:\**\/+/*/L,RULE:\/*\**/**/)"},
      {R"([RULE:,RULE:,/,RULE:,\//U, RULE:,/RULE:,, RULE:,RULE:,/L,RULE:,/L, RULE:, DEFAULT, /DEFAULT, DEFAULT])",
       R"(RULE:,RULE:,/,RULE:,\//U,RULE:,/RULE:,/,RULE:,RULE:,/L,RULE:,/L,RULE:, DEFAULT, /DEFAULT/,DEFAULT)"},
  };
  for (const auto& [expected, text] : table) {
    CAPTURE(text);
    CHECK(PrincipalRules::parse_kafka(text).describe() == expected);
  }
  // Kafka accepts an all-empty list as "no rules"; kedge demands at least one.
  CHECK_FALSE(kafka_accepts(",   , , ,      , , ,   "));
}

TEST_CASE("Kafka's comma-with-whitespace case", "[principal][rules]") {
  const auto mapper = PrincipalRules::parse_kafka(R"(RULE:^CN=((\\, *|\w)+)(,.*|$)/$1/,DEFAULT)");
  CHECK(mapped(mapper, R"(CN=Tkac\, Adam,OU=ITZ,DC=geodis,DC=cz)") == R"(Tkac\, Adam)");
}

TEST_CASE("the rules in Kafka's documentation", "[principal][rules]") {
  const auto mapper = rules({"RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/",
                             "RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/L",
                             "RULE:^.*[Cc][Nn]=([a-zA-Z0-9.]*).*$/$1/L", "DEFAULT"});
  CHECK(mapped(mapper, "CN=serviceuser,OU=ServiceUsers,O=Unknown,L=Unknown,ST=Unknown,C=Unknown") == "serviceuser");
  CHECK(mapped(mapper, "CN=adminUser,OU=Admin,O=Unknown,L=Unknown,ST=Unknown,C=Unknown") == "adminuser@admin");
  CHECK(mapped(mapper, "CN=Alpha.Example,O=X") == "alpha.example");
  CHECK(mapped(mapper, "O=NoCommonName") == "O=NoCommonName");
}

TEST_CASE("replacement semantics follow Java's replaceAll", "[principal][rules]") {
  SECTION("group numbers are read greedily while the group exists") {
    CHECK(mapped(rules({"RULE:^CN=(a)(b)$/$12/"}), "CN=ab") == "a2");
    CHECK(mapped(rules({R"(RULE:^(C)(N)=(.)(.)(.)(.)(.)(.)(.)(.)(.)(.)$/$12$1/)"}), "CN=abcdefghij") == "jC");
  }
  SECTION("a first digit above the group count stays literal (Kafka's escaping)") {
    CHECK(mapped(rules({"RULE:^CN=(.*)$/$1-$4/"}), "CN=bob") == "bob-$4");
  }
  SECTION("$0 is the whole match; an escaped $ is literal") {
    CHECK(mapped(rules({R"(RULE:^CN=(.*)$/[$0] \$1/)"}), "CN=bob") == "[CN=bob] $1");
  }
  SECTION("a lazy pattern replaces every match, as String.replaceAll does") {
    CHECK(mapped(rules({"RULE:CN=(.*?)/$1/"}), "CN=foo") == "foo");
    CHECK(mapped(rules({"RULE:x*/-/"}), "xx") == "--");  // Java: "xx".replaceAll("x*", "-") is "--"
  }
  SECTION("an unmatched group adds nothing") { CHECK(mapped(rules({"RULE:^CN=(x)?(.*)$/$1$2/"}), "CN=bob") == "bob"); }
  SECTION("L and U fold ASCII") {
    CHECK(mapped(rules({"RULE:^CN=(.*)$/$1/U"}), "CN=Bob-1") == "BOB-1");
    CHECK(mapped(rules({"RULE:^CN=(.*)$/$1/L"}), "CN=Bob-1") == "bob-1");
  }
  SECTION("a slash inside pattern and replacement is escaped") {
    CHECK(mapped(rules({R"(RULE:^URI=(.*)\/(.*)$/$1\/$2/)"}), "URI=a/b") == "a/b");
  }
}

TEST_CASE("rules refused at load time name the rule", "[principal][rules]") {
  CHECK_THAT(rule_error({"DEFAULT", "RULE:^CN=(.*$/$1/"}),
             StartsWith("[1] (\"RULE:^CN=(.*$/$1/\"): the pattern is not a valid"));
  CHECK_THAT(rule_error({"RULE:^CN=.*$/$1/"}), Contains("refers to group $1 but the pattern has no capturing group"));
  CHECK_THAT(rule_error({"RULE:^CN=(.*)$/$/"}), Contains("must be followed by a group number"));
  CHECK_THAT(rule_error({"RULE:^CN=(?<n>.*)$/${n}/"}), Contains("the pattern is not a valid"));
  // Numbers libstdc++'s regex compiler would overflow on (fuzz_principal_rules): refused before it sees them.
  CHECK_THAT(rule_error({"RULE:^(CN)=x{77777777777777777777}$/$1/"}), Contains("longer than 9 digits"));
  CHECK_THAT(rule_error({"RULE:^(CN)=\\77777777777777777777$/$1/"}), Contains("longer than 9 digits"));
  CHECK(kafka_accepts("RULE:^(CN)=x{3}\\{12345678901\\}$/$1/"));  // an escaped brace is a literal
  CHECK_THAT(rule_error({R"(RULE:^CN=(.*)$/$1\/)"}), Contains("expected RULE:pattern/replacement/"));
  CHECK_THAT(rule_error({"RULE:^CN=(.*)$/$1/X"}), Contains("unexpected text after the rule: \"X\""));
  CHECK_THAT(rule_error({" DEFAULT"}), Contains("a rule is \"DEFAULT\" or"));
  CHECK_THAT(rule_error({""}), StartsWith("[0] (\"\"): a rule is"));
  CHECK_THAT(rule_error({"RULE:" + std::string(1100, 'a') + "//"}), Contains("longer than 1024 bytes"));
  CHECK_THAT(rule_error({}), StartsWith("no rules"));
}

TEST_CASE("rule outcomes that are refusals", "[principal][rules]") {
  CHECK(refused(rules({"RULE:^CN=(.*),OU=x$/$1/"}).apply("CN=a,OU=y")) == CertificateRefusal::no_rule_matched);
  CHECK(refused(rules({"RULE:^CN=(.*)$/$1/", "DEFAULT"}).apply("CN=")) == CertificateRefusal::invalid_principal);
  CHECK(refused(rules({"DEFAULT"}).apply("CN=a\nb")) == CertificateRefusal::invalid_principal);
  CHECK(refused(rules({"DEFAULT"}).apply("CN=" + std::string(kMaxRuleSubjectBytes, 'a'))) ==
        CertificateRefusal::subject_too_long);
  // The longest subject allowed runs through a recursive std::regex match without trouble.
  CHECK(mapped(rules({"RULE:^CN=((a|b)*?)(c?)$/$1/"}), "CN=" + std::string(kMaxRuleSubjectBytes - 3, 'a')).size() ==
        kMaxRuleSubjectBytes - 3);
}

// ---- certificates built in memory ----

namespace {

struct CertificateBuilder {
  std::unique_ptr<X509, decltype(&X509_free)> cert{X509_new(), X509_free};
  X509_NAME* name = X509_NAME_new();
  GENERAL_NAMES* sans = sk_GENERAL_NAME_new_null();

  ~CertificateBuilder() {
    X509_NAME_free(name);
    GENERAL_NAMES_free(sans);
  }
  // set (X509_NAME_add_entry_by_txt): 0 starts a new RDN; -1 joins the previous one (multi-valued)
  CertificateBuilder& subject(const char* field, const std::string& value, int type = MBSTRING_UTF8, int set = 0) {
    REQUIRE(X509_NAME_add_entry_by_txt(name, field, type, reinterpret_cast<const unsigned char*>(value.data()),
                                       static_cast<int>(value.size()), -1, set) == 1);
    return *this;
  }
  CertificateBuilder& san(int type, const std::string& value) {
    ASN1_IA5STRING* text = ASN1_IA5STRING_new();
    ASN1_STRING_set(text, value.data(), static_cast<int>(value.size()));
    GENERAL_NAME* entry = GENERAL_NAME_new();
    GENERAL_NAME_set0_value(entry, type, text);
    sk_GENERAL_NAME_push(sans, entry);
    return *this;
  }
  std::unique_ptr<X509, decltype(&X509_free)> build() {
    static EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
    X509_set_version(cert.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
    X509_set_subject_name(cert.get(), name);
    X509_set_issuer_name(cert.get(), name);
    X509_set_pubkey(cert.get(), key);
    if (sk_GENERAL_NAME_num(sans) > 0) X509_add1_ext_i2d(cert.get(), NID_subject_alt_name, sans, 0, X509V3_ADD_DEFAULT);
    REQUIRE(X509_sign(cert.get(), key, EVP_sha256()) > 0);
    return std::move(cert);
  }
};

std::string principal_of(const X509* cert, CertificatePrincipalSource source) {
  const auto result = CertificatePrincipalMapper(source).map(cert);
  if (const auto* failure = std::get_if<CertificatePrincipalFailure>(&result)) {
    FAIL("refused: " << label(failure->reason) << ": " << failure->detail);
  }
  return std::get<std::string>(result);
}

}  // namespace

TEST_CASE("the RFC 2253 subject is written as Java's X500Principal.getName() writes it", "[principal][x509]") {
  SECTION("most specific RDN first, no spaces") {
    const auto cert = CertificateBuilder()
                          .subject("C", "US")
                          .subject("O", "Org")
                          .subject("OU", "ServiceUsers")
                          .subject("CN", "Duke")
                          .build();
    CHECK(rfc2253_subject(cert.get()) == "CN=Duke,OU=ServiceUsers,O=Org,C=US");
  }
  SECTION("special characters are escaped, leading and trailing spaces too") {
    const auto cert = CertificateBuilder().subject("O", " Acme, Inc. ").subject("CN", "a+b=c<d>#e;\"f\\g").build();
    CHECK(rfc2253_subject(cert.get()) == R"(CN=a\+b\=c\<d\>\#e\;\"f\\g,O=\ Acme\, Inc.\ )");
  }
  SECTION("a multi-valued RDN is joined with +") {
    const auto cert =
        CertificateBuilder().subject("O", "Org").subject("CN", "x").subject("UID", "42", MBSTRING_UTF8, -1).build();
    CHECK(rfc2253_subject(cert.get()) == "CN=x+UID=42,O=Org");
  }
  SECTION("keywords Java lacks become OIDs with DER hex values") {
    const auto cert = CertificateBuilder().subject("emailAddress", "a@b", MBSTRING_ASC).subject("CN", "x").build();
    // emailAddress is an IA5String: tag 0x16, length 3, "a@b".
    CHECK(rfc2253_subject(cert.get()) == "CN=x,1.2.840.113549.1.9.1=#1603614062");
  }
  SECTION("DC, ST, L, STREET keep their keywords; UTF-8 stays as it is") {
    const auto cert = CertificateBuilder()
                          .subject("DC", "com", MBSTRING_ASC)
                          .subject("ST", "MD")
                          .subject("L", "Fulton")
                          .subject("street", "1 Main St")
                          .subject("CN", "Zo\xc3\xab")
                          .build();
    CHECK(rfc2253_subject(cert.get()) == "CN=Zo\xc3\xab,STREET=1 Main St,L=Fulton,ST=MD,DC=com");
  }
}

TEST_CASE("principal sources on certificates", "[principal][x509]") {
  const auto cert = CertificateBuilder()
                        .subject("O", "Org")
                        .subject("CN", "client-1")
                        .san(GEN_EMAIL, "ops@example.com")
                        .san(GEN_DNS, "client-1.example.com")
                        .san(GEN_DNS, "other.example.com")
                        .san(GEN_URI, "spiffe://example.com/ns/a/sa/b")
                        .build();
  CHECK(principal_of(cert.get(), CertificatePrincipalSource::subject_cn) == "client-1");
  CHECK(principal_of(cert.get(), CertificatePrincipalSource::san_dns) == "client-1.example.com");
  CHECK(principal_of(cert.get(), CertificatePrincipalSource::san_uri) == "spiffe://example.com/ns/a/sa/b");
  CHECK(principal_of(cert.get(), CertificatePrincipalSource::san_email) == "ops@example.com");
  CHECK(principal_of(cert.get(), CertificatePrincipalSource::subject_rules) == "CN=client-1,O=Org");

  const CertificatePrincipalMapper by_rules(rules({"RULE:^CN=([^,]+),O=Org$/$1@org/U"}));
  const auto mapped_by_rules = by_rules.map(cert.get());
  REQUIRE(std::holds_alternative<std::string>(mapped_by_rules));
  CHECK(std::get<std::string>(mapped_by_rules) == "CLIENT-1@ORG");
  CHECK(ERR_peek_error() == 0);
}

TEST_CASE("certificates without the configured source are refused", "[principal][x509]") {
  SECTION("no CN") {
    const auto cert = CertificateBuilder().subject("O", "Org").san(GEN_DNS, "a.example").build();
    CHECK(refused(CertificatePrincipalMapper(CertificatePrincipalSource::subject_cn).map(cert.get())) ==
          CertificateRefusal::no_subject_cn);
  }
  SECTION("two CNs") {
    const auto cert = CertificateBuilder().subject("CN", "a").subject("CN", "b").build();
    CHECK(refused(CertificatePrincipalMapper(CertificatePrincipalSource::subject_cn).map(cert.get())) ==
          CertificateRefusal::several_subject_cn);
  }
  SECTION("no SAN extension, or none of the type") {
    const auto bare = CertificateBuilder().subject("CN", "a").build();
    CHECK(refused(CertificatePrincipalMapper(CertificatePrincipalSource::san_dns).map(bare.get())) ==
          CertificateRefusal::no_matching_san);
    const auto dns_only = CertificateBuilder().subject("CN", "a").san(GEN_DNS, "a.example").build();
    CHECK(refused(CertificatePrincipalMapper(CertificatePrincipalSource::san_uri).map(dns_only.get())) ==
          CertificateRefusal::no_matching_san);
  }
  SECTION("a SAN with a control character") {
    const auto cert = CertificateBuilder().subject("CN", "a").san(GEN_DNS, std::string("a\nb.example")).build();
    CHECK(refused(CertificatePrincipalMapper(CertificatePrincipalSource::san_dns).map(cert.get())) ==
          CertificateRefusal::invalid_principal);
  }
  SECTION("a CN with a NUL byte") {
    const auto cert = CertificateBuilder().subject("CN", std::string("adm\0in", 6)).build();
    CHECK(refused(CertificatePrincipalMapper(CertificatePrincipalSource::subject_cn).map(cert.get())) ==
          CertificateRefusal::invalid_principal);
  }
  SECTION("an empty subject under DEFAULT") {
    const auto cert = CertificateBuilder().san(GEN_DNS, "a.example").build();
    CHECK(refused(CertificatePrincipalMapper(CertificatePrincipalSource::subject_rules).map(cert.get())) ==
          CertificateRefusal::invalid_principal);
  }
  CHECK(ERR_peek_error() == 0);
}

// ---- binding ----

TEST_CASE("principal binding: exact names and prefixes", "[principal][binding]") {
  const std::vector<std::string> entries = {"alice", "team-a-*"};
  const auto binding = PrincipalBinding::parse(entries);
  CHECK(binding.binds("alice"));
  CHECK_FALSE(binding.binds("Alice"));
  CHECK_FALSE(binding.binds("alice2"));
  CHECK_FALSE(binding.binds("alic"));
  CHECK(binding.binds("team-a-"));
  CHECK(binding.binds("team-a-orders"));
  CHECK_FALSE(binding.binds("team-b-orders"));
  CHECK_FALSE(binding.binds(""));
  CHECK(binding.describe() == "alice, team-a-*");
  CHECK(binding.entries() == entries);

  const std::vector<std::string> everyone = {"*"};
  CHECK(PrincipalBinding::parse(everyone).binds("anyone"));
  CHECK_FALSE(PrincipalBinding().binds("alice"));
  CHECK(PrincipalBinding().describe() == "(none)");
}

TEST_CASE("principal binding entries refused at load time", "[principal][binding]") {
  auto error = [](std::vector<std::string> entries) {
    try {
      (void)PrincipalBinding::parse(entries);
    } catch (const PrincipalBindingError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  CHECK(error({"a", ""}) == "[1] (\"\"): empty");
  CHECK(error({"a*b"}) == "[0] (\"a*b\"): \"*\" may only end an entry (\"prefix*\")");
  CHECK(error({"**"}) == "[0] (\"**\"): \"*\" may only end an entry (\"prefix*\")");
  CHECK(error({"a", "a"}) == "[1] (\"a\"): listed twice");
  CHECK(error({"a\tb"}) == "[0] (\"a\\x09b\"): the principal holds a control character");
}

TEST_CASE("principal names and excerpts", "[principal]") {
  CHECK_FALSE(principal_problem("CN=x,O=y").has_value());
  CHECK_FALSE(principal_problem("Zo\xc3\xab").has_value());
  CHECK(principal_problem("").has_value());
  CHECK(principal_problem(std::string(kMaxPrincipalLength + 1, 'a')).has_value());
  CHECK(principal_problem("a\x7f").has_value());
  CHECK(printable_excerpt("a\\b\x01") == "a\\\\b\\x01");
  CHECK(printable_excerpt(std::string(70, 'x'), 64) == std::string(64, 'x') + "...");
}
