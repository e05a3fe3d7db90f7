#pragma once
// The one schema-driven engine (style practice 1): walks any response in
// schema.cpp, bounded by its frame, and rewrites broker endpoints and the
// ApiVersions clamp by patching byte ranges. Everything not patched is copied
// verbatim, including unknown tagged fields and Records blobs.
//
// Contract of walk_body(): every length read from the wire is checked against
// the bytes left in its enclosing bound (frame, or tagged-field `size`) before
// it is used; nothing is allocated from a wire length; fields after the last
// rewritable one are not decoded (passed through byte for byte). Offsets in
// WalkResult are absolute indexes into `frame`.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kafka_codec/schema.h"
#include "kafka_codec/stream.h"

namespace kedge::kafka {

// A broker endpoint found in a response (a struct holding Role::host).
struct EndpointRef {
  std::int32_t node_id = -1;        // -1 when the struct has no Role::node_id field
  std::size_t host_begin = 0;       // encoded string: length prefix + bytes
  std::size_t host_end = 0;
  std::string_view host;            // view into the frame
  bool host_compact = false;        // COMPACT_STRING (flexible) vs int16-length STRING
  bool has_port = false;
  std::size_t port_begin = 0;
  bool port_uint16 = false;
  std::int32_t port = -1;
};

// One ApiVersionsResponse.ApiKeys entry (whole element incl. its tag buffer).
struct ApiVersionEntryRef {
  std::size_t begin = 0, end = 0;
  std::int16_t api_key = 0, min_version = 0, max_version = 0;
  std::size_t max_version_pos = 0;
};

// The count prefix of the ApiKeys array.
struct ApiKeyListRef {
  bool present = false;
  bool compact = false;
  std::size_t count_begin = 0, count_end = 0;
  std::uint32_t count = 0;
};

// The `size` varint of a tagged field whose value holds something we may patch.
struct TagSizeRef {
  std::size_t size_begin = 0, size_end = 0;    // the uvarint itself
  std::size_t value_begin = 0, value_end = 0;  // the bytes it counts
};

// A field marked Role::value, as found: one per array element for an array.
// [begin, end) holds the value's bytes, length prefix excluded (an INT16
// ErrorCode is 2 bytes, a string its text); empty when `null`.
struct ValueRef {
  std::string_view name;  // the schema field's name ("ErrorCode", "AuthBytes")
  schema::Type type = schema::Type::int32;
  bool null = false;
  std::size_t begin = 0, end = 0;
};

// An array marked Role::element_list: its count prefix and each element.
struct ElementListRef {
  std::string_view name;  // the schema field's name ("Topics")
  bool compact = false;   // COMPACT_ARRAY (uvarint N+1) vs int32 count
  std::size_t count_begin = 0, count_end = 0;
  std::vector<std::pair<std::size_t, std::size_t>> elements;  // [begin, end) of each element
};

// A string marked with a NameKind (schema.h), as found: one per array element
// for an array of strings. [begin, end) is the whole encoding (length prefix
// included); the text starts at text_begin. `values_before` is how many
// ValueRefs were recorded before it (the ResourceType a config_resource name
// follows is values[values_before - 1]).
struct NameRef {
  schema::NameKind kind = schema::NameKind::none;
  bool null = false;
  bool compact = false;  // COMPACT_STRING (flexible) vs int16-length STRING
  std::size_t begin = 0, text_begin = 0, end = 0;
  std::size_t values_before = 0;
};

struct WalkResult {
  std::vector<EndpointRef> endpoints;
  std::vector<NameRef> names;  // NameKind-marked strings, in wire order
  std::vector<ElementListRef> lists;  // Role::element_list arrays, in wire order
  std::vector<ValueRef> values;  // Role::value fields, in wire order
  std::vector<ApiVersionEntryRef> api_entries;
  ApiKeyListRef api_key_list;
  std::vector<TagSizeRef> tag_sizes;  // post-order: inner tags before enclosing ones
  std::size_t trailing_bytes = 0;     // bytes after the last field, carried verbatim
  void clear() {
    trailing_bytes = 0;
    endpoints.clear();
    names.clear();
    lists.clear();
    values.clear();
    api_entries.clear();
    api_key_list = {};
    tag_sizes.clear();
  }
};

// Walks body bytes [begin, end) of `frame` as `schema` at `version`, up to
// and including the last top-level field that can hold something rewritten
// (the whole body when that is a tagged field, KIP-951 NodeEndpoints).
// Returns false if a walked field does not parse within [begin, end). The
// bytes after the walk (unwalked fields, e.g. Metadata's Topics, or bytes after
// the last field) are reported in out.trailing_bytes and copied verbatim.
// Bytes after the last field are tolerated even in a whole walk:
// Kafka's own clients (Java's generated readers, librdkafka) ignore them, and
// real peers send them — librdkafka's mock broker appends a second empty tag
// buffer to flexible responses (rd_kafka_mock_connection_send_response0 with
// tags_written=false after the handler wrote its own). Rejecting them would
// break clients that work without kedge; every field kedge rewrites lies
// before them, and the rewriter copies them through unchanged.
bool walk_body(const schema::MessageSchema& schema, std::int16_t version,
               std::span<const std::uint8_t> frame, std::size_t begin, std::size_t end,
               WalkResult& out);

// Walks the WHOLE body [begin, end) of `frame` as `schema` at `version`:
// every field and the top-level tag buffer, for kedge reading a response it
// asked for on its own connection (any table: response_schemas() or
// client_response_schemas()). Same bounds and tolerance as walk_body (bytes
// after the last field are counted in out.trailing_bytes); Role::value fields
// are in out.values. Returns false if the body does not parse.
bool read_body(const schema::MessageSchema& schema, std::int16_t version,
               std::span<const std::uint8_t> frame, std::size_t begin, std::size_t end,
               WalkResult& out);

// Walks only the fields `schema` lists at `version`, from `begin`: the
// leading fields of a request (MessageSchema::leading_fields_only) up to the
// last one a policy reads. What follows them (later fields, the top-level tag
// buffer) is not read. Nested structs are walked whole, tag buffers included.
// Same bounds as walk_body; false if a listed field does not parse.
bool read_leading(const schema::MessageSchema& schema, std::int16_t version,
                  std::span<const std::uint8_t> frame, std::size_t begin, std::size_t end,
                  WalkResult& out);

// The first value named `name` in `walk` (a top-level field name of the
// schema walked), or nullptr.
const ValueRef* find_value(const WalkResult& walk, std::string_view name);

// Skips a TAG_BUFFER (header v1/v2 tags); false if malformed.
bool skip_tag_buffer(std::span<const std::uint8_t> frame, std::size_t& pos, std::size_t end);

// Byte-range replacements on one frame, assembled into a new frame whose
// enclosing tag sizes (KIP-482) and size prefix follow the changed lengths.
// Replacements never overlap and never straddle a tagged value.
class FramePatcher {
 public:
  void clear() { patches_.clear(); arena_.clear(); }
  // Replacement bytes are appended here, then handed to replace().
  std::vector<std::uint8_t>& arena() { return arena_; }
  // [begin, end) of `frame` becomes the arena's bytes from `arena_off` to its
  // end; identical bytes are not a change (dropped from the arena).
  void replace(std::span<const std::uint8_t> frame, std::size_t begin, std::size_t end, std::size_t arena_off);
  // [begin, end) becomes arena bytes [arena_off, arena_off + len), even if
  // identical (an insertion when begin == end, a removal when len == 0).
  void replace_always(std::size_t begin, std::size_t end, std::size_t arena_off, std::size_t len) {
    patches_.push_back({begin, end, arena_off, len});
  }
  bool empty() const { return patches_.empty(); }
  // `out` becomes the whole new frame. `tags` are the tag sizes that enclose
  // replaced bytes (WalkResult::tag_sizes, post-order). malformed_response if a
  // size no longer fits its field.
  Errc assemble(std::span<const std::uint8_t> frame, std::span<const TagSizeRef> tags, std::vector<std::uint8_t>& out);
  std::size_t capacity_bytes() const { return arena_.capacity() + patches_.capacity() * sizeof(Patch); }
  void trim(std::size_t keep_bytes) {
    if (arena_.capacity() > keep_bytes) std::vector<std::uint8_t>().swap(arena_);
  }

