// libFuzzer: one response rewriter, chosen at compile time by KEDGE_FUZZ_API_KEY.
// Input: byte 0 selects the version within the schema's range; the rest is the
// frame body (response header + message) without the int32 size prefix.
// Invariants checked: a rewritten frame walks again with the same endpoints,
// its size prefix is exact, and rewriting it again is idempotent. A rewriter
// that has processed a frame (and may reuse that rewrite, FrameRewriter's
// memo) treats the next frames exactly as a new rewriter does.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "fuzz_support.h"
#include "kafka_codec/engine.h"
#include "kafka_codec/schema.h"
#include "kafka_codec/wire.h"

#ifndef KEDGE_FUZZ_API_KEY
#error "compile with -DKEDGE_FUZZ_API_KEY=<api key>"
#endif

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace kedge::kafka;
  if (size < 1) return 0;
  const schema::MessageSchema* s = schema::find_response_schema(KEDGE_FUZZ_API_KEY);
  if (s == nullptr) __builtin_trap();
  const int span = s->valid.hi - s->valid.lo + 1;
  const auto version = static_cast<std::int16_t>(s->valid.lo + data[0] % span);

  std::vector<std::uint8_t> frame;
  wire::put_i32(frame, static_cast<std::int32_t>(size - 1));
  frame.insert(frame.end(), data + 1, data + size);
  const std::int32_t correlation = frame.size() >= 8 ? wire::get_i32(frame.data() + 4) : 0;
  const RequestInfo request{KEDGE_FUZZ_API_KEY, version, correlation};

  fuzz::TemplateMap map;
  FrameRewriter rewriter;
  if (rewriter.process(frame, request, map) != Errc::ok) return 0;
  if (!rewriter.changed()) return 0;
  // Next frames through the same rewriter: the same bytes with another
  // correlation id, a different last byte (usually past the walked prefix, so
  // the memo applies), and the same again once the map advertises another port
  // (the memo must not apply).
  std::vector<std::uint8_t> next = frame;
  next[4] ^= 0x5a;
  for (int step = 0; step < 3; ++step) {
    if (step == 1 && next.size() > 8) next.back() ^= 0xff;
    fuzz::TemplateMap fresh_map;
    fresh_map.port = map.port = step == 2 ? 19092 : 9092;
    map.log.clear();
    FrameRewriter fresh;
    const Errc reused_result = rewriter.process(next, request, map);
    if (reused_result != fresh.process(next, request, fresh_map) || map.log != fresh_map.log) __builtin_trap();
    if (reused_result != Errc::ok) continue;
    if (rewriter.changed() != fresh.changed()) __builtin_trap();
    if (fresh.changed() && !std::ranges::equal(rewriter.output(), fresh.output())) __builtin_trap();
  }
  fuzz::TemplateMap first_map;
  if (rewriter.process(frame, request, first_map) != Errc::ok || !rewriter.changed()) __builtin_trap();
  const std::vector<std::uint8_t> out(rewriter.output().begin(), rewriter.output().end());
  if (out.size() < 8 || static_cast<std::size_t>(wire::get_i32(out.data())) != out.size() - 4) __builtin_trap();

  fuzz::TemplateMap again;
  FrameRewriter second;
  if (second.process(out, request, again) != Errc::ok) __builtin_trap();
  if (again.calls != first_map.calls) __builtin_trap();
  if (second.changed()) __builtin_trap();  // already advertised: idempotent
  return 0;
}
