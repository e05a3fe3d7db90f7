#pragma once
// Gateway counters, named once (style practice 20): the X-macro generates the
// enum, the exposition names and the close-cause labels. Touched only on the
// loop thread.
#include <array>
#include <cstdint>
#include <string_view>

namespace kedge {

// Why a connection pair ended. Feeds the access log and the counters.
#define KEDGE_DISCONNECT_CAUSES(X)                                              \
  X(client_closed, "client closed the connection")                              \
  X(upstream_closed, "broker closed the connection")                            \
  X(client_error, "client socket error")                                        \
  X(upstream_error, "broker socket error")                                      \
  X(hello_timeout, "no complete TLS ClientHello/handshake before the deadline") \
  X(not_tls, "first bytes are not a TLS handshake")                             \
  X(malformed_hello, "malformed TLS ClientHello")                               \
  X(no_sni, "TLS ClientHello without server_name")                              \
  X(unknown_sni, "server_name matches no virtual cluster")                      \
  X(tls_handshake_failed, "TLS handshake failed")                               \
  X(unknown_broker, "broker id not known to the backend")                       \
  X(upstream_connect_failed, "could not connect to the backend")                \
  X(upstream_tls_failed, "TLS handshake with the backend failed")               \
  X(node_id_out_of_range, "broker id outside the listener's port pool")         \
  X(frame_error, "Kafka framing or protocol error")                             \
  X(shutdown, "kedge is shutting down")

enum class DisconnectCause : std::uint8_t {
#define KEDGE_X(name, text) name,
  KEDGE_DISCONNECT_CAUSES(KEDGE_X)
#undef KEDGE_X
};
inline constexpr std::size_t kDisconnectCauseCount = 0
#define KEDGE_X(name, text) +1
    KEDGE_DISCONNECT_CAUSES(KEDGE_X)
#undef KEDGE_X
    ;

constexpr std::string_view label(DisconnectCause cause) {
  switch (cause) {
#define KEDGE_X(name, text) case DisconnectCause::name: return #name;
    KEDGE_DISCONNECT_CAUSES(KEDGE_X)
#undef KEDGE_X
  }
  return "unknown";
}
constexpr std::string_view describe(DisconnectCause cause) {
  switch (cause) {
#define KEDGE_X(name, text) case DisconnectCause::name: return text;
    KEDGE_DISCONNECT_CAUSES(KEDGE_X)
#undef KEDGE_X
  }
  return "unknown";
}

struct GatewayStats {
  std::uint64_t connections_accepted = 0;
  std::uint64_t connections_active = 0;
  std::array<std::uint64_t, kDisconnectCauseCount> closed_by_cause{};
  std::uint64_t bytes_from_clients = 0;  // plaintext Kafka bytes
  std::uint64_t bytes_to_clients = 0;
  std::uint64_t discovery_requests = 0;
  std::uint64_t node_ids_out_of_range = 0;  // port routing: a response named a broker with no pool port
};

}  // namespace kedge
