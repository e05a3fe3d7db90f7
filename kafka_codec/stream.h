#pragma once
// Streaming Kafka framing for a proxy: the two directions of one client
// connection. Pure: no libuv, no OpenSSL, no exceptions on the data path.
//
// Requests (client -> broker) are forwarded byte for byte by the caller; the
// RequestTracker only follows frame boundaries and records each request's
// header in the InFlightQueue so the matching response can be interpreted.
// Responses (broker -> client) go through a ResponseProcessor, which streams
// frames it does not need to decode and rewrites the few that carry broker
// addresses (see engine.h) or ApiVersions ranges: whole, or for large Fetch
// v16+ responses streaming with only the tail held (fetch_stream.h).
//
// Correlation: brokers answer in request order on a connection
// (kafka-protocol.md §2), so the in-flight table is a FIFO; a response whose
// correlation id does not match the head is an error (Errc::correlation_mismatch).
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kafka_codec/api.h"
#include "kafka_codec/client.h"
#include "kafka_codec/errc.h"
#include "kafka_codec/rename.h"
#include "kafka_codec/split.h"
#include "kafka_codec/topic_filter.h"

namespace kedge::kafka {


struct RequestInfo {
  std::int16_t api_key = 0;
  std::int16_t api_version = 0;
  std::int32_t correlation_id = 0;
  // Answered by kedge (ResponseProcessor::answer), not by the broker: the
  // request was captured (RequestRouter) and never forwarded.
  bool local = false;
  // A KIP-43 SASL token after a SaslHandshake v0: a bare `int32 size | token`
  // frame with no request header, answered by a bare token (or by closing).
  // Such an entry carries api_key SaslAuthenticate (the role it plays),
  // version 0 and the handshake's correlation id.
  bool unframed_sasl_token = false;
  // False for a Produce with acks=0: no response comes, and none is queued
  // in flight (known once the header and Produce's Acks are read).
  bool expects_response = true;
  // The frame's size (after its 4-byte size prefix), as announced.
  std::uint32_t frame_size = 0;
  // Set by a RequestRouter that throttles the client (quotas, KIP-219): the
  // response's ThrottleTimeMs becomes at least this (ResponseProcessor);
  // Produce v3+ and Fetch v1+ carry the field, other APIs pass unchanged.
  std::int32_t throttle_ms = 0;
  // Set by a RequestRouter that wants to know when the response starts
  // (quotas: count fetched bytes, mute a throttled client as its response
  // goes out): the processor calls AddressMap::on_response_start.
  bool report_response = false;
  // Set by a RequestRouter whose policy has ACLs, on a Metadata or
  // OffsetFetch request: the response's topics go through
  // AddressMap::describable (topic_filter.h), left out of a listing (all
  // topics asked) or refused where they were asked for (by name, or by id).
  std::optional<TopicsAsked> filter_topics;
  // Set by a RequestRouter that forwarded only the allowed part of a request
  // (split.h): the response is held whole and the refused topics' entries
  // are merged into it.
  std::shared_ptr<const SplitAnswer> split;
  // Set by a RequestRouter whose policy has ACLs, on a ListGroups request of
  // a client without Describe on the cluster: the response keeps only the
  // groups AddressMap::group_describable allows (topic_filter.h).
  bool filter_groups = false;
  // Set by a RequestRouter whose cluster has a namespace (rename.h), when the
  // response names topics, groups or transactional ids: their prefixes
  // (AddressMap::name_prefixes) are taken off. coordinator_key_type: a
  // FindCoordinator's KeyType, which its response's keys are.
  bool strip_names = false;
  std::int8_t coordinator_key_type = -1;
  // Set by a RequestRouter whose cluster has a namespace, on a ListTransactions
  // request: the response keeps only the transactions whose TransactionalId
  // carries the namespace's transactional id prefix (AddressMap::name_prefixes;
  // filter_list_transactions, topic_filter.h), before strip_names takes it off.
  // The broker lists every transaction of the backend to a ListTransactions
  // v0-1 (and v2 without a TransactionalIdPattern).
  bool filter_transactional_ids = false;
};

// Receives output bytes in order. Spans are valid only during the call.
class ByteSink {
 public:
  virtual ~ByteSink() = default;
  virtual void write(std::span<const std::uint8_t> bytes) = 0;
};

// Decides, request by request, whether the broker or kedge answers: the
// gateway implements it where kedge answers some requests itself (SASL
// termination answers SaslHandshake and SaslAuthenticate). Called
// synchronously from RequestTracker::feed on the loop thread.
class RequestRouter {
 public:
  enum class Route : std::uint8_t {
    forward,  // to the broker, byte for byte; the broker answers
    capture,  // held until whole and handed to on_captured; never forwarded; kedge answers
    inspect,  // held until whole and handed to on_inspected, which may change bytes in place;
              // then forwarded; the broker answers
  };
  // What the client's next frame is, as the router knows after a captured one.
  enum class NextFrame : std::uint8_t {
    request,              // a Kafka request (header first)
    unframed_sasl_token,  // a KIP-43 SASL token: after a SaslHandshake v0 the router accepted,
                          // until the mechanism's exchange is over (kafka-protocol.md §5)
  };
  virtual ~RequestRouter() = default;
  // Once per request, as soon as its api key, version, correlation id and
  // frame size are read. Not called for unframed SASL tokens: they are always
  // captured. The router may set `throttle_ms` and `report_response`; the
  // request is queued in flight as it leaves this call.
  virtual Route route(RequestInfo& request) = 0;
  // A captured request or unframed SASL token, whole (size prefix included);
  // the span is valid only during the call. Its answer goes to
  // ResponseProcessor::answer, now or later, in any order relative to other
  // captured requests.
  virtual NextFrame on_captured(const RequestInfo& request, std::span<const std::uint8_t> frame) = 0;
  // What becomes of an inspected request.
  enum class Inspection : std::uint8_t {
    forward,  // to the broker, as on_inspected left its bytes
    answer,   // kedge answers it: never forwarded, handed to on_captured as a captured request
  };
  // An inspected request, whole (size prefix included), once read: the
  // router may rewrite its bytes (a flag it turns off) or replace the frame
  // (the allowed part of a split request: split.h), keeping the header and a
  // size prefix equal to the frame's size - 4, and may change `request`'s
  // response handling (filter_topics, report_response, split) before it is
  // forwarded. The frame is valid only during the call.
  virtual Inspection on_inspected(RequestInfo& /*request*/, std::vector<std::uint8_t>& /*frame*/) {
    return Inspection::forward;
  }
  // An inspected request whose body is still arriving: `held` is what was
  // read of it so far (size prefix and header included, and at most
  // kInspectPrefixBytes past the fields the tracker reads itself: the header,
  // Produce's TransactionalId and Acks). `forward` sends `held` as the router
  // leaves it and streams the rest of the frame to the broker unheld, like a
  // forwarded request (on_inspected is then not called); the router may
  // rewrite the held bytes first (a namespace renames a Produce's names),
  // keeping a size prefix that counts the rewritten start plus the rest still
  // to come. `wait` leaves `held` as it was and holds on, and is asked again as
  // more arrives, until the frame is whole or the prefix limit is reached. A
  // router that can decide from the start of a request (a Produce naming one
  // topic) saves holding and copying its records.
  enum class Prefix : std::uint8_t { wait, forward };
  static constexpr std::size_t kInspectPrefixBytes = 512;
  virtual Prefix on_inspect_prefix(const RequestInfo& /*request*/, std::vector<std::uint8_t>& /*held*/) {
    return Prefix::wait;
  }
};

// FIFO of requests that expect a response (Produce acks=0 is never queued).
class InFlightQueue {
 public:
  void push(const RequestInfo& info) { queue_.push_back(info); }
  // The newest entry; !empty(). The tracker updates it once an inspected request is whole.
  RequestInfo& back() { return queue_.back(); }
  bool empty() const { return queue_.empty(); }
  std::size_t size() const { return queue_.size(); }
  const RequestInfo& front() const { return queue_.front(); }
  // Entry `index` from the front (0 = oldest); index < size().
  const RequestInfo& at(std::size_t index) const { return queue_[index]; }
  void pop() { queue_.pop_front(); }

