#pragma once
// The requests of one client connection that await a response, and the codec
// state that exists only while some do.
//
// Client bytes pass through the RequestTracker (headers only, bytes
// unchanged) into the FIFO of requests owed a response (style practice 5);
// broker bytes go through the ResponseProcessor, which uses that FIFO to know
// how to read each response. Per request the table also keeps its API and
// when its header was read, for the request-latency histogram.
//
// An idle connection holds none of that: the first request takes an
// InFlightState from the loop's InFlightPool and the last response owed hands
// it back, so a pipelining client that drains and refills thousands of times
// a second reuses the processor, its buffers and the FIFO instead of
// allocating them again, and the pool bounds what the loop keeps.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "admin/counters.h"
#include "kafka_codec/stream.h"

namespace kedge {

// What a connection holds only while requests are in flight.
struct InFlightState {
  InFlightState(std::uint32_t max_frame_bytes, kafka::AddressMap& addresses, std::uint32_t fetch_buffer_bytes)
      : responses(max_frame_bytes, addresses, fetch_buffer_bytes) {}
  kafka::ResponseProcessor responses;
  kafka::InFlightQueue requests;
  // Per request in `requests`, in order: API slot and uv_hrtime() when its
  // header was read. timings[timings_head..] wait for their response.
  struct Timing {
    std::uint16_t api_slot;
    std::uint64_t started_ns;
  };
  std::vector<Timing> timings;
  std::size_t timings_head = 0;
};

// Idle connections' InFlightState, kept for the next connection of the same
// loop that needs one: at most kMaxSpare, each with buffers of at most
// kKeepBytes, a bounded cost per loop rather than per connection.
class InFlightPool {
 public:
  static constexpr std::size_t kMaxSpare = 32;
  static constexpr std::size_t kKeepBytes = 16 * 1024;
  std::unique_ptr<InFlightState> take(std::uint32_t max_frame_bytes, kafka::AddressMap& addresses,
                                      std::uint32_t fetch_buffer_bytes);
  void give(std::unique_ptr<InFlightState> state);
  std::size_t spare() const { return spare_.size(); }

 private:
  std::vector<std::unique_ptr<InFlightState>> spare_;
};

struct InFlightLimits {
  std::uint32_t max_frame_bytes;
  std::uint32_t fetch_buffer_bytes;
};

// The in-flight table of one connection. Loop thread only.
class InFlightTable {
 public:
  InFlightTable(InFlightPool& pool, kafka::AddressMap& addresses, InFlightLimits limits)
      : pool_(pool), addresses_(addresses), limits_(limits), tracker_(limits.max_frame_bytes) {}

  // Client bytes on their way to the broker: records every request header
  // and counts requests per API in `stats`. On an error the connection must
  // be closed (kafka::Errc::sasl_v0_unsupported: a SaslHandshake v0).
  kafka::Errc on_client_bytes(std::span<const std::uint8_t> bytes, ClusterStats& stats);
  // The same on a connection where kedge answers some requests itself (SASL
  // termination): `router` routes each request (RequestTracker's routing
  // feed); forwarded bytes go to `to_broker`, captured requests to the router.
  // A connection uses one overload or the other for its whole life.
  kafka::Errc on_client_bytes(std::span<const std::uint8_t> bytes, ClusterStats& stats, kafka::RequestRouter& router,
                              kafka::ByteSink& to_broker);
  // Broker bytes on their way to the client: writes what the client must
  // receive to `sink`, counts responses, rewrites and latencies in `stats`.
  struct Progress {
    kafka::Errc errc = kafka::Errc::ok;
    std::uint64_t node_endpoints_removed = 0;  // streamed Fetch responses whose NodeEndpoints did not fit
  };
  Progress on_broker_bytes(std::span<const std::uint8_t> bytes, kafka::ByteSink& sink, ClusterStats& stats);
  // kedge's answer (a whole response frame) to the captured request
  // `correlation_id`: written to `sink` when that request is the oldest owed a
  // response, in order with the broker's responses (ResponseProcessor::answer).
  kafka::Errc answer(std::int32_t correlation_id, std::vector<std::uint8_t> frame, kafka::ByteSink& sink,
                     ClusterStats& stats);

  // True if the captured request `correlation_id` is in flight, owed kedge's
  // answer (false for one that expects no response: Produce with acks=0).
  bool awaits_answer(std::int32_t correlation_id) const;
  // True while a request awaits its response (a drain waits for these).
  bool requests_pending() const { return state_ && !state_->requests.empty(); }
  std::size_t requests_in_flight() const { return state_ ? state_->requests.size() : 0; }
  // The request whose response is being (or was last) processed.
  const kafka::RequestInfo& current_request() const;
  // Hands the state back to the pool when no response is owed or streaming.
  void release_if_idle();

 private:
  InFlightState& state();
  // Counts the requests the tracker saw since `seen_before` (queued from index `before`).
  void count_requests(InFlightState& s, std::size_t before, std::uint64_t seen_before, ClusterStats& stats);
  // Counts the responses completed since `responses_before` and their latencies.
  void count_responses(InFlightState& s, std::uint64_t responses_before, ClusterStats& stats);

  InFlightPool& pool_;
  kafka::AddressMap& addresses_;
  const InFlightLimits limits_;
  kafka::RequestTracker tracker_;  // frame boundaries of the client's stream: lives as long as the connection
  std::unique_ptr<InFlightState> state_;
  std::uint64_t responses_expected_ = 0;  // responses owed by the broker to state_->responses
  // During a routing on_client_bytes(): the queue size and requests seen not counted yet.
  struct Feed {
    std::size_t queued_before;
    std::uint64_t seen_before;
  };
  std::optional<Feed> feed_;
};

}  // namespace kedge
