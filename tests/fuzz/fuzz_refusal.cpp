// libFuzzer: encode_refusal (kafka_codec/refusal.h), the answer kedge writes for a request a policy refuses.
// Input: a request frame without its size prefix (header + body; the target prepends the size). Seeds: the
// refusal golden vectors (tests/golden/refusals/), so every answerable API and version (acl_answerable_versions:
// the API-level refusals and the ACL-only ones) starts covered, and Fetch's, which encode_refusal must not answer
// (a policy decides Fetch topic by topic, split.h; fuzz_split covers that answer).
// Invariants: on error nothing is appended; on success exactly one frame is appended, its size prefix
// describes it, it is within the bound, and it carries the request's correlation id; only answerable versions
// are answered (never a Fetch); a refusal of an API whose responses the data path walks (Produce,
// FindCoordinator, the share APIs) reads back with that table (schema.cpp); all of it for every kind of refused
// resource (RefusedResource).
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "kafka_codec/api.h"
#include "kafka_codec/client.h"
#include "kafka_codec/engine.h"
#include "kafka_codec/refusal.h"
#include "kafka_codec/schema.h"
#include "kafka_codec/wire.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace kedge::kafka;
  std::vector<std::uint8_t> frame;
  wire::put_i32(frame, static_cast<std::int32_t>(size));
  frame.insert(frame.end(), data, data + size);
  // Two bounds: roomy, and one small enough that larger answers must fail cleanly; every kind of refused resource.
  for (const std::uint32_t max : {1u << 20, 64u})
  for (const RefusedResource refused : {RefusedResource::unspecified, RefusedResource::topic, RefusedResource::group,
                                        RefusedResource::transactional_id, RefusedResource::cluster}) {
    std::vector<std::uint8_t> out = {0xab};  // bytes already there stay untouched
    const Errc errc = encode_refusal(frame, "refused", max, out, refused);
    if (errc != Errc::ok) {
      if (out.size() != 1 || out[0] != 0xab) __builtin_trap();
      continue;
    }
    if (out.size() < 1 + 8 || out[0] != 0xab) __builtin_trap();
    const std::span<const std::uint8_t> answer(out.data() + 1, out.size() - 1);
    if (static_cast<std::size_t>(wire::get_i32(answer.data())) != answer.size() - 4) __builtin_trap();
    if (answer.size() - 4 > max) __builtin_trap();
    std::int16_t api_key = 0, version = 0;
    std::int32_t correlation_id = 0;
    std::size_t body_begin = 0;
    if (!read_request_header(frame, api_key, version, correlation_id, body_begin)) __builtin_trap();
    if (wire::get_i32(answer.data() + 4) != correlation_id) __builtin_trap();
    // Answered only in the versions kedge offers: the API-level refusals and the ACL-only ones (not Fetch).
    if (!acl_answerable_versions(api_key).contains(version) || is(api_key, ApiKey::fetch)) __builtin_trap();
    // An answer to an API whose responses the data path walks (Produce, FindCoordinator, ShareFetch,
    // ShareAcknowledge) reads back whole with that table (schema.cpp).
    const schema::MessageSchema* table = schema::find_response_schema(api_key);
    if (table != nullptr && table->valid.contains(version)) {
      std::int32_t cid = 0;
      std::size_t response_body = 0;
      WalkResult walk;
      if (!read_response_header(answer, api_key, version, cid, response_body) ||
          !read_body(*table, version, answer, response_body, answer.size(), walk) || walk.trailing_bytes != 0) {
        __builtin_trap();
      }
    }
  }
  return 0;
}
