#include "kafka_codec/stream.h"

#include <algorithm>
#include <cstring>

#include "kafka_codec/api.h"
#include "kafka_codec/engine.h"
#include "kafka_codec/fetch_stream.h"
#include "kafka_codec/frame.h"
#include "kafka_codec/schema.h"
#include "kafka_codec/wire.h"

namespace kedge::kafka {

// ---------------------------------------------------------------------------
// RequestTracker
//
// Request frame grammar (kafka-protocol.md §2):
//   int32 size | int16 api_key | int16 api_version | int32 correlation_id
//   | client_id NULLABLE_STRING (header v1+) | TAG_BUFFER (header v2)
//   | body; for Produce: [TransactionalId (v3+)] Acks int16 ...
// Header v2 iff api_version >= flexibleVersions of the request
// (ApiMessageTypeGenerator.generateHeaderVersion); ControlledShutdown v0 uses v0.

RequestTracker::RequestTracker(std::uint32_t max_frame_size) : max_frame_size_(max_frame_size) {}

Errc RequestTracker::finish_header(InFlightQueue& inflight, bool expects_response) {
  current_.expects_response = expects_response;
  if (expects_response) inflight.push(current_);
  current_queued_ = expects_response;
  step_ = Step::body;
  return Errc::ok;
}

Errc RequestTracker::after_client_id(InFlightQueue& inflight) {
  // Header v2 adds a TAG_BUFFER. Unknown keys are treated as header v1: only
  // Produce needs bytes past the header, and its table entry is known.
  const std::int16_t flex = schema::request_flexible_from(current_.api_key);
  if (flex >= 0 && current_.api_version >= flex) {
    expect_varint(Step::tag_count);
    return Errc::ok;
  }
  return start_body_fields(inflight);
}

Errc RequestTracker::start_body_fields(InFlightQueue& inflight) {
  if (current_.api_key != 0) return finish_header(inflight, true);
  // Produce: Acks is first in v0-2, after TransactionalId in v3+ (compact from v9).
  if (current_.api_version <= 2) expect_fixed(Step::acks, 2);
  else if (current_.api_version >= 9) expect_varint(Step::transactional_id_compact_length);
  else expect_fixed(Step::transactional_id_length, 2);
  return Errc::ok;
}

// KIP-43: after a SaslHandshake v0 the client sends `int32 size | token`
// (kafka-protocol.md §5); the token may be empty. Bounded like any frame.
Errc RequestTracker::start_sasl_token(std::int32_t size, InFlightQueue& inflight) {
  if (Errc e = check_frame_size(size, max_frame_size_, 0); e != Errc::ok) return fail(e);
  next_is_sasl_token_ = false;
  frame_left_ = static_cast<std::uint32_t>(size);
  current_ = RequestInfo{key_of(ApiKey::sasl_authenticate), 0, sasl_token_correlation_id_, true, true};
  ++requests_seen_;
  std::memcpy(frame_head_, acc_, 4);
  frame_head_len_ = 4;
  route_ = FrameRoute::capture;
  return finish_header(inflight, true);
}

Errc RequestTracker::on_fixed(InFlightQueue& inflight) {
  switch (step_) {
    case Step::size: {
      const std::int32_t size = wire::get_i32(acc_);
      if (next_is_sasl_token_) return start_sasl_token(size, inflight);
      if (Errc e = check_frame_size(size, max_frame_size_, kMinRequestFrameSize); e != Errc::ok) return fail(e);
      frame_left_ = static_cast<std::uint32_t>(size);
      if (router_ != nullptr) std::memcpy(frame_head_, acc_, 4);
      frame_head_len_ = 12;
      expect_fixed(Step::fixed_header, 8);
      return Errc::ok;
    }
    case Step::fixed_header: {
      current_.api_key = wire::get_i16(acc_);
      current_.api_version = wire::get_i16(acc_ + 2);
      current_.correlation_id = wire::get_i32(acc_ + 4);
      current_.local = false;
      current_.unframed_sasl_token = false;
      current_.frame_size = frame_left_ + 8;
      current_.throttle_ms = 0;
      current_.report_response = false;
      current_.filter_topics.reset();
      current_.split.reset();
      current_.filter_groups = false;
      current_.strip_names = false;
      current_.coordinator_key_type = -1;
      current_.filter_transactional_ids = false;
      current_.expects_response = true;  // until Produce's Acks says otherwise
      current_queued_ = false;
      ++requests_seen_;
      // KIP-43 v0: unframed SASL tokens follow a successful handshake. Only a
      // router (kedge answering the SASL itself) knows where they end.
      if (router_ == nullptr && is(current_.api_key, ApiKey::sasl_handshake) && current_.api_version == 0) {
        return fail(Errc::sasl_v0_unsupported);
      }
      if (router_ != nullptr) {
        std::memcpy(frame_head_ + 4, acc_, 8);
        switch (router_->route(current_)) {
          case RequestRouter::Route::forward: route_ = FrameRoute::forward; break;
          case RequestRouter::Route::capture: route_ = FrameRoute::capture; break;
          case RequestRouter::Route::inspect: route_ = FrameRoute::inspect; break;
        }
        current_.local = route_ == FrameRoute::capture;
      }
      if (is(current_.api_key, ApiKey::controlled_shutdown) && current_.api_version == 0) return finish_header(inflight, true);
      expect_fixed(Step::client_id_length, 2);
      return Errc::ok;
    }
    case Step::client_id_length:
    case Step::transactional_id_length: {
      const std::int16_t len = wire::get_i16(acc_);
      if (len < -1) return fail(Errc::malformed_request);
      const bool client_id = step_ == Step::client_id_length;
      if (len > 0) {
        if (static_cast<std::uint32_t>(len) > frame_left_) return fail(Errc::malformed_request);
        skip_then(static_cast<std::uint32_t>(len), client_id ? Step::client_id_length : Step::acks);
        return Errc::ok;
      }
      if (client_id) return after_client_id(inflight);
      expect_fixed(Step::acks, 2);
      return Errc::ok;
    }
    case Step::acks:
      return finish_header(inflight, wire::get_i16(acc_) != 0);  // acks=0: no response
    default:
      return fail(Errc::malformed_request);
  }
}

Errc RequestTracker::on_varint(std::uint32_t value, InFlightQueue& inflight) {
  switch (step_) {
    case Step::tag_count:
      tags_left_ = value;
      if (tags_left_ == 0) return start_body_fields(inflight);
      if (tags_left_ > frame_left_) return fail(Errc::malformed_request);
      expect_varint(Step::tag_number);
      return Errc::ok;
    case Step::tag_number:
      expect_varint(Step::tag_size);
      return Errc::ok;
    case Step::tag_size:
      if (value > frame_left_) return fail(Errc::malformed_request);
      if (value == 0) {
        if (--tags_left_ == 0) return start_body_fields(inflight);
        expect_varint(Step::tag_number);
        return Errc::ok;
      }
      skip_then(value, Step::tag_size);
      return Errc::ok;
    case Step::transactional_id_compact_length:
      if (value <= 1) {  // 0 = null, 1 = ""
        expect_fixed(Step::acks, 2);
        return Errc::ok;
      }
      if (value - 1 > frame_left_) return fail(Errc::malformed_request);
      skip_then(value - 1, Step::acks);
      return Errc::ok;
    default:
      return fail(Errc::malformed_request);
  }
}

// One step of the header parser: consumes some of `bytes` (at least one byte
// unless it fails) and advances the state.
inline Errc RequestTracker::consume(std::span<const std::uint8_t>& bytes, InFlightQueue& inflight) {
  switch (step_) {
    case Step::body: {
      const std::size_t n = std::min<std::size_t>(frame_left_, bytes.size());
      frame_left_ -= static_cast<std::uint32_t>(n);
      bytes = bytes.subspan(n);
      if (frame_left_ == 0) end_frame();
      return Errc::ok;
    }
    case Step::skip: {
      const std::size_t n = std::min<std::size_t>(skip_left_, bytes.size());
      skip_left_ -= static_cast<std::uint32_t>(n);
      frame_left_ -= static_cast<std::uint32_t>(n);  // skip_left_ <= frame_left_ by construction
      bytes = bytes.subspan(n);
      if (skip_left_ != 0) return Errc::ok;
      // Resume after the skipped bytes.
      Errc e = Errc::ok;
      if (after_skip_ == Step::client_id_length) {
        e = after_client_id(inflight);
      } else if (after_skip_ == Step::tag_size) {
        if (--tags_left_ == 0) e = start_body_fields(inflight);
        else expect_varint(Step::tag_number);
      } else {
        expect_fixed(Step::acks, 2);
      }
      if (e != Errc::ok) return e;
      break;
    }
    case Step::tag_count:
    case Step::tag_number:
    case Step::tag_size:
    case Step::transactional_id_compact_length: {
      if (frame_left_ == 0) return fail(Errc::malformed_request);
      const std::uint8_t b = bytes.front();
      bytes = bytes.subspan(1);
      --frame_left_;
      if (varint_bytes_ == 4 && (b & 0xf0) != 0) return fail(Errc::malformed_request);
      varint_value_ |= static_cast<std::uint32_t>(b & 0x7f) << (7 * varint_bytes_);
      ++varint_bytes_;
      if (b & 0x80) {
        if (varint_bytes_ == 5) return fail(Errc::malformed_request);
        return Errc::ok;
      }
      if (Errc e = on_varint(varint_value_, inflight); e != Errc::ok) return e;
      break;
    }
    default: {  // fixed-size steps: size, fixed_header, *_length, acks
      const bool in_frame = step_ != Step::size;
      if (in_frame && frame_left_ == 0) return fail(Errc::malformed_request);
      std::size_t n = std::min<std::size_t>(need_ - acc_len_, bytes.size());
      if (in_frame) n = std::min<std::size_t>(n, frame_left_);
      std::memcpy(acc_ + acc_len_, bytes.data(), n);
      acc_len_ = static_cast<std::uint8_t>(acc_len_ + n);
      bytes = bytes.subspan(n);
      if (in_frame) frame_left_ -= static_cast<std::uint32_t>(n);
      if (acc_len_ < need_) return Errc::ok;
      if (Errc e = on_fixed(inflight); e != Errc::ok) return e;
      break;
    }
  }
  // A header that ends exactly at the frame end leaves nothing to skip.
  if (step_ == Step::body && frame_left_ == 0) end_frame();
  return Errc::ok;
}

// Header steps that still wait for bytes must have frame bytes left to get them.
Errc RequestTracker::check_end() {
  if (step_ != Step::size && step_ != Step::body && step_ != Step::skip && frame_left_ == 0)
    return fail(Errc::malformed_request);
  return Errc::ok;
}

Errc RequestTracker::feed(std::span<const std::uint8_t> bytes, InFlightQueue& inflight) {
  if (error_ != Errc::ok) return error_;
  while (!bytes.empty()) {
    if (Errc e = consume(bytes, inflight); e != Errc::ok) return e;
  }
  return check_end();
}

Errc RequestTracker::feed(std::span<const std::uint8_t> bytes, InFlightQueue& inflight, RequestRouter& router,
                          ByteSink& to_broker) {
  if (error_ != Errc::ok) return error_;
  router_ = &router;
  // Forwarded bytes leave as ranges of `bytes`, cut only where a frame's head
  // must be held (a new frame) or the input ends.
  const std::uint8_t* forward_from = route_ == FrameRoute::forward ? bytes.data() : nullptr;
  const auto flush = [&](const std::uint8_t* upto) {
    if (forward_from != nullptr && upto > forward_from) {
      to_broker.write({forward_from, static_cast<std::size_t>(upto - forward_from)});
    }
    forward_from = nullptr;
  };
  Errc result = Errc::ok;
  while (!bytes.empty()) {
    const FrameRoute route_before = route_;
    const std::uint8_t* before = bytes.data();
    frame_done_ = false;
    // An inspected body the router may still let stream: read at most the
    // prefix it is asked about, so the rest is not held (on_inspect_prefix).
    std::span<const std::uint8_t> rest;
    if (prefix_pending_ && step_ == Step::body) {
      if (prefix_body_begin_ == 0) prefix_body_begin_ = captured_.size();
      const std::size_t body_held = captured_.size() - prefix_body_begin_;
      const std::size_t room = RequestRouter::kInspectPrefixBytes - std::min(body_held, RequestRouter::kInspectPrefixBytes);
      if (room == 0) {
        prefix_pending_ = false;  // no decision from the prefix: held whole
      } else if (bytes.size() > room) {
        rest = bytes.subspan(room);
        bytes = bytes.first(room);
      }
    }
    result = consume(bytes, inflight);
    if (!rest.empty()) bytes = std::span<const std::uint8_t>(bytes.data(), bytes.size() + rest.size());
    if (result != Errc::ok) break;
    const bool held_before = route_before == FrameRoute::capture || route_before == FrameRoute::inspect;
    if (held_before) captured_.insert(captured_.end(), before, bytes.data());
    if (route_before == FrameRoute::undecided && route_ == FrameRoute::forward) {
      to_broker.write(frame_head_);
      forward_from = bytes.data();
    } else if (route_before == FrameRoute::undecided && route_ != FrameRoute::undecided) {
      captured_.assign(frame_head_, frame_head_ + frame_head_len_);
      prefix_pending_ = route_ == FrameRoute::inspect;
      prefix_body_begin_ = 0;
    }
    if (prefix_pending_ && !frame_done_ && step_ == Step::body && route_ == FrameRoute::inspect &&
        router.on_inspect_prefix(current_, captured_) == RequestRouter::Prefix::forward) {
      prefix_pending_ = false;
      to_broker.write(captured_);
      captured_.clear();
      route_ = FrameRoute::forward;
      forward_from = bytes.data();
      continue;
    }
    if (frame_done_) prefix_pending_ = false;
    if (!frame_done_) continue;
    if (route_ == FrameRoute::forward) {
      flush(bytes.data());
    } else if (route_ == FrameRoute::inspect) {
      const RequestRouter::Inspection inspection = router.on_inspected(current_, captured_);
      if (inspection == RequestRouter::Inspection::answer) current_.local = true;
      if (current_queued_) inflight.back() = current_;
      if (inspection == RequestRouter::Inspection::forward) {
        to_broker.write(captured_);
        captured_.clear();
      } else {
        route_ = FrameRoute::capture;  // answered like a captured request
      }
    }
    if (route_ == FrameRoute::capture) {
      const RequestRouter::NextFrame next = router.on_captured(current_, captured_);
      captured_.clear();
      next_is_sasl_token_ = next == RequestRouter::NextFrame::unframed_sasl_token;
      sasl_token_correlation_id_ = current_.correlation_id;
    }
    route_ = FrameRoute::undecided;
  }
  if (result == Errc::ok) {
    if (route_ == FrameRoute::forward) flush(bytes.data());
    result = check_end();
  }
  router_ = nullptr;
  return result;
}

// ---------------------------------------------------------------------------
// ResponseProcessor
//
// Per frame: 4-byte size (validated), 4-byte correlation id (matched against
// the FIFO head and popped). Then one of:
//  - streamed: a response kedge never changes goes out as it arrives;
//  - in place: a response to rewrite that is already whole in the bytes being
//    fed is walked and rewritten where it lies (no copy when nothing changes);
//  - buffered: otherwise it is assembled and handed to FrameRewriter, so the
//    client receives it rewritten exactly, every length and the size recomputed;
//  - Fetch streaming: a Fetch v16+ response larger than fetch_buffer_bytes
//    streams through FetchResponseStream (Records are never held); only its
//    top-level tag section (KIP-951 NodeEndpoints) is held, rewritten by the
//    same engine and fitted to its original length (fit_tag_section).

namespace {
constexpr std::size_t kKeepBufferBytes = 64 * 1024;  // larger buffers are freed once the connection is idle
constexpr std::size_t kMaxUpfrontReserveBytes = 16u << 20;  // cap on reserving from a wire length
// Bytes before the held tag section in the synthetic frame complete_fetch_stream
// builds: size, correlation id, header tags, ThrottleTimeMs, ErrorCode,
// SessionId, Responses (empty compact array).
constexpr std::size_t kSyntheticFetchHeadBytes = 4 + 4 + 1 + 4 + 2 + 4 + 1;
}

struct ResponseProcessor::Impl {
  Impl(std::uint32_t max, AddressMap& map, std::uint32_t fetch_buffer)
      : max_frame_size(max), fetch_buffer_bytes(fetch_buffer), addresses(&map) {}