 private:
  std::deque<RequestInfo> queue_;
};

class RequestTracker {
 public:
  explicit RequestTracker(std::uint32_t max_frame_size);
  // Consumes all of `bytes` (the caller forwards them unchanged). Appends one
  // entry to `inflight` per complete request header that expects a response.
  // On error the connection must be closed; the tracker stays in error
  // (Errc::sasl_v0_unsupported: a SaslHandshake v0, whose unframed tokens a
  // passthrough cannot delimit without knowing the broker's mechanism).
  Errc feed(std::span<const std::uint8_t> bytes, InFlightQueue& inflight);
  // The same, for a connection where kedge answers some requests itself:
  // `router` routes each request; the bytes of forwarded requests go to
  // `to_broker` (in order, where they lie in `bytes` except the first 12 of a
  // frame, which are held until its route is known), captured ones to
  // router.on_captured and into `inflight` as local. A SaslHandshake v0 is
  // routed like any request; when on_captured answers
  // NextFrame::unframed_sasl_token, the next frame is read as a KIP-43 token
  // (size 0..max_frame_size, no header) and captured. A tracker is fed one way
  // or the other for its whole life.
  Errc feed(std::span<const std::uint8_t> bytes, InFlightQueue& inflight, RequestRouter& router,
            ByteSink& to_broker);
  // Requests seen so far (including acks=0 produce).
  std::uint64_t requests_seen() const { return requests_seen_; }

