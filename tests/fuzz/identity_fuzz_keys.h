#pragma once
// The fixed key set of the identity fuzz targets: test keys made once for fuzzing (never used elsewhere).
// kFuzzJwks holds the public halves (kid "fuzz-rsa": RSA-2048, kid "fuzz-ec": P-256); kFuzzEcPrivateKeyPem
// lets fuzz_jwt sign fuzzer-made headers and payloads so that the claims checks behind the signature are
// reached too.
namespace kedge::identity::fuzz {

inline constexpr const char* kFuzzJwks =
    "{\"keys\": [{\"kty\": \"RSA\", \"key_ops\": [\"verify\"], \"n\": \"o_XZDpMlDQFvZPiP5maMLsyaxxCxWXcZp-0WA5lS1fC_nO"
    "Y7qjx99H129teX9Bl95F2xxboz_cxTbBT5rTqigTCdHpgW51EQ4PKojM3i2OSU9mQPT1J_DwEsJ6XuGwPKDfs624Szn1829VCTkq"
    "vjQe6HZPI2F3c8nop9aGhfzNaEoocO0KWYHcajoi4WY173grSEJHFIhz0Qz-wjn3MQnIT50kCblR6ZehaVC-Z3EwGlEh1GKg7CWd"
    "TEAXVS03YimDaQUG0eKFeTBlLkZ0T4fi191011WNwgOQemBS4aKtg0Wc1aMyPLdVtxnKFqmPgxLBgR9WURUtKqSB7Ml0TPAw\", \""
    "e\": \"AQAB\", \"kid\": \"fuzz-rsa\"}, {\"kty\": \"EC\", \"crv\": \"P-256\", \"x\": "
    "\"vLSuTsONhY4MtG7ZT_K5wLm5rln75NP1"
    "y0MvWYu3aW8\", \"y\": \"KdOxeRx6W-HOvQ4HRF7WCUkTDLa8UlidZH2KXF8E45M\", \"kid\": \"fuzz-ec\"}]}";

inline constexpr const char* kFuzzEcPrivateKeyPem =
    "-----BEGIN PRIVATE "
    "KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgZnp/"
    "ghYXVvgcgeDa\nt8wyjsnm6Tu0eVeSCMU4yKjAxi+hRANCAAS8tK5Ow42Fjgy0btlP8rnAubmuWfvk\n0/"
    "XLQy9Zi7dpbynTsXkcelvhzr0OB0Re1glJEwy2vF"
    "JYnWR9ilxfBOOT\n-----END PRIVATE KEY-----\n";

}  // namespace kedge::identity::fuzz