  enum class Mode : std::uint8_t { prefix, streaming, buffering, fetch_streaming };

  Errc fail(Errc e) { error = e; return e; }
  Errc feed(std::span<const std::uint8_t> bytes, InFlightQueue& inflight, ByteSink& sink);
  Errc check_size(std::int32_t size);
  Errc match_request(std::int32_t correlation_id, InFlightQueue& inflight);
  Errc on_prefix(InFlightQueue& inflight, ByteSink& sink);
  Errc complete_frame(std::span<const std::uint8_t> whole, ByteSink& sink);
  Errc complete_fetch_stream(ByteSink& sink);
  Errc consume(std::span<const std::uint8_t>& bytes, InFlightQueue& inflight, ByteSink& sink);
  void start_throttle_patch(std::uint32_t body_bytes);
  void throttle_produce(std::span<const std::uint8_t> response, ByteSink& sink);
  void finish_frame(bool more_in_flight);
  // Writes the answers of local requests at the head of `inflight`; true
  // while one at the head has no answer yet (broker bytes must wait).
  bool deliver_answers(InFlightQueue& inflight, ByteSink& sink);
  Errc answer(std::int32_t correlation_id, std::vector<std::uint8_t> frame, InFlightQueue& inflight,
              ByteSink& sink);
  // Frees every buffer whose capacity exceeds `keep_bytes`.
  void trim(std::size_t keep_bytes);