 private:
  // Incremental header parser: holds at most 8 bytes of the current frame;
  // everything else (client_id, tags, TransactionalId, body) is counted past.
  enum class Step : std::uint8_t {
    size, fixed_header, client_id_length, skip, tag_count, tag_number, tag_size,
    transactional_id_length, transactional_id_compact_length, acks, body,
  };
  Errc fail(Errc e) { error_ = e; return e; }
  Errc on_fixed(InFlightQueue& inflight);   // acc_ holds need_ bytes of step_
  Errc start_sasl_token(std::int32_t size, InFlightQueue& inflight);
  Errc on_varint(std::uint32_t value, InFlightQueue& inflight);
  Errc after_client_id(InFlightQueue& inflight);
  Errc start_body_fields(InFlightQueue& inflight);
  Errc finish_header(InFlightQueue& inflight, bool expects_response);
  // Inlined into both feed()s: it runs several times per request, and as an
  // out-of-line call (two callers) it cost ~100 instructions per Metadata
  // request under callgrind (bench/performance_notes.md, "One upstream link").
  [[gnu::always_inline]] inline Errc consume(std::span<const std::uint8_t>& bytes, InFlightQueue& inflight);
  Errc check_end();
  void end_frame() { expect_fixed(Step::size, 4); frame_done_ = true; }
  void expect_fixed(Step step, std::uint8_t bytes) { step_ = step; need_ = bytes; acc_len_ = 0; }
  void expect_varint(Step step) { step_ = step; varint_value_ = 0; varint_bytes_ = 0; }
  void skip_then(std::uint32_t n, Step next) { skip_left_ = n; after_skip_ = next; step_ = Step::skip; }

  std::uint32_t max_frame_size_;
  std::uint64_t requests_seen_ = 0;
  Step step_ = Step::size;
  Step after_skip_ = Step::body;
  std::uint8_t acc_[8] = {};
  std::uint8_t acc_len_ = 0;
  std::uint8_t need_ = 4;
  std::uint32_t varint_value_ = 0;
  std::uint8_t varint_bytes_ = 0;
  std::uint32_t skip_left_ = 0;
  std::uint32_t frame_left_ = 0;  // bytes of the current frame (after the size) not yet seen
  std::uint32_t tags_left_ = 0;
  RequestInfo current_;
  Errc error_ = Errc::ok;

