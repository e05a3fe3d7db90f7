#pragma once
// Shared by the identity tests: RFC 7677 §3's SCRAM-SHA-256 example and a SCRAM-SHA-512 conversation with
// the same inputs, its values computed independently (Python hashlib/hmac, not kedge's code):
//   user "user", password "pencil", salt W22ZaJ0SNY7soEsUEjb6gQ==, 4096 iterations,
//   client nonce rOprNGfwEbeRWgbNEkqO, server nonce part %hvYDpWUa2RaTCAfuxFIlj)hNlF$k0.
#include <string>

#include "identity/users_file.h"

namespace kedge::identity::testing {

inline constexpr const char* kSalt = "W22ZaJ0SNY7soEsUEjb6gQ==";
inline constexpr const char* kClientNonce = "rOprNGfwEbeRWgbNEkqO";
inline constexpr const char* kServerNonce = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
inline constexpr const char* kClientFirst = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
inline constexpr const char* kServerFirst =
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
inline constexpr const char* kFinalWithoutProof = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";

// SCRAM-SHA-256 (RFC 7677 §3 gives the messages; the keys are derived from them).
inline constexpr const char* kStoredKey256 = "WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=";
inline constexpr const char* kServerKey256 = "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=";
inline constexpr const char* kClientFinal256 =
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
inline constexpr const char* kServerFinal256 = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

// SCRAM-SHA-512, same inputs.
inline constexpr const char* kStoredKey512 =
    "6AAub3065EYRmyFpM2RNwqK+eGnrkYuEWbXn19LsEmBqzu8QaCXNc1FwpnX9NhH2hK/60dzj9DoO5DvVkOHbvg==";
inline constexpr const char* kServerKey512 =
    "jZHbYjC1aHh0/hKbxyBuGFjDrgjgKTT1esA7awWiKcRZ0o/0b1yWEebBeSVkkCFewf91nLDfKF24mvD5nmE6rA==";
inline constexpr const char* kClientFinal512 =
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=gMGXRcevScNtxZ6/8lQYpGtnsNAc3mGcmNomv+xnoOMw+3R2xNJd"
    "MNnzMlTN8PPC6wdp6dybEmDYXYTxwnYPJQ==";
inline constexpr const char* kServerFinal512 =
    "v=ZQnYEgWQMFmmsM8aQMF0nDDCy/AgCzkwk8CmMZYcMg0vSVlKDanekLtifDSeVGT4+5ZxXnJq199RVG2rR7N7Zw==";

// A users file holding "user" with both credentials above (the secret is 32 bytes of 'k').
inline std::string rfc_users_file_text() {
  return std::string(R"({"version": 1, "unknown_user_secret": "a2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2s=",)") +
         R"( "users": {"user": {)" +
         R"("SCRAM-SHA-256": {"salt": ")" + kSalt + R"(", "iterations": 4096, "stored_key": ")" + kStoredKey256 +
         R"(", "server_key": ")" + kServerKey256 + R"("},)" +
         R"("SCRAM-SHA-512": {"salt": ")" + kSalt + R"(", "iterations": 4096, "stored_key": ")" + kStoredKey512 +
         R"(", "server_key": ")" + kServerKey512 + R"("}}}})";
}

inline UserStore rfc_store() { return UserStore::parse(rfc_users_file_text(), "rfc-users.json"); }

}  // namespace kedge::identity::testing