  // Whether a response streams through FetchResponseStream: decided by its
  // size alone, so a client sees the same treatment however TCP split it.
  // Leader-change answers, the ones that carry NodeEndpoints, are mostly small
  // (partitions in error hold no records) and so are rewritten exactly.
  bool streams_fetch(const RequestInfo& r, std::uint32_t body_bytes) const {
    return FetchResponseStream::handles(r.api_key, r.api_version) && body_bytes > fetch_buffer_bytes && !r.split;
  }

  std::uint32_t max_frame_size;
  std::uint32_t fetch_buffer_bytes;
  AddressMap* addresses;  // never null
  Mode mode = Mode::prefix;
  std::uint8_t prefix[8] = {};
  std::size_t prefix_len = 0;
  std::uint32_t frame_left = 0;  // bytes of the current frame after the 8-byte prefix
  RequestInfo current;
  std::vector<std::uint8_t> frame;  // buffered frame (size prefix included)
  FrameRewriter rewriter;
  FetchResponseStream fetch_stream;
  std::vector<std::uint8_t> synthetic;  // complete_fetch_stream's frame around the held tail
  std::vector<std::uint8_t> fitted;     // the tail rewritten to its original length
  struct Answer {
    std::int32_t correlation_id;
    std::vector<std::uint8_t> frame;
  };
  std::vector<Answer> answers;         // kedge's answers to local requests not yet at the head
  std::vector<std::uint8_t> held;      // broker bytes waiting behind an unanswered local request
  // A throttled Fetch response (RequestInfo::throttle_ms): the header tag
  // buffer (flexible versions) and ThrottleTimeMs, the first bytes after the
  // prefix, held until whole and raised to the throttle before they go on.
  std::uint8_t throttle_head[5] = {};
  std::uint8_t throttle_head_len = 0;
  std::uint8_t throttle_head_need = 0;  // 0: no patch pending
  bool throttle_head_flexible = false;
  std::vector<std::uint8_t> throttled;  // a throttled Produce response, patched
  std::vector<std::uint8_t> filtered_frame;  // a Metadata or ListGroups response without what a policy hides
  std::vector<std::uint8_t> stripped_frame;  // a response with its namespace's prefixes taken off (rename.h)
  std::vector<std::uint8_t> merged;           // a split request's response with kedge's part merged in
  WalkResult throttle_walk;
  ResponseStats stats;
  Errc error = Errc::ok;
};

Errc ResponseProcessor::Impl::check_size(std::int32_t size) {
  if (Errc e = check_frame_size(size, max_frame_size, kMinResponseFrameSize); e != Errc::ok) return fail(e);
  return Errc::ok;
}

// Brokers answer in request order: the response must carry the oldest
// in-flight correlation id; that request becomes `current`.
Errc ResponseProcessor::Impl::match_request(std::int32_t correlation_id, InFlightQueue& inflight) {
  if (inflight.empty()) return fail(Errc::unexpected_response);
  if (inflight.front().correlation_id != correlation_id) return fail(Errc::correlation_mismatch);
  current = inflight.front();
  inflight.pop();
  return Errc::ok;
}

namespace {
// KIP-219 throttling reaches a client through ThrottleTimeMs: Fetch v1+ has
// it first in the body (patched as it streams by); Produce has it after the
// per-partition results, so a throttled Produce response is held whole (they
// are small: no records).
bool throttles_fetch_head(const RequestInfo& r) {
  return r.throttle_ms > 0 && is(r.api_key, ApiKey::fetch) && r.api_version >= 1;
}
// Responses held whole for what a policy changes in them (besides addresses):
// a split request's merge, a filtered ListGroups, OffsetFetch or ListTransactions, a namespace's names.
bool policy_rewrites(const RequestInfo& r) {
  return r.split != nullptr || r.strip_names || (r.filter_groups && is(r.api_key, ApiKey::list_groups)) ||
         (r.filter_topics && is(r.api_key, ApiKey::offset_fetch)) ||
         (r.filter_transactional_ids && is(r.api_key, ApiKey::list_transactions));
}
bool throttles_produce(const RequestInfo& r) {
  if (r.throttle_ms <= 0 || !is(r.api_key, ApiKey::produce)) return false;
  const schema::MessageSchema* s = schema::find_response_schema(r.api_key);
  return s != nullptr && s->valid.contains(r.api_version);
}
}  // namespace

Errc ResponseProcessor::Impl::on_prefix(InFlightQueue& inflight, ByteSink& sink) {
  const std::int32_t size = wire::get_i32(prefix);
  if (Errc e = match_request(wire::get_i32(prefix + 4), inflight); e != Errc::ok) return e;
  frame_left = static_cast<std::uint32_t>(size) - 4;
  if (current.report_response) addresses->on_response_start(current, static_cast<std::uint32_t>(size) + 4);
  const bool hold_produce = throttles_produce(current);
  if (response_needs_rewrite(current.api_key, current.api_version) || hold_produce || policy_rewrites(current)) {
    if (streams_fetch(current, frame_left)) {
      mode = Mode::fetch_streaming;
      sink.write(std::span<const std::uint8_t>(prefix, 8));
      stats.passthrough_bytes += 8;
      fetch_stream.begin(frame_left);
      start_throttle_patch(frame_left);
      return Errc::ok;
    }
    mode = Mode::buffering;
    // One allocation for the whole frame instead of geometric growth (each step
    // re-copies what was buffered). frame_left is bounded by max_frame_size
    // (checked in feed); the reserve is further capped so a broker that
    // announces a huge frame and stalls does not pin that much memory up front.
    frame.reserve(8 + std::min<std::size_t>(frame_left, kMaxUpfrontReserveBytes));
    frame.assign(prefix, prefix + 8);
    if (frame_left == 0) {
      const Errc e = complete_frame(frame, sink);
      finish_frame(!inflight.empty());
      return e;
    }
    start_throttle_patch(frame_left);
    return Errc::ok;
  }
  mode = Mode::streaming;
  sink.write(std::span<const std::uint8_t>(prefix, 8));
  stats.passthrough_bytes += 8;
  if (frame_left == 0) {
    ++stats.responses;
    mode = Mode::prefix;
    prefix_len = 0;
    return Errc::ok;
  }
  start_throttle_patch(frame_left);
  return Errc::ok;
}

// A throttled Fetch response: hold the header tag buffer (flexible versions,
// one 0 byte from every broker) and ThrottleTimeMs. A frame too short for
// them is left to fail where it is walked, or to the client.
void ResponseProcessor::Impl::start_throttle_patch(std::uint32_t body_bytes) {
  throttle_head_len = 0;
  throttle_head_need = 0;
  if (!throttles_fetch_head(current)) return;
  throttle_head_flexible = current.api_version >= 12;
  const std::uint8_t need = throttle_head_flexible ? 5 : 4;
  if (body_bytes >= need) throttle_head_need = need;
}

namespace {
// ThrottleTimeMs at `field` becomes max(its value, throttle_ms): a broker's
// own quota may already throttle longer (clients wait the longest).
void raise_throttle(std::uint8_t* field, std::int32_t throttle_ms) {
  if (wire::get_i32(field) >= throttle_ms) return;
  const auto v = static_cast<std::uint32_t>(throttle_ms);
  field[0] = static_cast<std::uint8_t>(v >> 24);
  field[1] = static_cast<std::uint8_t>(v >> 16);
  field[2] = static_cast<std::uint8_t>(v >> 8);
  field[3] = static_cast<std::uint8_t>(v);
}
}  // namespace

// A throttled Produce response, whole: ThrottleTimeMs found by reading the
// body with the response table. One that does not read is passed unchanged
// (the rewriter already checked v10+; older ones are the client's to judge).
void ResponseProcessor::Impl::throttle_produce(std::span<const std::uint8_t> response, ByteSink& sink) {
  const schema::MessageSchema& s = *schema::find_response_schema(current.api_key);
  std::size_t body = 8;
  throttle_walk.clear();
  if ((s.flexible(current.api_version) && !skip_tag_buffer(response, body, response.size())) ||
      !read_body(s, current.api_version, response, body, response.size(), throttle_walk)) {
    sink.write(response);
    return;
  }
  const ValueRef* field = find_value(throttle_walk, "ThrottleTimeMs");
  if (field == nullptr || field->end - field->begin != 4) {
    sink.write(response);
    return;
  }
  throttled.assign(response.begin(), response.end());
  raise_throttle(throttled.data() + field->begin, current.throttle_ms);
  sink.write(throttled);
}

// Rewrites one whole response frame (size prefix included) to `sink`: its
// addresses, the topics a policy hides (Metadata), kedge's part of a split
// request, then the throttle.
Errc ResponseProcessor::Impl::complete_frame(std::span<const std::uint8_t> whole, ByteSink& sink) {
  std::span<const std::uint8_t> out = whole;
  bool changed = false;
  if (response_needs_rewrite(current.api_key, current.api_version)) {
    const Errc e = rewriter.process(whole, current, *addresses);
    if (e != Errc::ok) return fail(e);
    if (rewriter.changed()) {
      out = rewriter.output();
      changed = true;
    }
  }
  if (current.filter_topics && is(current.api_key, ApiKey::metadata)) {
    bool filtered = false;
    const Errc f =
        filter_metadata_topics(out, current.api_version, *current.filter_topics, *addresses, filtered_frame, filtered);
    if (f != Errc::ok) return fail(f);
    if (filtered) {
      out = filtered_frame;
      changed = true;
    }
  }
  if (current.filter_groups && is(current.api_key, ApiKey::list_groups)) {
    bool filtered = false;
    const Errc f = filter_list_groups(out, current.api_version, *addresses, filtered_frame, filtered);
    if (f != Errc::ok) return fail(f);
    if (filtered) {
      out = filtered_frame;
      changed = true;
    }
  }
  if (current.filter_topics && is(current.api_key, ApiKey::offset_fetch)) {
    bool filtered = false;
    const Errc f = filter_offset_fetch_topics(out, current.api_version, *current.filter_topics, *addresses,
                                              filtered_frame, filtered);
    if (f != Errc::ok) return fail(f);
    if (filtered) {
      out = filtered_frame;
      changed = true;
    }
  }
  // A namespace lists only its own transactions (ListTransactions is filtered by no other policy, so
  // filtered_frame holds nothing `out` still refers to).
  if (current.filter_transactional_ids && is(current.api_key, ApiKey::list_transactions)) {
    if (const NamePrefixes* prefixes = addresses->name_prefixes()) {
      bool filtered = false;
      const Errc f =
          filter_list_transactions(out, current.api_version, prefixes->transactional_id, filtered_frame, filtered);
      if (f != Errc::ok) return fail(f);
      if (filtered) {
        out = filtered_frame;
        changed = true;
      }
    }
  }
  // A namespace's prefixes come off after the filters (which drop what lies
  // outside it, by the backend's names) and before a split's refused part is
  // merged in (named as the client named it).
  if (current.strip_names) {
    if (const NamePrefixes* prefixes = addresses->name_prefixes()) {
      bool stripped = false;
      const Errc e = strip_response_names(out, current.api_key, current.api_version, current.coordinator_key_type,
                                          *prefixes, stripped_frame, stripped);
      if (e != Errc::ok) return fail(e);
      if (stripped) {
        out = stripped_frame;
        changed = true;
      }
    }
  }
  if (current.split) {
    const Errc m = merge_split_response(out, *current.split, max_frame_size, merged);
    if (m != Errc::ok) return fail(m);
    out = merged;
    changed = true;
  }
  if (changed) ++stats.rewritten;  // else the bytes as received, no re-encode
  if (throttles_produce(current)) {
    throttle_produce(out, sink);
  } else {
    sink.write(out);
  }
  ++stats.responses;
  return Errc::ok;
}

// The held top-level tag section of a streamed Fetch response: rewritten by
// the schema engine inside a minimal Fetch frame (no topics), then fitted to
// the length the size prefix already announced.
Errc ResponseProcessor::Impl::complete_fetch_stream(ByteSink& sink) {
  const std::span<const std::uint8_t> tail = fetch_stream.tail();
  synthetic.clear();
  wire::put_i32(synthetic, static_cast<std::int32_t>(kSyntheticFetchHeadBytes - 4 + tail.size()));
  wire::put_i32(synthetic, current.correlation_id);
  wire::put_uvarint(synthetic, 0);  // header tags
  wire::put_i32(synthetic, 0);      // ThrottleTimeMs
  wire::put_i16(synthetic, 0);      // ErrorCode
  wire::put_i32(synthetic, 0);      // SessionId
  wire::put_uvarint(synthetic, 1);  // Responses: []
  synthetic.insert(synthetic.end(), tail.begin(), tail.end());
  if (rewriter.process(synthetic, current, *addresses) != Errc::ok) return fail(Errc::malformed_response);
  if (!rewriter.changed()) {
    sink.write(tail);
  } else {
    const TagFit fit = fit_tag_section(tail, rewriter.output().subspan(kSyntheticFetchHeadBytes),
                                       /*strip_tag=*/0, fitted);
    if (fit == TagFit::failed) return fail(Errc::malformed_response);
    if (fit == TagFit::stripped) ++stats.node_endpoints_stripped;
    else ++stats.rewritten;
    sink.write(fitted);
  }
  ++stats.responses;
  return Errc::ok;
}

// more_in_flight: another response is expected on this connection, so a large
// buffer is kept for it (a pipelining consumer would otherwise free and re-fault
// a fresh mapping per Fetch response); with nothing in flight the connection is
// idle and large buffers are released.
void ResponseProcessor::Impl::finish_frame(bool more_in_flight) {
  frame.clear();
  if (!more_in_flight) trim(kKeepBufferBytes);
  mode = Mode::prefix;
  prefix_len = 0;
}

bool ResponseProcessor::Impl::deliver_answers(InFlightQueue& inflight, ByteSink& sink) {
  while (!inflight.empty() && inflight.front().local) {
    const std::int32_t id = inflight.front().correlation_id;
    const auto it = std::find_if(answers.begin(), answers.end(), [id](const Answer& a) { return a.correlation_id == id; });
    if (it == answers.end()) return true;
    current = inflight.front();
    inflight.pop();
    sink.write(it->frame);
    answers.erase(it);
    ++stats.responses;
  }
  return false;
}

Errc ResponseProcessor::Impl::answer(std::int32_t correlation_id, std::vector<std::uint8_t> answer_frame,
                                     InFlightQueue& inflight, ByteSink& sink) {
  if (error != Errc::ok) return error;
  bool pending = false;
  for (std::size_t i = 0; i < inflight.size() && !pending; ++i) {
    pending = inflight.at(i).local && inflight.at(i).correlation_id == correlation_id;
  }
  if (!pending) return fail(Errc::unexpected_response);
  answers.push_back(Answer{correlation_id, std::move(answer_frame)});
  if (mode != Mode::prefix || prefix_len != 0) return Errc::ok;  // a broker response is mid-frame
  if (deliver_answers(inflight, sink)) return Errc::ok;
  if (held.empty()) return Errc::ok;
  std::vector<std::uint8_t> waiting;
  waiting.swap(held);
  return feed(waiting, inflight, sink);
}

Errc ResponseProcessor::Impl::feed(std::span<const std::uint8_t> bytes, InFlightQueue& inflight,
                                   ByteSink& sink) {
  if (error != Errc::ok) return error;
  while (!bytes.empty()) {
    // Between frames, kedge's own answers go first when their requests are at the head.
    if (mode == Mode::prefix && prefix_len == 0 && !inflight.empty() && inflight.front().local &&
        deliver_answers(inflight, sink)) {
      if (held.size() + bytes.size() > max_frame_size) return fail(Errc::frame_too_large);
      held.insert(held.end(), bytes.begin(), bytes.end());
      return Errc::ok;
    }
    if (throttle_head_need != 0 && mode != Mode::prefix) {
      // A throttled Fetch response's head: held until whole, patched, then processed as received.
      const std::size_t n = std::min<std::size_t>(throttle_head_need - throttle_head_len, bytes.size());
      std::memcpy(throttle_head + throttle_head_len, bytes.data(), n);
      throttle_head_len = static_cast<std::uint8_t>(throttle_head_len + n);
      bytes = bytes.subspan(n);
      if (throttle_head_len < throttle_head_need) continue;
      std::span<const std::uint8_t> head(throttle_head, throttle_head_need);
      throttle_head_need = 0;
      // Flexible: header tags first; a non-empty tag buffer (no broker sends one) is passed unpatched.
      if (!throttle_head_flexible) raise_throttle(throttle_head, current.throttle_ms);
      else if (throttle_head[0] == 0) raise_throttle(throttle_head + 1, current.throttle_ms);
      while (!head.empty()) {
        if (Errc e = consume(head, inflight, sink); e != Errc::ok) return e;
      }
      continue;
    }
    if (Errc e = consume(bytes, inflight, sink); e != Errc::ok) return e;
  }
  // An answer that arrived while a broker response was mid-frame goes out once that response is complete.
  if (mode == Mode::prefix && prefix_len == 0) deliver_answers(inflight, sink);
  return Errc::ok;
}

// One step of feed(): consumes a prefix of `bytes` in the current mode.
Errc ResponseProcessor::Impl::consume(std::span<const std::uint8_t>& bytes, InFlightQueue& inflight,
                                      ByteSink& sink) {
  switch (mode) {
    case Mode::prefix: {
      // A response to rewrite that is whole in `bytes`: rewrite it where it lies.
      if (prefix_len == 0 && bytes.size() >= 8 && !inflight.empty() &&
          (response_needs_rewrite(inflight.front().api_key, inflight.front().api_version) ||
           policy_rewrites(inflight.front())) &&
          !throttles_fetch_head(inflight.front())) {
        const std::int32_t size = wire::get_i32(bytes.data());
        if (Errc e = check_size(size); e != Errc::ok) return e;
        if (bytes.size() - 4 >= static_cast<std::uint32_t>(size) &&
            !streams_fetch(inflight.front(), static_cast<std::uint32_t>(size) - 4)) {
          if (Errc e = match_request(wire::get_i32(bytes.data() + 4), inflight); e != Errc::ok) return e;
          const std::size_t whole = 4 + static_cast<std::size_t>(size);
          if (current.report_response) addresses->on_response_start(current, static_cast<std::uint32_t>(whole));
          if (Errc e = complete_frame(bytes.first(whole), sink); e != Errc::ok) return e;
          finish_frame(!inflight.empty());
          bytes = bytes.subspan(whole);
          return Errc::ok;
        }
      }
      const std::size_t n = std::min(sizeof(prefix) - prefix_len, bytes.size());
      std::memcpy(prefix + prefix_len, bytes.data(), n);
      const std::size_t had = prefix_len;
      prefix_len += n;
      bytes = bytes.subspan(n);
      if (had < 4 && prefix_len >= 4) {  // validate the size as soon as it is known
        if (Errc e = check_size(wire::get_i32(prefix)); e != Errc::ok) return e;
      }
      if (prefix_len == sizeof(prefix)) {
        if (Errc e = on_prefix(inflight, sink); e != Errc::ok) return e;
      }
      break;
    }
    case Mode::streaming: {
      const std::size_t n = std::min<std::size_t>(frame_left, bytes.size());
      sink.write(bytes.first(n));
      stats.passthrough_bytes += n;
      frame_left -= static_cast<std::uint32_t>(n);
      bytes = bytes.subspan(n);
      if (frame_left == 0) {
        ++stats.responses;
        mode = Mode::prefix;
        prefix_len = 0;
      }
      break;
    }
    case Mode::buffering: {
      const std::size_t n = std::min<std::size_t>(frame_left, bytes.size());
      frame.insert(frame.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n));
      frame_left -= static_cast<std::uint32_t>(n);
      bytes = bytes.subspan(n);
      if (frame_left == 0) {
        const Errc e = complete_frame(frame, sink);
        finish_frame(!inflight.empty());
        if (e != Errc::ok) return e;
      }
      break;
    }
    case Mode::fetch_streaming: {
      const std::size_t offered = bytes.size();
      const std::size_t held_before = fetch_stream.held_bytes();
      if (Errc e = fetch_stream.feed(bytes, sink); e != Errc::ok) return fail(e);
      stats.passthrough_bytes += (offered - bytes.size()) - (fetch_stream.held_bytes() - held_before);
      if (fetch_stream.complete()) {
        const Errc e = complete_fetch_stream(sink);
        finish_frame(!inflight.empty());
        if (e != Errc::ok) return e;
      }
      break;
    }
  }
  return Errc::ok;
}