 private:
  struct Patch {
    std::size_t begin, end;           // replaced input range
    std::size_t arena_off, arena_len; // replacement bytes in arena_
  };
  std::vector<Patch> patches_;
  std::vector<std::uint8_t> arena_;
  std::vector<std::int64_t> prefix_delta_;  // prefix sums of content patch deltas
  std::vector<std::int64_t> tag_delta_;     // size-varint growth per tag size
};

// Rewrites one complete response frame. Reuses its buffers across frames.
class FrameRewriter {
 public:
  // `frame` is the whole response frame, size prefix included, whose size
  // prefix has been validated to equal frame.size() - 4. Calls `addresses` for
  // every endpoint with NodeId >= 0. On success, changed() tells whether
  // output() (the complete new frame) differs from `frame`.
  // Errc::malformed_response if the frame does not walk; nothing is produced then.
  Errc process(std::span<const std::uint8_t> frame, const RequestInfo& request,
               AddressMap& addresses);
  bool changed() const { return changed_; }
  std::span<const std::uint8_t> output() const { return out_; }
  // The walk of the last frame that was walked (valid until the next
  // process(); a frame rewritten from the memo below is not walked).
  const WalkResult& walk() const { return walk_; }
  // Frees buffers that grew past `keep_bytes` (idle connections hold no big buffers).
  void trim(std::size_t keep_bytes);
  std::size_t capacity_bytes() const { return out_.capacity() + patcher_.capacity_bytes() + memo_capacity_bytes(); }

