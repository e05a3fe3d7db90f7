#include "gateway/in_flight.h"

#include <uv.h>

namespace kedge {

std::unique_ptr<InFlightState> InFlightPool::take(std::uint32_t max_frame_bytes, kafka::AddressMap& addresses,
                                                  std::uint32_t fetch_buffer_bytes) {
  if (spare_.empty()) return std::make_unique<InFlightState>(max_frame_bytes, addresses, fetch_buffer_bytes);
  std::unique_ptr<InFlightState> state = std::move(spare_.back());
  spare_.pop_back();
  state->responses.reset(max_frame_bytes, addresses, fetch_buffer_bytes);
  return state;
}

void InFlightPool::give(std::unique_ptr<InFlightState> state) {
  if (spare_.size() >= kMaxSpare) return;  // freed here
  state->timings.clear();
  state->timings_head = 0;
  if (state->timings.capacity() * sizeof(InFlightState::Timing) > kKeepBytes) {
    std::vector<InFlightState::Timing>().swap(state->timings);
  }
  state->responses.shrink(kKeepBytes);
  spare_.push_back(std::move(state));
}

InFlightState& InFlightTable::state() {
  if (!state_) state_ = pool_.take(limits_.max_frame_bytes, addresses_, limits_.fetch_buffer_bytes);
  return *state_;
}

const kafka::RequestInfo& InFlightTable::current_request() const {
  static const kafka::RequestInfo none{};
  return state_ ? state_->responses.current_request() : none;
}

// New in-flight entries are the requests that expect a response; the rest of
// the requests the tracker saw are acks=0 Produce (the only request without a
// response, kafka-protocol.md §2). One clock read per call, not per request.
kafka::Errc InFlightTable::on_client_bytes(std::span<const std::uint8_t> bytes, ClusterStats& stats) {
  InFlightState& s = state();
  const std::size_t before = s.requests.size();
  const std::uint64_t seen_before = tracker_.requests_seen();
  const kafka::Errc errc = tracker_.feed(bytes, s.requests);
  count_requests(s, before, seen_before, stats);
  return errc;
}

// The router may answer a captured request from inside the feed (answer()
// below), which pops it from the queue: answer() first counts what the feed
// queued so far, so every request is counted (and owed) once, popped or not.
kafka::Errc InFlightTable::on_client_bytes(std::span<const std::uint8_t> bytes, ClusterStats& stats,
                                           kafka::RequestRouter& router, kafka::ByteSink& to_broker) {
  InFlightState& s = state();
  feed_ = Feed{s.requests.size(), tracker_.requests_seen()};
  const kafka::Errc errc = tracker_.feed(bytes, s.requests, router, to_broker);
  const Feed feed = *feed_;
  feed_.reset();
  count_requests(s, feed.queued_before, feed.seen_before, stats);
  release_if_idle();  // the feed may have held only requests kedge answered
  return errc;
}

void InFlightTable::count_requests(InFlightState& s, std::size_t before, std::uint64_t seen_before,
                                   ClusterStats& stats) {
  const std::size_t queued = s.requests.size() - before;
  responses_expected_ += queued;
  const std::uint64_t seen = tracker_.requests_seen() - seen_before;
  if (seen == 0) return;
  const std::uint64_t now = queued > 0 ? uv_hrtime() : 0;
  for (std::size_t i = before; i < s.requests.size(); ++i) {
    const std::size_t slot = api_slot(s.requests.at(i).api_key);
    stats.apis[slot].requests++;
    s.timings.push_back(InFlightState::Timing{static_cast<std::uint16_t>(slot), now});
  }
  stats.apis[api_slot(kafka::key_of(kafka::ApiKey::produce))].requests += seen - queued;
}

InFlightTable::Progress InFlightTable::on_broker_bytes(std::span<const std::uint8_t> bytes, kafka::ByteSink& sink,
                                                       ClusterStats& stats) {
  InFlightState& s = state();
  const kafka::ResponseStats& codec = s.responses.stats();
  const std::uint64_t responses_before = codec.responses;
  const std::uint64_t rewritten_before = codec.rewritten;
  const std::uint64_t stripped_before = codec.node_endpoints_stripped;
  Progress progress;
  progress.errc = s.responses.feed(bytes, s.requests, sink);
  progress.node_endpoints_removed = codec.node_endpoints_stripped - stripped_before;
  stats.node_endpoints_removed += progress.node_endpoints_removed;
  stats.responses_rewritten += codec.rewritten - rewritten_before;
  count_responses(s, responses_before, stats);
  return progress;
}

bool InFlightTable::awaits_answer(std::int32_t correlation_id) const {
  if (!state_) return false;
  const kafka::InFlightQueue& requests = state_->requests;
  for (std::size_t i = requests.size(); i-- > 0;) {
    const kafka::RequestInfo& request = requests.at(i);
    if (request.local && request.correlation_id == correlation_id) return true;
  }
  return false;
}

kafka::Errc InFlightTable::answer(std::int32_t correlation_id, std::vector<std::uint8_t> frame, kafka::ByteSink& sink,
                                  ClusterStats& stats) {
  InFlightState& s = state();
  if (feed_) {  // answered from inside on_client_bytes: count the requests queued so far first
    count_requests(s, feed_->queued_before, feed_->seen_before, stats);
    feed_->seen_before = tracker_.requests_seen();
  }
  const std::uint64_t responses_before = s.responses.stats().responses;
  const kafka::Errc errc = s.responses.answer(correlation_id, std::move(frame), s.requests, sink);
  if (feed_) feed_->queued_before = s.requests.size();  // after what the answer popped
  count_responses(s, responses_before, stats);
  return errc;
}

void InFlightTable::count_responses(InFlightState& s, std::uint64_t responses_before, ClusterStats& stats) {
  std::uint64_t completed = s.responses.stats().responses - responses_before;
  if (completed == 0) return;
  const std::uint64_t now = uv_hrtime();
  std::vector<InFlightState::Timing>& timings = s.timings;
  std::size_t& head = s.timings_head;
  for (; completed > 0 && head < timings.size(); --completed) {
    const InFlightState::Timing timing = timings[head++];
    ApiStats& api = stats.apis[timing.api_slot];
    api.responses++;
    api.latency.observe((now - timing.started_ns) / 1000);
  }
  // Keep the FIFO short under steady pipelining: drop the consumed prefix.
  if (head == timings.size()) {
    timings.clear();
    head = 0;
  } else if (head >= 64 && head * 2 >= timings.size()) {
    timings.erase(timings.begin(), timings.begin() + static_cast<std::ptrdiff_t>(head));
    head = 0;
  }
}

// Every response owed has been forwarded whole: the codec holds no partial
// frame, so the state goes back to the loop (an idle connection keeps none of
// it) and the next request takes one again.
void InFlightTable::release_if_idle() {
  // Never from inside a routing feed (a local answer's caller): the tracker is
  // still queueing into this state, and the feed's counts are not settled.
  if (feed_ || !state_ || !state_->requests.empty()) return;
  if (state_->responses.stats().responses != responses_expected_) return;  // a response is still streaming
  responses_expected_ = 0;
  pool_.give(std::move(state_));
}

}  // namespace kedge
