#include "admin/model.h"

#include <algorithm>
#include <chrono>
#include <ctime>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace kedge {

std::uint64_t unix_now_ms() {
  using namespace std::chrono;
  return static_cast<std::uint64_t>(duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

void SharedBackendHealth::answered() {
  const std::uint64_t now = unix_now_ms();
  // Plain stores, last one wins (as the wall clock says, also after it was set
  // back); skipped when this millisecond is already recorded, so loops that see
  // many bootstrap connections do not keep writing the same cache line.
  if (last_success_unix_ms_.load(std::memory_order_relaxed) != now) {
    last_success_unix_ms_.store(now, std::memory_order_relaxed);
  }
}

void SharedBackendHealth::failed(std::string why) {
  const std::uint64_t now = unix_now_ms();
  std::lock_guard<std::mutex> lock(failure_mutex_);
  last_failure_unix_ms_ = now;
  last_error_ = std::move(why);
}

BackendHealth SharedBackendHealth::read() const {
  BackendHealth health;
  {
    std::lock_guard<std::mutex> lock(failure_mutex_);
    health.last_failure_unix_ms = last_failure_unix_ms_;
    health.last_error = last_error_;
  }
  health.last_success_unix_ms = last_success_unix_ms_.load(std::memory_order_relaxed);
  return health;
}

LoopStats WorkerStats::aligned(const std::vector<std::string>& listener_names,
                               const std::vector<std::string>& cluster_names) const {
  LoopStats out(listener_names.size(), cluster_names.size());
  for (std::size_t i = 0; i < listener_names.size(); ++i) {
    if (auto it = listeners.find(listener_names[i]); it != listeners.end()) out.listeners[i] = it->second;
  }
  for (std::size_t i = 0; i < cluster_names.size(); ++i) {
    if (auto it = clusters.find(cluster_names[i]); it != clusters.end()) out.clusters[i] = it->second;
  }
  return out;
}

void LoopStats::merge(const LoopStats& other) {
  for (std::size_t i = 0; i < listeners.size() && i < other.listeners.size(); ++i) {
    ListenerStats& to = listeners[i];
    const ListenerStats& from = other.listeners[i];
    to.connections_accepted += from.connections_accepted;
    to.connections_active += from.connections_active;
    for (std::size_t c = 0; c < to.closed_by_cause.size(); ++c) to.closed_by_cause[c] += from.closed_by_cause[c];
    for (std::size_t r = 0; r < to.tls_handshake_failures.size(); ++r) {
      to.tls_handshake_failures[r] += from.tls_handshake_failures[r];
    }
    to.sni_missing += from.sni_missing;
    to.sni_unrecognized += from.sni_unrecognized;
    for (std::size_t o = 0; o < to.proxy_headers.size(); ++o) to.proxy_headers[o] += from.proxy_headers[o];
  }
  for (std::size_t i = 0; i < clusters.size() && i < other.clusters.size(); ++i) {
    ClusterStats& to = clusters[i];
    const ClusterStats& from = other.clusters[i];
    to.connections_active += from.connections_active;
    to.bytes_from_clients += from.bytes_from_clients;
    to.bytes_to_clients += from.bytes_to_clients;
    to.responses_rewritten += from.responses_rewritten;
    to.node_endpoints_removed += from.node_endpoints_removed;
    to.upstream_connects += from.upstream_connects;
    to.upstream_connect_failures += from.upstream_connect_failures;
    to.upstream_connect_latency.merge(from.upstream_connect_latency);
    to.request_frame_errors += from.request_frame_errors;
    to.response_frame_errors += from.response_frame_errors;
    to.discovery_requests += from.discovery_requests;
    for (std::size_t m = 0; m < kAuthMechanismCount; ++m) {
      for (std::size_t o = 0; o < kAuthOutcomeCount; ++o) to.authentications[m][o] += from.authentications[m][o];
    }
    for (const auto& [principal, count] : from.connections_by_principal) to.connections_by_principal[principal] += count;
    for (std::size_t r = 0; r < kClientCertificateRefusalCount; ++r) {
      to.client_certificate_refusals[r] += from.client_certificate_refusals[r];
    }
    for (std::size_t q = 0; q < kQuotaKindCount; ++q) {
      to.throttled_requests[q] += from.throttled_requests[q];
      to.throttle_ms[q] += from.throttle_ms[q];
    }
    for (std::size_t c = 0; c < to.http.responses_by_class.size(); ++c) {
      to.http.responses_by_class[c] += from.http.responses_by_class[c];
    }
    to.http.websockets_opened += from.http.websockets_opened;
    to.http.websockets_active += from.http.websockets_active;
    to.http.subscriptions_active += from.http.subscriptions_active;
    for (std::size_t c = 0; c < kWsCommandCount; ++c) {
      to.http.commands[c] += from.http.commands[c];
      to.http.command_errors[c] += from.http.command_errors[c];
    }
    to.http.records_sent += from.http.records_sent;
    to.http.records_produced += from.http.records_produced;
    for (std::size_t a = 0; a < kApiSlots; ++a) {
      to.apis[a].requests += from.apis[a].requests;
      to.apis[a].responses += from.apis[a].responses;
      to.apis[a].endpoints_rewritten += from.apis[a].endpoints_rewritten;
      to.apis[a].latency.merge(from.apis[a].latency);
      for (std::size_t r = 0; r < policy::kRefusalCount; ++r) to.apis[a].refused[r] += from.apis[a].refused[r];
      to.apis[a].split += from.apis[a].split;
    }
  }
  reloads_succeeded += other.reloads_succeeded;
  reloads_failed += other.reloads_failed;
}

namespace {

// Label values: backslash, double quote and line feed are escaped (exposition
// format 0.0.4). Names from the config are already restricted to [a-z0-9-].
std::string escape(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

class Exposition {
 public:
  void family(std::string_view name, std::string_view type, std::string_view help) {
    fmt::format_to(std::back_inserter(out_), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  }
  // `labels` is already rendered: `listener="public",cause="x"` (may be empty).
  void sample(std::string_view name, std::string_view labels, std::uint64_t value) {
    if (labels.empty()) {
      fmt::format_to(std::back_inserter(out_), "{} {}\n", name, value);
    } else {
      fmt::format_to(std::back_inserter(out_), "{}{{{}}} {}\n", name, labels, value);
    }
  }
  void sample_real(std::string_view name, std::string_view labels, double value) {
    fmt::format_to(std::back_inserter(out_), "{}{{{}}} {}\n", name, labels, value);
  }
  void histogram(std::string_view name, std::string_view labels, const Histogram& h) {
    const std::string prefix = labels.empty() ? std::string() : std::string(labels) + ",";
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < kLatencyBoundsUs.size(); ++i) {
      cumulative += h.buckets[i];
      fmt::format_to(std::back_inserter(out_), "{}_bucket{{{}le=\"{}\"}} {}\n", name, prefix,
                     static_cast<double>(kLatencyBoundsUs[i]) / 1e6, cumulative);
    }
    cumulative += h.buckets.back();
    fmt::format_to(std::back_inserter(out_), "{}_bucket{{{}le=\"+Inf\"}} {}\n", name, prefix, cumulative);
    const std::string braces = labels.empty() ? std::string() : fmt::format("{{{}}}", labels);
    fmt::format_to(std::back_inserter(out_), "{}_sum{} {}\n", name, braces, static_cast<double>(h.sum_us) / 1e6);
    fmt::format_to(std::back_inserter(out_), "{}_count{} {}\n", name, braces, h.count);
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

std::string listener_label(const GatewaySnapshot& s, std::size_t i) {
  return fmt::format("listener=\"{}\"", escape(s.listeners[i].name));
}
std::string cluster_label(const GatewaySnapshot& s, std::size_t i) {
  return fmt::format("virtual_cluster=\"{}\"", escape(s.clusters[i].name));
}

std::string iso8601(std::uint64_t unix_ms) {
  if (unix_ms == 0) return {};
  const std::time_t secs = static_cast<std::time_t>(unix_ms / 1000);
  std::tm utc{};
  gmtime_r(&secs, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);
  return fmt::format("{}.{:03d}Z", stamp, static_cast<int>(unix_ms % 1000));
}

}  // namespace

Readiness evaluate_readiness(const GatewaySnapshot& snapshot) {
  if (snapshot.draining) return {false, "draining"};
  for (const ListenerSnapshot& listener : snapshot.listeners) {
    if (!listener.bound) return {false, fmt::format("listener {} is not bound", listener.name)};
  }
  for (const ClusterSnapshot& cluster : snapshot.clusters) {
    const BackendHealth& health = cluster.health;
    if (health.reachable()) continue;
    if (health.last_success_unix_ms == 0 && health.last_failure_unix_ms == 0) {
      return {false, fmt::format("virtual cluster {}: backend not contacted yet", cluster.name)};
    }
    return {false, fmt::format("virtual cluster {}: backend unreachable: {}", cluster.name, health.last_error)};
  }
  return {true, "ready"};
}

namespace {

void render_process(Exposition& out, const GatewaySnapshot& s) {
  const LoopStats& stats = s.stats;
  out.family("kedge_build_info", "gauge", "kedge version; always 1.");
  out.sample("kedge_build_info", fmt::format("version=\"{}\"", escape(s.version)), 1);
  out.family("kedge_start_time_seconds", "gauge", "Unix time kedge started.");
  out.sample("kedge_start_time_seconds", "", s.started_unix_ms / 1000);
  out.family("kedge_ready", "gauge", "1 when /readyz answers 200.");
  out.sample("kedge_ready", "", evaluate_readiness(s).ready ? 1 : 0);
  out.family("kedge_config_reloads_total", "counter", "Configuration reloads by result.");
  out.sample("kedge_config_reloads_total", "result=\"success\"", stats.reloads_succeeded);
  out.sample("kedge_config_reloads_total", "result=\"failure\"", stats.reloads_failed);
}

void render_listeners(Exposition& out, const GatewaySnapshot& s) {
  const LoopStats& stats = s.stats;
  const std::size_t listeners = std::min(s.listeners.size(), stats.listeners.size());
  out.family("kedge_listener_up", "gauge", "1 when the listener is bound.");
  for (std::size_t i = 0; i < listeners; ++i) {
    out.sample("kedge_listener_up", listener_label(s, i), s.listeners[i].bound ? 1 : 0);
  }
  out.family("kedge_connections_accepted_total", "counter", "Client connections accepted.");
  for (std::size_t i = 0; i < listeners; ++i) {
    out.sample("kedge_connections_accepted_total", listener_label(s, i), stats.listeners[i].connections_accepted);
  }
  out.family("kedge_connections_active", "gauge", "Client connections open now.");
  for (std::size_t i = 0; i < listeners; ++i) {
    out.sample("kedge_connections_active", listener_label(s, i), stats.listeners[i].connections_active);
  }
  out.family("kedge_connections_closed_total", "counter", "Client connections closed, by cause.");
  for (std::size_t i = 0; i < listeners; ++i) {
    for (std::size_t c = 0; c < kDisconnectCauseCount; ++c) {
      out.sample("kedge_connections_closed_total",
                 fmt::format("{},cause=\"{}\"", listener_label(s, i), label(static_cast<DisconnectCause>(c))),
                 stats.listeners[i].closed_by_cause[c]);
    }
  }
  out.family("kedge_tls_handshake_failures_total", "counter", "TLS handshakes that failed, by reason.");
  for (std::size_t i = 0; i < listeners; ++i) {
    for (std::size_t r = 0; r < kTlsFailureCount; ++r) {
      out.sample("kedge_tls_handshake_failures_total",
                 fmt::format("{},reason=\"{}\"", listener_label(s, i), label(static_cast<TlsFailure>(r))),
                 stats.listeners[i].tls_handshake_failures[r]);
    }
  }
  out.family("kedge_sni_unrecognized_total", "counter",
             "ClientHellos refused with unrecognized_name: no server_name, or a name no virtual cluster claims.");
  for (std::size_t i = 0; i < listeners; ++i) {
    out.sample("kedge_sni_unrecognized_total", listener_label(s, i) + ",reason=\"no_sni\"",
               stats.listeners[i].sni_missing);
    out.sample("kedge_sni_unrecognized_total", listener_label(s, i) + ",reason=\"unknown_name\"",
               stats.listeners[i].sni_unrecognized);
  }
  out.family("kedge_proxy_headers_total", "counter",
             "First bytes of connections on PROXY-protocol listeners: v1, v2, absent or malformed header.");
  for (std::size_t i = 0; i < listeners; ++i) {
    if (s.listeners[i].proxy_protocol == "off") continue;
    for (std::size_t o = 0; o < kProxyOutcomeCount; ++o) {
      out.sample("kedge_proxy_headers_total",
                 fmt::format("{},outcome=\"{}\"", listener_label(s, i), label(static_cast<ProxyOutcome>(o))),
                 stats.listeners[i].proxy_headers[o]);
    }
  }
}

void render_clusters(Exposition& out, const GatewaySnapshot& s) {
  const LoopStats& stats = s.stats;
  const std::size_t clusters = std::min(s.clusters.size(), stats.clusters.size());
  const auto per_cluster = [&](std::string_view name, std::string_view type, std::string_view help, auto value) {
    out.family(name, type, help);
    for (std::size_t i = 0; i < clusters; ++i) out.sample(name, cluster_label(s, i), value(i));
  };
  per_cluster("kedge_backend_reachable", "gauge",
              "1 when the backend answered (bootstrap connect or discovery) more recently than it failed.",
              [&](std::size_t i) { return s.clusters[i].health.reachable() ? 1 : 0; });
  per_cluster("kedge_known_brokers", "gauge", "Brokers whose real address kedge knows.",
              [&](std::size_t i) { return s.clusters[i].brokers.size(); });
  per_cluster("kedge_virtual_cluster_connections_active", "gauge", "Client connections routed to the cluster.",
              [&](std::size_t i) { return stats.clusters[i].connections_active; });
  per_cluster("kedge_client_bytes_received_total", "counter", "Kafka bytes (TLS plaintext) received from clients.",
              [&](std::size_t i) { return stats.clusters[i].bytes_from_clients; });
  per_cluster("kedge_client_bytes_sent_total", "counter", "Kafka bytes (TLS plaintext) sent to clients.",
              [&](std::size_t i) { return stats.clusters[i].bytes_to_clients; });
  per_cluster("kedge_responses_rewritten_total", "counter", "Responses whose bytes kedge changed (any API).",
              [&](std::size_t i) { return stats.clusters[i].responses_rewritten; });
  per_cluster("kedge_fetch_node_endpoints_removed_total", "counter",
              "Streamed Fetch responses (larger than limits.fetch_buffer_bytes) whose KIP-951 NodeEndpoints were "
              "removed because kedge's names are longer than the backend's; clients then refresh Metadata.",
              [&](std::size_t i) { return stats.clusters[i].node_endpoints_removed; });
  per_cluster("kedge_upstream_connects_total", "counter", "Broker connections established.",
              [&](std::size_t i) { return stats.clusters[i].upstream_connects; });
  per_cluster("kedge_upstream_connect_failures_total", "counter",
              "Broker connection attempts that failed (resolve, refuse, timeout).",
              [&](std::size_t i) { return stats.clusters[i].upstream_connect_failures; });
  per_cluster("kedge_discovery_requests_total", "counter",
              "Metadata round trips kedge made itself to learn broker addresses.",
              [&](std::size_t i) { return stats.clusters[i].discovery_requests; });
  out.family("kedge_frame_errors_total", "counter", "Kafka framing/protocol errors that closed a connection pair.");
  for (std::size_t i = 0; i < clusters; ++i) {
    out.sample("kedge_frame_errors_total", cluster_label(s, i) + ",direction=\"request\"",
               stats.clusters[i].request_frame_errors);
    out.sample("kedge_frame_errors_total", cluster_label(s, i) + ",direction=\"response\"",
               stats.clusters[i].response_frame_errors);
  }
  out.family("kedge_authentications_total", "counter",
             "Client authentications kedge terminated, by mechanism and outcome (only pairs seen).");
  for (std::size_t i = 0; i < clusters; ++i) {
    for (std::size_t m = 0; m < kAuthMechanismCount; ++m) {
      for (std::size_t o = 0; o < kAuthOutcomeCount; ++o) {
        const std::uint64_t n = stats.clusters[i].authentications[m][o];
        if (n == 0) continue;
        out.sample("kedge_authentications_total",
                   fmt::format("{},mechanism=\"{}\",outcome=\"{}\"", cluster_label(s, i),
                               label(static_cast<AuthMechanism>(m)), label(static_cast<AuthOutcome>(o))),
                   n);
      }
    }
  }
  out.family("kedge_policy_refusals_total", "counter",
             "Requests a virtual cluster's policy refused, by API and reason (only pairs seen; docs/policy.md).");
  for (std::size_t i = 0; i < clusters; ++i) {
    for (std::size_t a = 0; a < kApiSlots; ++a) {
      for (std::size_t r = 0; r < policy::kRefusalCount; ++r) {
        const std::uint64_t n = stats.clusters[i].apis[a].refused[r];
        if (n == 0) continue;
        out.sample("kedge_policy_refusals_total",
                   fmt::format("{},api=\"{}\",reason=\"{}\"", cluster_label(s, i), api_label(a),
                               policy::to_string(static_cast<policy::Refusal>(r))),
                   n);
      }
    }
  }
  out.family("kedge_policy_split_requests_total", "counter",
             "Requests whose topics a policy's ACLs allowed only in part: the allowed ones forwarded, the refused "
             "ones answered by kedge in the same response (also counted in kedge_policy_refusals_total).");
  for (std::size_t i = 0; i < clusters; ++i) {
    for (std::size_t a = 0; a < kApiSlots; ++a) {
      const std::uint64_t n = stats.clusters[i].apis[a].split;
      if (n == 0) continue;
      out.sample("kedge_policy_split_requests_total", fmt::format("{},api=\"{}\"", cluster_label(s, i), api_label(a)), n);
    }
  }
  out.family("kedge_http_responses_total", "counter",
             "HTTP answers of the HTTP/WebSocket front (docs/http.md), by status class (101: WebSocket upgrades).");
  for (std::size_t i = 0; i < clusters; ++i) {
    for (std::size_t c = 0; c < 5; ++c) {
      const std::uint64_t n = stats.clusters[i].http.responses_by_class[c];
      if (n == 0) continue;
      out.sample("kedge_http_responses_total", fmt::format("{},code=\"{}xx\"", cluster_label(s, i), c + 1), n);
    }
  }
  per_cluster("kedge_websockets_opened_total", "counter", "WebSocket connections opened (upgrades accepted).",
              [&](std::size_t i) { return stats.clusters[i].http.websockets_opened; });
  per_cluster("kedge_websockets_active", "gauge", "WebSocket connections open now.",
              [&](std::size_t i) { return stats.clusters[i].http.websockets_active; });
  per_cluster("kedge_websocket_subscriptions_active", "gauge", "Partitions streamed to WebSocket subscribers now.",
              [&](std::size_t i) { return stats.clusters[i].http.subscriptions_active; });
  out.family("kedge_websocket_commands_total", "counter", "WebSocket commands received, by command.");
  for (std::size_t i = 0; i < clusters; ++i) {
    for (std::size_t c = 0; c < kWsCommandCount; ++c) {
      const std::uint64_t n = stats.clusters[i].http.commands[c];
      if (n == 0) continue;
      out.sample("kedge_websocket_commands_total",
                 fmt::format("{},command=\"{}\"", cluster_label(s, i), label(static_cast<WsCommand>(c))), n);
    }
  }
  out.family("kedge_websocket_command_errors_total", "counter",
             "WebSocket commands answered with an error (ErrorResp / type error), by command.");
  for (std::size_t i = 0; i < clusters; ++i) {
    for (std::size_t c = 0; c < kWsCommandCount; ++c) {
      const std::uint64_t n = stats.clusters[i].http.command_errors[c];
      if (n == 0) continue;
      out.sample("kedge_websocket_command_errors_total",
                 fmt::format("{},command=\"{}\"", cluster_label(s, i), label(static_cast<WsCommand>(c))), n);
    }
  }
  per_cluster("kedge_http_records_sent_total", "counter",
              "Records delivered to HTTP and WebSocket clients (fetch, subscribe, REST reads).",
              [&](std::size_t i) { return stats.clusters[i].http.records_sent; });
  per_cluster("kedge_http_records_produced_total", "counter",
              "Records written to Kafka for HTTP and WebSocket clients (REST and WebSocket produce).",
              [&](std::size_t i) { return stats.clusters[i].http.records_produced; });
  out.family("kedge_quota_throttled_requests_total", "counter",
             "Requests whose client was over a quota and was throttled (KIP-219), by quota (docs/policy.md).");
  for (std::size_t i = 0; i < clusters; ++i) {
    for (std::size_t q = 0; q < kQuotaKindCount; ++q) {
      const std::uint64_t n = stats.clusters[i].throttled_requests[q];
      if (n == 0) continue;
      out.sample("kedge_quota_throttled_requests_total",
                 fmt::format("{},quota=\"{}\"", cluster_label(s, i), label(static_cast<QuotaKind>(q))), n);
    }
  }
  out.family("kedge_quota_throttle_seconds_total", "counter",
             "Throttle time kedge gave clients over a quota (the ThrottleTimeMs of their responses), by quota.");
  for (std::size_t i = 0; i < clusters; ++i) {
    for (std::size_t q = 0; q < kQuotaKindCount; ++q) {
      const std::uint64_t ms = stats.clusters[i].throttle_ms[q];
      if (ms == 0) continue;
      out.sample_real("kedge_quota_throttle_seconds_total",
                 fmt::format("{},quota=\"{}\"", cluster_label(s, i), label(static_cast<QuotaKind>(q))),
                 static_cast<double>(ms) / 1000.0);
    }
  }
  out.family("kedge_client_certificate_refusals_total", "counter",
             "mTLS client certificates refused, by reason (the TLS alert follows OpenSSL's verification error; "
             "not_bound: access_denied on TLS 1.3).");
  for (std::size_t i = 0; i < clusters; ++i) {
    for (std::size_t r = 0; r < kClientCertificateRefusalCount; ++r) {
      out.sample("kedge_client_certificate_refusals_total",
                 fmt::format("{},reason=\"{}\"", cluster_label(s, i), label(static_cast<ClientCertificateRefusal>(r))),
                 stats.clusters[i].client_certificate_refusals[r]);
    }
  }
  if (s.principal_metric_limit > 0) {
    out.family("kedge_principal_connections_active", "gauge",
               "Open connections per authenticated principal: the admin.principal_metric_limit principals with the "
               "most per virtual cluster, the rest as principal=\"other\".");
    for (std::size_t i = 0; i < clusters; ++i) {
      std::vector<std::pair<std::string_view, std::uint64_t>> ranked(stats.clusters[i].connections_by_principal.begin(),
                                                                     stats.clusters[i].connections_by_principal.end());
      std::stable_sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
      std::uint64_t other = 0;
      for (std::size_t r = 0; r < ranked.size(); ++r) {
        if (r >= s.principal_metric_limit) {
          other += ranked[r].second;
          continue;
        }
        out.sample("kedge_principal_connections_active",
                   fmt::format("{},principal=\"{}\"", cluster_label(s, i), escape(ranked[r].first)), ranked[r].second);
      }
      if (other > 0) {
        out.sample("kedge_principal_connections_active", cluster_label(s, i) + ",principal=\"other\"", other);
      }
    }
  }
  out.family("kedge_upstream_connect_duration_seconds", "histogram", "Time to establish a broker TCP connection.");
  for (std::size_t i = 0; i < clusters; ++i) {
    out.histogram("kedge_upstream_connect_duration_seconds", cluster_label(s, i),
                  stats.clusters[i].upstream_connect_latency);
  }
}

// Per virtual cluster and API: only APIs seen, to keep the page short.
void render_apis(Exposition& out, const GatewaySnapshot& s) {
  const LoopStats& stats = s.stats;
  const std::size_t clusters = std::min(s.clusters.size(), stats.clusters.size());
  const auto per_api = [&](std::string_view name, std::string_view help, auto value) {
    out.family(name, "counter", help);
    for (std::size_t i = 0; i < clusters; ++i) {
      for (std::size_t a = 0; a < kApiSlots; ++a) {
        const ApiStats& api = stats.clusters[i].apis[a];
        if (api.requests == 0 && api.responses == 0) continue;
        out.sample(name, fmt::format("{},api=\"{}\"", cluster_label(s, i), api_label(a)), value(api));
      }
    }
  };
  per_api("kedge_requests_total", "Kafka requests from clients, by API.",
          [](const ApiStats& api) { return api.requests; });
  per_api("kedge_responses_total", "Kafka responses forwarded to clients, by API.",
          [](const ApiStats& api) { return api.responses; });
  per_api("kedge_rewritten_endpoints_total", "Broker endpoints rewritten in responses, by API.",
          [](const ApiStats& api) { return api.endpoints_rewritten; });
  out.family("kedge_request_duration_seconds", "histogram",
             "From reading a request's header to handing its response to TLS, by API.");
  for (std::size_t i = 0; i < clusters; ++i) {
    for (std::size_t a = 0; a < kApiSlots; ++a) {
      const ApiStats& api = stats.clusters[i].apis[a];
      if (api.requests == 0 && api.responses == 0) continue;
      out.histogram("kedge_request_duration_seconds", fmt::format("{},api=\"{}\"", cluster_label(s, i), api_label(a)),
                    api.latency);
    }
  }
}

}  // namespace

std::string render_metrics(const GatewaySnapshot& s) {
  Exposition out;
  render_process(out, s);
  render_listeners(out, s);
  render_clusters(out, s);
  render_apis(out, s);
  return out.take();
}

std::string render_state(const GatewaySnapshot& s) {
  using nlohmann::json;
  const Readiness readiness = evaluate_readiness(s);
  json doc;
  doc["version"] = s.version;
  doc["started_at"] = iso8601(s.started_unix_ms);
  doc["now"] = iso8601(s.now_unix_ms);
  doc["ready"] = readiness.ready;
  doc["ready_reason"] = readiness.reason;
  doc["draining"] = s.draining;
  json listeners = json::array();
  for (std::size_t i = 0; i < s.listeners.size(); ++i) {
    const ListenerSnapshot& l = s.listeners[i];
    json entry{{"name", l.name}, {"bind", l.bind}, {"advertised_port", l.advertised_port},
               {"proxy_protocol", l.proxy_protocol}, {"bound", l.bound}};
    if (i < s.stats.listeners.size()) {
      entry["connections_active"] = s.stats.listeners[i].connections_active;
      entry["connections_accepted"] = s.stats.listeners[i].connections_accepted;
    }
    listeners.push_back(std::move(entry));
  }
  doc["listeners"] = std::move(listeners);
  json clusters = json::array();
  for (std::size_t i = 0; i < s.clusters.size(); ++i) {
    const ClusterSnapshot& c = s.clusters[i];
    json brokers = json::array();
    for (const BrokerSnapshot& b : c.brokers) {
      brokers.push_back({{"node_id", b.node_id},
                         {"address", b.address},
                         {"learned_from", b.learned_from},
                         {"learned_at", iso8601(b.learned_unix_ms)}});
    }
    json backend{{"bootstrap_servers", c.bootstrap_servers},
                 {"reachable", c.health.reachable()},
                 {"last_success_at", c.health.last_success_unix_ms ? json(iso8601(c.health.last_success_unix_ms))
                                                                    : json(nullptr)},
                 {"last_failure_at", c.health.last_failure_unix_ms ? json(iso8601(c.health.last_failure_unix_ms))
                                                                    : json(nullptr)},
                 {"last_error", c.health.last_error.empty() ? json(nullptr) : json(c.health.last_error)}};
    json entry{{"name", c.name},
               {"hostnames", {{"format", c.hostname_format}, {"domain", c.domain}}},
               {"bootstrap", c.bootstrap_host},
               {"backend", std::move(backend)},
               {"brokers", std::move(brokers)}};
    if (i < s.stats.clusters.size()) {
      entry["connections_active"] = s.stats.clusters[i].connections_active;
      json principals = json::object();  // where kedge authenticates clients: open connections per principal
      for (const auto& [principal, count] : s.stats.clusters[i].connections_by_principal) principals[principal] = count;
      entry["connections_by_principal"] = std::move(principals);
    }
    clusters.push_back(std::move(entry));
  }
  doc["virtual_clusters"] = std::move(clusters);
  return doc.dump(2) + "\n";
}

}  // namespace kedge