  // Frames rewritten by reusing the previous rewrite (the memo below) instead of walking.
  std::uint64_t reused_rewrites() const { return reused_rewrites_; }

  // Walked bytes a rewrite is remembered for at most (about 200 Metadata brokers).
  static constexpr std::size_t kMemoMaxBytes = 8 * 1024;

 private:
  // The last rewrite of a frame whose walk stopped before the body's end
  // (Metadata's walk ends after Brokers). The walk reads only the bytes it
  // covers, so a later frame of the same api and version whose body starts
  // with the same bytes walks identically; if the address map still
  // advertises the same address for every endpoint in it, the rewritten
  // bytes are the same too and are reused: the broker list is identical in
  // every Metadata response a broker sends until the cluster changes.
  struct MemoEndpoint {
    std::int32_t node_id;
    std::size_t host_offset, host_size;  // real host, in `input`
    std::int32_t port;                   // real port
    std::size_t advertised_offset, advertised_size;  // in `advertised_hosts`
    std::int32_t advertised_port;
  };
  struct Memo {
    bool valid = false;
    std::int16_t api_key = -1, api_version = -1;
    std::vector<std::uint8_t> input;   // body bytes the walk covered, as received
    std::vector<std::uint8_t> output;  // the same bytes rewritten
    std::vector<MemoEndpoint> endpoints;
    std::string advertised_hosts;
  };
  static std::int16_t walk_version(const schema::MessageSchema& s, std::span<const std::uint8_t> frame,
                                   const RequestInfo& request);
  Errc patch_endpoints(std::span<const std::uint8_t> frame, std::size_t body_begin, const RequestInfo& request,
                       AddressMap& addresses);
  void patch_api_versions(std::span<const std::uint8_t> frame, const AddressMap& addresses);
  bool rewrite_from_memo(std::span<const std::uint8_t> frame, std::size_t body_begin,
                         const RequestInfo& request, AddressMap& addresses);
  void remember(std::span<const std::uint8_t> frame, std::size_t body_begin, const RequestInfo& request);
  std::size_t memo_capacity_bytes() const {
    return memo_.input.capacity() + memo_.output.capacity() + memo_.endpoints.capacity() * sizeof(MemoEndpoint) +
           memo_.advertised_hosts.capacity();
  }
  Memo memo_;
  std::uint64_t reused_rewrites_ = 0;

  WalkResult walk_;
  FramePatcher patcher_;
  std::vector<std::uint8_t> out_;
  bool changed_ = false;
};

// True if a response to (api_key, api_version) may carry something kedge changes,
// so it must be buffered whole and walked; every other response is streamed.
bool response_needs_rewrite(std::int16_t api_key, std::int16_t api_version);

}  // namespace kedge::kafka