  // Routing (the second feed()): the frame's first 12 bytes (size and fixed
  // header) until its route is known, and a captured or inspected frame until it is whole.
  enum class FrameRoute : std::uint8_t { undecided, forward, capture, inspect };
  RequestRouter* router_ = nullptr;  // set only during a routing feed()
  FrameRoute route_ = FrameRoute::undecided;
  bool frame_done_ = false;  // the step that just ran ended the current frame
  // The next frame is an unframed SASL token, answered under this correlation
  // id (the SaslHandshake v0's): set from on_captured's NextFrame.
  bool next_is_sasl_token_ = false;
  std::int32_t sasl_token_correlation_id_ = 0;
  std::uint8_t frame_head_[12] = {};
  std::uint8_t frame_head_len_ = 12;  // 4 for an unframed SASL token (no header)
  bool current_queued_ = false;       // the current frame's request is the newest in-flight entry
  bool prefix_pending_ = false;       // an inspected frame whose router may still let it stream (on_inspect_prefix)
  std::size_t prefix_body_begin_ = 0; // captured_ size when its body started
  std::vector<std::uint8_t> captured_;
};

// Addresses a client of one virtual cluster must be given. Implemented by the
// gateway; called synchronously from ResponseProcessor::feed on the loop thread.
class AddressMap : public TopicFilter, public GroupFilter {
 public:
  virtual ~AddressMap() = default;
  // `host` views storage owned by the map; it stays valid until the map's next
  // advertised_for() call (the rewriter copies it into the frame at once).
  struct Advertised { std::string_view host; std::int32_t port; };
  // The advertised address clients use for broker `node_id`.
  virtual Advertised advertised_for(std::int32_t node_id) = 0;
  // Reported for every broker endpoint found in a response, before rewriting:
  // the real address (to learn it) and what it was rewritten to (for logs).
  virtual void on_endpoint_rewritten(std::int16_t api_key, std::int16_t api_version,
                                     std::int32_t node_id, std::string_view real_host,
                                     std::int32_t real_port, const Advertised& advertised) = 0;
  // What this connection's ApiVersions responses say of some APIs, whatever
  // the broker lists. Empty by default.
  struct LocalApi {
    enum class Mode : std::uint8_t {
      // kedge answers the API itself (SASL termination; a policy refusal):
      // exactly this range, added when the broker does not list the key.
      answer,
      // The broker answers, but kedge may have to answer instead later (a
      // policy may refuse it after a reload): the broker's range cut to this
      // one (removed if they do not meet); nothing added.
      cap,
      // kedge answers it now (a policy refuses it), the broker may later (a
      // reload allows it again): cut like `cap` when the broker offers the
      // API, offered with this range when it does not.
      refuse,
      // A policy refuses the API and kedge has no answer for it: removed, as a
      // broker that does not offer an API (the range is ignored).
      hide,
    };
    std::int16_t api_key;
    std::int16_t min_version;
    std::int16_t max_version;
    Mode mode = Mode::answer;
  };
  virtual std::span<const LocalApi> local_apis() const { return {}; }
  // False: ApiVersions responses drop every key outside kedge's API table
  // (api.h; a policy refuses APIs it cannot classify, docs/policy.md).
  virtual bool offers_unknown_apis() const { return true; }
  // The response to a request whose router set `report_response` starts: its
  // frame size (size prefix included) is known, nothing of it was written to
  // the sink yet. Not called for other requests.
  virtual void on_response_start(const RequestInfo& /*request*/, std::uint32_t /*frame_bytes*/) {}
  // Metadata and OffsetFetch responses to requests with filter_topics set:
  // whether the client may see a topic. Every topic by default.
  bool describable(std::string_view /*topic*/) override { return true; }
  // ListGroups responses to requests with filter_groups set: whether the
  // client may see a group. Every group by default.
  bool group_describable(std::string_view /*group_id*/) override { return true; }
  // The namespace of responses to requests with strip_names or
  // filter_transactional_ids set; nullptr: none.
  virtual const NamePrefixes* name_prefixes() const { return nullptr; }
};

struct ResponseStats {
  std::uint64_t responses = 0;          // complete responses forwarded
  std::uint64_t rewritten = 0;          // responses whose bytes changed
  std::uint64_t passthrough_bytes = 0;  // bytes streamed without buffering
  // Streamed Fetch responses whose rewritten NodeEndpoints did not fit the
  // length already announced: the tag was removed (fit_tag_section).
  std::uint64_t node_endpoints_stripped = 0;
};

class ResponseProcessor {
 public:
  // Fetch v16+ responses up to `fetch_buffer_bytes` are rewritten whole
  // (exact KIP-951 NodeEndpoints); larger ones stream (fetch_stream.h).
  static constexpr std::uint32_t kDefaultFetchBufferBytes = 64 * 1024;
  ResponseProcessor(std::uint32_t max_frame_size, AddressMap& addresses,
                    std::uint32_t fetch_buffer_bytes = kDefaultFetchBufferBytes);
  // Consumes all of `bytes` from the broker and writes what the client must
  // receive to `sink` (possibly nothing yet, while a frame to rewrite is
  // buffered). A frame it rewrites whole is never written in part: on error
  // nothing of it has been written. A streamed Fetch v16+ response may have
  // been written up to its top-level tag section (bytes that carry no
  // address) when its structure turns out malformed. On error close the
  // connection pair: the client never receives a malformed or half-rewritten frame whole.
  Errc feed(std::span<const std::uint8_t> bytes, InFlightQueue& inflight, ByteSink& sink);
  // kedge's own answer to the local (captured) request `correlation_id`: a
  // whole response frame, written to `sink` when that request reaches the
  // head of `inflight`, in order with the broker's responses. Broker bytes
  // that arrive while an unanswered local request is at the head are held
  // (at most max_frame_size bytes, else Errc::frame_too_large) and processed
  // after it. Errc::unexpected_response if no such local request is in flight.
  Errc answer(std::int32_t correlation_id, std::vector<std::uint8_t> frame, InFlightQueue& inflight,
              ByteSink& sink);
  // Bytes held for a frame being assembled for rewrite (for memory accounting).
  std::size_t buffered_bytes() const;
  const ResponseStats& stats() const;
  // The request whose response is being (or was last) processed: names the
  // API and version in error reports.
  const RequestInfo& current_request() const;
  // Makes this processor as good as a new one built with these arguments, for
  // reuse by another connection without allocating (the gateway recycles them,
  // Connection::release_idle_state). Valid in any state, mid-frame or after an
  // error: what it held is dropped (fuzz_response_stream checks that a reset
  // processor and a new one produce the same bytes, errors and counts).
  void reset(std::uint32_t max_frame_size, AddressMap& addresses,
             std::uint32_t fetch_buffer_bytes = kDefaultFetchBufferBytes);
  // Frees every buffer whose capacity exceeds `keep_bytes` (a spare processor
  // keeps only small ones); capacity_bytes() is what the buffers hold now.
  void shrink(std::size_t keep_bytes);
  std::size_t capacity_bytes() const;
  // Implementation detail: the codec team defines the private members.
  ~ResponseProcessor();
  ResponseProcessor(const ResponseProcessor&) = delete;
  ResponseProcessor& operator=(const ResponseProcessor&) = delete;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Highest version of `api_key` that kedge lets a client negotiate (ApiVersions
// clamp), or -1 if the key must be removed from the ApiVersions response, or
// INT16_MAX if the key passes through unparsed and needs no clamp.
std::int16_t max_supported_version(std::int16_t api_key);

}  // namespace kedge::kafka