Errc ResponseProcessor::answer(std::int32_t correlation_id, std::vector<std::uint8_t> frame, InFlightQueue& inflight,
                               ByteSink& sink) {
  return impl_->answer(correlation_id, std::move(frame), inflight, sink);
}

ResponseProcessor::ResponseProcessor(std::uint32_t max_frame_size, AddressMap& addresses,
                                     std::uint32_t fetch_buffer_bytes)
    : impl_(std::make_unique<Impl>(max_frame_size, addresses, fetch_buffer_bytes)) {}
ResponseProcessor::~ResponseProcessor() = default;

void ResponseProcessor::reset(std::uint32_t max_frame_size, AddressMap& addresses,
                              std::uint32_t fetch_buffer_bytes) {
  Impl& i = *impl_;
  i.max_frame_size = max_frame_size;
  i.fetch_buffer_bytes = fetch_buffer_bytes;
  i.addresses = &addresses;
  i.mode = Impl::Mode::prefix;
  i.prefix_len = 0;
  i.frame_left = 0;
  i.current = RequestInfo{};
  i.frame.clear();
  i.synthetic.clear();
  i.fitted.clear();
  i.answers.clear();
  i.held.clear();
  i.throttle_head_len = 0;
  i.throttle_head_need = 0;
  i.throttled.clear();
  i.filtered_frame.clear();
  i.stripped_frame.clear();
  i.merged.clear();
  i.stats = ResponseStats{};
  i.error = Errc::ok;
}

