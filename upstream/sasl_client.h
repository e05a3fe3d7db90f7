#pragma once
// The client side of Kafka SASL authentication for kedge's OWN upstream
// connections (backend.discovery.sasl). Client connections never come here:
// their SASL frames pass through untouched.
//
//   ScramClient   RFC 5802 client messages and the server-signature check, with
//                 SHA-256 / SHA-512 (RFC 7677, Kafka KIP-84). No I/O.
// KafkaSession (kafka_session.h) runs the Kafka frames around it (KIP-43,
// KIP-152): ApiVersions -> SaslHandshake v1 -> SaslAuthenticate v0..v2 (one
// round for PLAIN, two for SCRAM).
// Nothing throws; failures are values whose text names the cause and, for a
// refused authentication, carries the broker's error message. No password or
// proof ever appears in an error text.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "identity/scram.h"

namespace kedge::sasl {

// One SCRAM conversation (RFC 5802 §3, §5), on the primitives kedge's SCRAM
// server uses too (identity/scram.h: HMAC, Hi, base64, saslname, nonces).
// Kafka applies no SASLprep to the password (ScramFormatter uses its UTF-8
// bytes as they are); neither do we, so a password that works with the Java
// client works here.
class ScramClient {
 public:
  using Hash = scram::Hash;
  // Iteration counts outside scram::kMinIterations..kMaxIterations are
  // refused, as Kafka's Java client refuses them (ScramMechanism's bounds): a
  // server offering fewer would weaken the proof, more would make kedge spend
  // CPU at a hostile server's request.

  ScramClient(Hash hash, std::string username, std::string password, std::string client_nonce);

  // False when no nonce could be generated (RAND_bytes failed): do not start.
  bool has_nonce() const { return !client_nonce_.empty(); }
  // "n,,n=<user>,r=<nonce>" (no channel binding, no authzid).
  std::string client_first() const;
  // From server-first ("r=..,s=..,i=.."): "c=biws,r=<nonce>,p=<proof>", or
  // nullopt with `error` when the server message is malformed or unsafe (its
  // nonce does not extend ours, a mandatory extension, too many iterations).
  std::optional<std::string> client_final(std::string_view server_first, std::string& error);
  // server-final: "v=<ServerSignature>" must equal ours (constant-time), or
  // "e=<error>" is reported. Only valid after client_final succeeded.
  bool verify_server_final(std::string_view server_final, std::string& error) const;

 private:
  Hash hash_;
  std::string username_;
  std::string password_;
  std::string client_nonce_;
  std::string expected_server_signature_;  // raw bytes; set by client_final
};

}  // namespace kedge::sasl