void ResponseProcessor::Impl::trim(std::size_t keep_bytes) {
  for (std::vector<std::uint8_t>* v : {&frame, &synthetic, &fitted, &held, &throttled, &filtered_frame, &stripped_frame, &merged}) {
    if (v->capacity() > keep_bytes) std::vector<std::uint8_t>().swap(*v);
  }
  rewriter.trim(keep_bytes);
  fetch_stream.trim(keep_bytes);
}

void ResponseProcessor::shrink(std::size_t keep_bytes) { impl_->trim(keep_bytes); }

std::size_t ResponseProcessor::capacity_bytes() const {
  const Impl& i = *impl_;
  std::size_t answers = 0;
  for (const auto& a : i.answers) answers += a.frame.capacity();
  return i.frame.capacity() + i.synthetic.capacity() + i.fitted.capacity() + i.held.capacity() +
         i.throttled.capacity() + i.filtered_frame.capacity() + i.stripped_frame.capacity() + i.merged.capacity() +
         answers +
         i.rewriter.capacity_bytes() + i.fetch_stream.capacity_bytes();
}

Errc ResponseProcessor::feed(std::span<const std::uint8_t> bytes, InFlightQueue& inflight,
                             ByteSink& sink) {
  return impl_->feed(bytes, inflight, sink);
}

std::size_t ResponseProcessor::buffered_bytes() const {
  const std::size_t throttle_head = impl_->throttle_head_need != 0 ? impl_->throttle_head_len : 0;
  switch (impl_->mode) {
    case Impl::Mode::buffering: return impl_->frame.size() + throttle_head;
    case Impl::Mode::fetch_streaming: return impl_->fetch_stream.held_bytes() + throttle_head;
    default: return impl_->prefix_len + throttle_head;
  }
}

const RequestInfo& ResponseProcessor::current_request() const { return impl_->current; }

const ResponseStats& ResponseProcessor::stats() const { return impl_->stats; }

}  // namespace kedge::kafka
