#include "kafka_codec/engine.h"

#include <algorithm>
#include <cstring>

#include "kafka_codec/api.h"
#include "kafka_codec/errors.h"
#include "kafka_codec/wire.h"

namespace kedge::kafka {
namespace {

using schema::Field;
using schema::MessageSchema;
using schema::Role;
using schema::Type;

// Role-marked fields seen while walking one struct.
struct StructState {
  bool has_node_id = false;
  std::int32_t node_id = -1;
  bool has_host = false;
  EndpointRef endpoint;
  bool has_api_key = false;
  ApiVersionEntryRef api_entry;
};

class Walker {
 public:
  Walker(const MessageSchema& s, std::int16_t version, std::span<const std::uint8_t> frame,
         WalkResult& out)
      : version_(version), flexible_(s.flexible(version)), frame_(frame), out_(out) {}

  // `with_tag_buffer` false: the struct's tag buffer (and whatever follows
  // `fields`) is left unread; only the top level does that (walk_body).
  bool walk_struct(std::span<const Field> fields, wire::Reader& r, bool with_tag_buffer = true) {
    const std::size_t begin = r.pos();
    StructState st;
    for (const Field& f : fields) {
      // Tagged fields live in the trailing tag buffer, not at their list position.
      if (!f.versions.contains(version_) || f.is_tagged()) continue;
      if (!walk_field(f, r, st)) return false;
    }
    if (flexible_ && with_tag_buffer && !walk_tag_buffer(fields, r, st)) return false;
    if (st.has_host) {
      st.endpoint.node_id = st.has_node_id ? st.node_id : -1;
      out_.endpoints.push_back(st.endpoint);
    }
    if (st.has_api_key) {
      st.api_entry.begin = begin;
      st.api_entry.end = r.pos();
      out_.api_entries.push_back(st.api_entry);
    }
    return !r.failed();
  }

 private:
  // Length or count prefix: UNSIGNED_VARINT N+1 in flexible versions (0 = null),
  // else a signed big-endian int of `classic_bytes` (2 for STRING, 4 for ARRAY
  // and BYTES/RECORDS; -1 = null). `out` is N, or -1 for null.
  bool read_length_prefix(wire::Reader& r, int classic_bytes, std::int64_t& out) {
    if (flexible_) {
      std::uint32_t v = 0;
      if (!r.read_uvarint(v)) return false;
      out = static_cast<std::int64_t>(v) - 1;
    } else if (classic_bytes == 2) {
      std::int16_t v = 0;
      if (!r.read_i16(v)) return false;
      out = v;
    } else {
      std::int32_t v = 0;
      if (!r.read_i32(v)) return false;
      out = v;
    }
    return true;
  }

  // A field at its wire position: array or single value.
  bool walk_field(const Field& f, wire::Reader& r, StructState& st) {
    if (!f.array) return walk_value(f, r, st);
    const std::size_t count_begin = r.pos();
    std::int64_t count = 0;
    if (!read_length_prefix(r, 4, count)) return false;
    if (count < 0) {
      // Null array: -1 (classic) or 0 (compact); any other negative is malformed. A null
      // Role::value array is recorded as a null value (an OffsetFetch group asking all topics).
      if (count != -1 || !f.nullable.contains(version_)) return r.fail();
      if (f.role == Role::value) out_.values.push_back({f.name, f.type, true, r.pos(), r.pos()});
      return true;
    }
    // Every element occupies at least one byte: bound the loop by the frame.
    if (static_cast<std::uint64_t>(count) > r.remaining()) return r.fail();
    if (f.role == Role::api_key_list) {
      out_.api_key_list = {true, flexible_, count_begin, r.pos(), static_cast<std::uint32_t>(count)};
    }
    if (f.role == Role::element_list) {
      ElementListRef list{f.name, flexible_, count_begin, r.pos(), {}};
      list.elements.reserve(static_cast<std::size_t>(count));  // bounded above by the frame
      // A list of scalars (DeleteTopics v1-5 TopicNames) records each element as a value too.
      const Field element = f.type == Type::structure ? f : f.as(Role::value);
      for (std::int64_t i = 0; i < count; ++i) {
        const std::size_t element_begin = r.pos();
        if (!walk_value(element, r, st)) return false;
        list.elements.emplace_back(element_begin, r.pos());
      }
      out_.lists.push_back(std::move(list));
      return true;
    }
    // Arrays of fixed-size scalars nothing rewrites (replica lists, partition
    // indexes, offsets) are skipped in one bounded step instead of element by
    // element: Metadata's replica/ISR lists are most of a large response.
    if (const std::size_t width = fixed_width(f.type); width != 0 && f.role == Role::none) {
      if (static_cast<std::uint64_t>(count) > r.remaining() / width) return r.fail();
      return r.skip(static_cast<std::size_t>(count) * width);
    }
    for (std::int64_t i = 0; i < count; ++i) {
      if (!walk_value(f, r, st)) return false;
    }
    return true;
  }

  // Wire size of a fixed-size type; 0 for variable-size ones (strings, bytes, structs).
  static constexpr std::size_t fixed_width(Type t) {
    switch (t) {
      case Type::int8:
      case Type::boolean: return 1;
      case Type::int16:
      case Type::uint16: return 2;
      case Type::int32: return 4;
      case Type::int64:
      case Type::float64: return 8;
      case Type::uuid: return 16;
      default: return 0;
    }
  }

  bool walk_value(const Field& f, wire::Reader& r, StructState& st) {
    if (f.role == Role::value && fixed_width(f.type) != 0) {
      const std::size_t begin = r.pos();
      if (!r.skip(fixed_width(f.type))) return false;
      out_.values.push_back({f.name, f.type, false, begin, r.pos()});
      return true;
    }
    switch (f.type) {
      case Type::int8:
      case Type::boolean: return r.skip(1);
      case Type::int16: {
        const std::size_t pos = r.pos();
        std::int16_t v = 0;
        if (!r.read_i16(v)) return false;
        if (f.role == Role::api_key) { st.has_api_key = true; st.api_entry.api_key = v; }
        if (f.role == Role::min_version) st.api_entry.min_version = v;
        if (f.role == Role::max_version) { st.api_entry.max_version = v; st.api_entry.max_version_pos = pos; }
        return true;
      }
      case Type::uint16:
      case Type::int32: {
        const std::size_t pos = r.pos();
        std::int32_t v = 0;
        if (f.type == Type::uint16) {
          std::uint16_t u = 0;
          if (!r.read_u16(u)) return false;
          v = u;
        } else if (!r.read_i32(v)) {
          return false;
        }
        if (f.role == Role::node_id) { st.has_node_id = true; st.node_id = v; }
        if (f.role == Role::port) {
          st.endpoint.has_port = true;
          st.endpoint.port_begin = pos;
          st.endpoint.port_uint16 = f.type == Type::uint16;
          st.endpoint.port = v;
        }
        return true;
      }
      case Type::int64:
      case Type::float64: return r.skip(8);
      case Type::uuid: return r.skip(16);
      case Type::string: return walk_string(f, r, st);
      case Type::bytes:
      case Type::records: return walk_bytes(f, r);
      case Type::structure: {
        if (!f.array && f.nullable.contains(version_) && !f.is_tagged()) {
          std::int8_t marker = 0;
          if (!r.read_i8(marker)) return false;
          if (marker == -1) return true;
          if (marker != 1) return r.fail();
        }
        return walk_struct(f.fields, r);
      }
    }
    return r.fail();
  }

  bool walk_string(const Field& f, wire::Reader& r, StructState& st) {
    const std::size_t begin = r.pos();
    std::int64_t len = 0;
    if (!read_length_prefix(r, 2, len)) return false;
    if (len < 0) {
      if (len != -1 || !f.nullable.contains(version_) || f.role == Role::host) return r.fail();
      if (f.names != schema::NameKind::none)
        out_.names.push_back({f.names, true, flexible_, begin, r.pos(), r.pos(), out_.values.size()});
      if (f.role == Role::value) out_.values.push_back({f.name, f.type, true, r.pos(), r.pos()});
      return true;
    }
    const std::size_t data_begin = r.pos();
    if (!r.skip(static_cast<std::size_t>(len))) return false;  // bounded by the frame
    if (f.names != schema::NameKind::none)
      out_.names.push_back({f.names, false, flexible_, begin, data_begin, r.pos(), out_.values.size()});
    if (f.role == Role::value) out_.values.push_back({f.name, f.type, false, data_begin, r.pos()});
    if (f.role == Role::host) {
      st.has_host = true;
      st.endpoint.host_begin = begin;
      st.endpoint.host_end = r.pos();
      st.endpoint.host = r.view(data_begin, static_cast<std::size_t>(len));
      st.endpoint.host_compact = flexible_;
    }
    return true;
  }

  bool walk_bytes(const Field& f, wire::Reader& r) {
    std::int64_t len = 0;
    if (!read_length_prefix(r, 4, len)) return false;
    if (len < 0) {
      if (len != -1 || !f.nullable.contains(version_)) return r.fail();
      if (f.role == Role::value) out_.values.push_back({f.name, f.type, true, r.pos(), r.pos()});
      return true;
    }
    const std::size_t data_begin = r.pos();
    if (!r.skip(static_cast<std::size_t>(len))) return false;  // Records: skipped, never decoded
    if (f.role == Role::value) out_.values.push_back({f.name, f.type, false, data_begin, r.pos()});
    return true;
  }

  // TAG_BUFFER: count, then {tag, size, value}. Known tags are walked inside a
  // reader bounded to `size` and must fill it exactly; unknown tags are skipped
  // (the rewriter copies them verbatim).
  bool walk_tag_buffer(std::span<const Field> fields, wire::Reader& r, StructState& st) {
    std::uint32_t count = 0;
    if (!r.read_uvarint(count)) return false;
    if (count > r.remaining()) return r.fail();
    for (std::uint32_t i = 0; i < count; ++i) {
      std::uint32_t tag = 0, size = 0;
      if (!r.read_uvarint(tag)) return false;
      const std::size_t size_begin = r.pos();
      if (!r.read_uvarint(size)) return false;
      const std::size_t value_begin = r.pos();
      if (size > r.remaining()) return r.fail();
      const Field* known = nullptr;
      for (const Field& f : fields) {
        if (f.is_tagged() && static_cast<std::uint32_t>(f.tag) == tag && f.versions.contains(version_)) {
          known = &f;
          break;
        }
      }
      if (known != nullptr) {
        const std::size_t endpoints_before = out_.endpoints.size();
        const std::size_t entries_before = out_.api_entries.size();
        const std::size_t names_before = out_.names.size();
        wire::Reader value(frame_, value_begin, value_begin + size);
        if (!walk_field(*known, value, st) || value.pos() != value.end()) return r.fail();
        if (out_.endpoints.size() != endpoints_before || out_.api_entries.size() != entries_before ||
            out_.names.size() != names_before || st.has_host) {
          out_.tag_sizes.push_back({size_begin, value_begin, value_begin, value_begin + size});
        }
      }
      if (!r.skip(size)) return false;
    }
    return true;
  }

  std::int16_t version_;
  bool flexible_;
  std::span<const std::uint8_t> frame_;
  WalkResult& out_;
};

// True if `f` or anything nested in it has a rewrite role, in any version
// (Role::value is read by kedge as a client, never rewritten).
bool carries_rewrite(const Field& f) {
  if (f.role != Role::none && f.role != Role::value && f.role != Role::element_list) return true;
  return std::any_of(f.fields.begin(), f.fields.end(), carries_rewrite);
}

// A top-level field that can hold something rewritten.
struct CarryingField {
  std::size_t index;  // position in MessageSchema::fields
  const Field* field;
};

// Per response schema, its carrying top-level fields (usually one or two:
// Metadata's Brokers; Produce's NodeEndpoints tag). Computed once, the tables
// being constant, so walk_body only checks their versions.
std::span<const CarryingField> carrying_fields(const MessageSchema& s) {
  static const std::vector<std::vector<CarryingField>> table = [] {
    std::vector<std::vector<CarryingField>> t;
    for (const MessageSchema& schema : schema::response_schemas()) {
      std::vector<CarryingField> carrying;
      for (std::size_t i = 0; i < schema.fields.size(); ++i)
        if (carries_rewrite(schema.fields[i])) carrying.push_back({i, &schema.fields[i]});
      t.push_back(std::move(carrying));
    }
    return t;
  }();
  const std::span<const MessageSchema> all = schema::response_schemas();
  const std::size_t index = static_cast<std::size_t>(&s - all.data());
  // Every schema comes from response_schemas(); one that did not would have
  // nothing to rewrite.
  return index < table.size() ? std::span<const CarryingField>(table[index]) : std::span<const CarryingField>();
}

}  // namespace

bool walk_body(const MessageSchema& s, std::int16_t version, std::span<const std::uint8_t> frame,
               std::size_t begin, std::size_t end, WalkResult& out) {
  out.clear();
  if (!s.valid.contains(version) || begin > end || end > frame.size()) return false;
  wire::Reader r(frame, begin, end);
  Walker walker(s, version, frame, out);
  // Decode only what is rewritten: the walk stops after the last top-level
  // field that can hold an endpoint or an ApiVersions entry, and the rest
  // (Metadata's Topics, most of a large response) is copied verbatim like
  // trailing bytes. A tagged top-level field that carries one (Produce/Fetch
  // NodeEndpoints, KIP-951) lives in the final tag buffer: then the whole body
  // is walked.
  std::size_t walk_fields = 0;
  bool tag_buffer_carries = false;
  for (const CarryingField& c : carrying_fields(s)) {
    if (!c.field->versions.contains(version)) continue;
    if (c.field->is_tagged()) tag_buffer_carries = true;
    else walk_fields = c.index + 1;
  }
  const bool whole = tag_buffer_carries && s.flexible(version);
  if (!walker.walk_struct(whole ? s.fields : s.fields.first(walk_fields), r, whole)) return false;
  out.trailing_bytes = r.end() - r.pos();  // tolerated, see engine.h
  return true;
}

bool read_body(const MessageSchema& s, std::int16_t version, std::span<const std::uint8_t> frame,
               std::size_t begin, std::size_t end, WalkResult& out) {
  out.clear();
  if (!s.valid.contains(version) || begin > end || end > frame.size()) return false;
  wire::Reader r(frame, begin, end);
  Walker walker(s, version, frame, out);
  if (!walker.walk_struct(s.fields, r)) return false;
  out.trailing_bytes = r.end() - r.pos();  // tolerated, see walk_body in engine.h
  return true;
}

bool read_leading(const MessageSchema& s, std::int16_t version, std::span<const std::uint8_t> frame,
                  std::size_t begin, std::size_t end, WalkResult& out) {
  out.clear();
  if (!s.valid.contains(version) || begin > end || end > frame.size()) return false;
  wire::Reader r(frame, begin, end);
  Walker walker(s, version, frame, out);
  if (!walker.walk_struct(s.fields, r, /*with_tag_buffer=*/false)) return false;
  out.trailing_bytes = r.end() - r.pos();
  return true;
}

const ValueRef* find_value(const WalkResult& walk, std::string_view name) {
  for (const ValueRef& v : walk.values)
    if (v.name == name) return &v;
  return nullptr;
}

bool skip_tag_buffer(std::span<const std::uint8_t> frame, std::size_t& pos, std::size_t end) {
  wire::Reader r(frame, pos, end);
  std::uint32_t count = 0;
  if (!r.read_uvarint(count) || count > r.remaining()) return false;
  for (std::uint32_t i = 0; i < count; ++i) {
    std::uint32_t tag = 0, size = 0;
    if (!r.read_uvarint(tag) || !r.read_uvarint(size) || !r.skip(size)) return false;
  }
  pos = r.pos();
  return true;
}

bool response_needs_rewrite(std::int16_t api_key, std::int16_t api_version) {
  const MessageSchema* s = schema::find_response_schema(api_key);
  return s != nullptr && api_version >= s->walked_from;
}

void FramePatcher::replace(std::span<const std::uint8_t> frame, std::size_t begin, std::size_t end,
                           std::size_t arena_off) {
  const std::size_t len = arena_.size() - arena_off;
  if (len == end - begin && std::memcmp(frame.data() + begin, arena_.data() + arena_off, len) == 0) {
    arena_.resize(arena_off);  // identical bytes: not a change
    return;
  }
  patches_.push_back({begin, end, arena_off, len});
}

// The layout a response to `request` is walked with, or -1 when the table has none.
std::int16_t FrameRewriter::walk_version(const schema::MessageSchema& s, std::span<const std::uint8_t> frame,
                                         const RequestInfo& request) {
  std::int16_t version = request.api_version;
  if (is(request.api_key, ApiKey::api_versions)) {
    // ApiVersions is the one API a client sends before it knows the broker's
    // ranges, so it may be newer than this table (trunk v5, KIP-1242). A broker
    // that lacks it answers UNSUPPORTED_VERSION with a v0 body (KIP-511;
    // RequestContext.parseRequest, ApiVersionsResponse.parse falls back to v0);
    // one that has it is walked with the newest layout known here and must
    // still consume exactly. The response header is v0 in every version.
    if (version > s.valid.hi) version = s.valid.hi;
    if (version > 0 && frame.size() >= 10 && wire::get_i16(frame.data() + 8) == code_of(ErrorCode::unsupported_version))
      version = 0;
  }
  return s.valid.contains(version) ? version : -1;
}

Errc FrameRewriter::process(std::span<const std::uint8_t> frame, const RequestInfo& request,
                            AddressMap& addresses) {
  changed_ = false;
  patcher_.clear();
  out_.clear();
  const schema::MessageSchema* s = schema::find_response_schema(request.api_key);
  if (s == nullptr || frame.size() < 8) return Errc::malformed_response;
  const std::int16_t version = walk_version(*s, frame, request);
  if (version < 0) return Errc::malformed_response;

  // Response header: correlation id, then a tag buffer in header v1.
  std::size_t body_begin = 8;
  if (s->flexible(version) && !s->header_v0_always && !skip_tag_buffer(frame, body_begin, frame.size()))
    return Errc::malformed_response;

  if (rewrite_from_memo(frame, body_begin, request, addresses)) return Errc::ok;
  memo_.valid = false;
  memo_.endpoints.clear();
  memo_.advertised_hosts.clear();

  if (!walk_body(*s, version, frame, body_begin, frame.size(), walk_)) {
    // An ApiVersions *error* reply grants no versions: the client retries at a
    // lower ApiVersions version and that reply is the one clamped. Some peers
    // (librdkafka's mock broker, both 2.0.2 and 2.12) send an error-35 body
    // that fits neither the request's layout nor v0; it carries no broker
    // address, so it is forwarded as received rather than failing the
    // connection (golden: api_versions.v3.librdkafka_mock_error35).
    if (is(request.api_key, ApiKey::api_versions) && frame.size() >= 10 && wire::get_i16(frame.data() + 8) != 0) {
      patcher_.clear();
      return Errc::ok;
    }
    return Errc::malformed_response;
  }
  if (Errc e = patch_endpoints(frame, body_begin, request, addresses); e != Errc::ok) return e;
  if (is(request.api_key, ApiKey::api_versions)) patch_api_versions(frame, addresses);
  if (patcher_.empty()) return Errc::ok;
  if (Errc e = patcher_.assemble(frame, walk_.tag_sizes, out_); e != Errc::ok) return e;
  changed_ = true;
  remember(frame, body_begin, request);
  return Errc::ok;
}

// Endpoints: Host (length prefix re-encoded) and Port.
Errc FrameRewriter::patch_endpoints(std::span<const std::uint8_t> frame, std::size_t body_begin,
                                    const RequestInfo& request, AddressMap& addresses) {
  for (const EndpointRef& e : walk_.endpoints) {
    if (e.node_id < 0) continue;  // FindCoordinator error entry (Node.noNode())
    const AddressMap::Advertised adv = addresses.advertised_for(e.node_id);
    addresses.on_endpoint_rewritten(request.api_key, request.api_version, e.node_id, e.host,
                                    e.port, adv);
    if (adv.host.size() > 0x7fff) return Errc::malformed_response;  // not encodable as STRING
    if (e.host_end - body_begin <= kMemoMaxBytes) {  // past that, the frame is not remembered
      // The host's bytes end where its encoding does.
      memo_.endpoints.push_back({e.node_id, e.host_end - e.host.size() - body_begin, e.host.size(), e.port,
                                 memo_.advertised_hosts.size(), adv.host.size(), adv.port});
      memo_.advertised_hosts.append(adv.host);
    }
    std::vector<std::uint8_t>& arena = patcher_.arena();
    std::size_t off = arena.size();
    wire::put_string(arena, adv.host, e.host_compact);
    patcher_.replace(frame, e.host_begin, e.host_end, off);
    if (e.has_port) {
      off = arena.size();
      if (e.port_uint16) wire::put_u16(arena, static_cast<std::uint16_t>(adv.port));
      else wire::put_i32(arena, adv.port);
      patcher_.replace(frame, e.port_begin, e.port_begin + (e.port_uint16 ? 2 : 4), off);
    }
  }
  return Errc::ok;
}

// ApiVersions clamp: lower MaxVersion in place, drop removed keys; the APIs
// kedge answers itself on this connection get its ranges, added when missing.
void FrameRewriter::patch_api_versions(std::span<const std::uint8_t> frame, const AddressMap& addresses) {
  const std::span<const AddressMap::LocalApi> local = addresses.local_apis();
  std::vector<bool> listed(local.size(), false);
  std::uint32_t removed = 0;
  using Mode = AddressMap::LocalApi::Mode;
  std::vector<std::uint8_t>& arena = patcher_.arena();
  const auto remove = [&](const ApiVersionEntryRef& a) {
    patcher_.replace_always(a.begin, a.end, arena.size(), 0);
    ++removed;
  };
  const auto set_range = [&](const ApiVersionEntryRef& a, std::int16_t min_version, std::int16_t max_version) {
    const std::size_t off = arena.size();
    wire::put_i16(arena, min_version);  // MinVersion sits just before MaxVersion
    wire::put_i16(arena, max_version);
    patcher_.replace(frame, a.max_version_pos - 2, a.max_version_pos + 2, off);
  };
  for (const ApiVersionEntryRef& a : walk_.api_entries) {
    const auto own = std::find_if(local.begin(), local.end(),
                                  [&](const AddressMap::LocalApi& l) { return l.api_key == a.api_key; });
    const std::int16_t clamp = max_supported_version(a.api_key);
    if (!addresses.offers_unknown_apis() && api_name(a.api_key).empty()) {
      remove(a);
      continue;
    }
    if (own != local.end()) {
      listed[static_cast<std::size_t>(own - local.begin())] = true;
      switch (own->mode) {
        case Mode::answer: set_range(a, own->min_version, own->max_version); break;
        case Mode::hide: remove(a); break;
        case Mode::cap:
        case Mode::refuse: {
          const std::int16_t lo = std::max(a.min_version, own->min_version);
          const std::int16_t hi = std::min({a.max_version, own->max_version, clamp});
          if (lo > hi) remove(a);
          else if (lo != a.min_version || hi != a.max_version) set_range(a, lo, hi);
          break;
        }
      }
      continue;
    }
    if (clamp < 0 || a.min_version > clamp) {
      remove(a);
    } else if (a.max_version > clamp) {
      const std::size_t off = arena.size();
      wire::put_i16(arena, clamp);
      patcher_.replace(frame, a.max_version_pos, a.max_version_pos + 2, off);
    }
  }
  const ApiKeyListRef& list = walk_.api_key_list;
  if (!list.present) return;
  std::uint32_t added = 0;
  const std::size_t append_at = walk_.api_entries.empty() ? list.count_end : walk_.api_entries.back().end;
  const std::size_t append_off = arena.size();
  for (std::size_t i = 0; i < local.size(); ++i) {
    if (listed[i] || (local[i].mode != Mode::answer && local[i].mode != Mode::refuse)) continue;
    wire::put_i16(arena, local[i].api_key);
    wire::put_i16(arena, local[i].min_version);
    wire::put_i16(arena, local[i].max_version);
    if (list.compact) wire::put_uvarint(arena, 0);  // the entry's tag buffer (v3+)
    ++added;
  }
  if (added > 0) patcher_.replace_always(append_at, append_at, append_off, arena.size() - append_off);
  if (removed > 0 || added > 0) {
    const std::uint32_t count = list.count - removed + added;
    const std::size_t off = arena.size();
    if (list.compact) wire::put_uvarint(arena, count + 1);
    else wire::put_i32(arena, static_cast<std::int32_t>(count));
    patcher_.replace(frame, list.count_begin, list.count_end, off);
  }
}

// The output frame: the content patches, the tag sizes and frame size they
// change, and the untouched bytes between them.
Errc FramePatcher::assemble(std::span<const std::uint8_t> frame, std::span<const TagSizeRef> tags,
                              std::vector<std::uint8_t>& out) {
  // Content patches never overlap and never straddle a tagged value, so the
  // delta inside any range is a prefix-sum difference over patches sorted by
  // position (linear overall, even for frames with thousands of endpoints).
  // Patches usually come in frame order already; ApiVersions' count patch
  // is added after the entries it precedes.
  const auto by_position = [](const Patch& a, const Patch& b) { return a.begin < b.begin; };
  if (!std::is_sorted(patches_.begin(), patches_.end(), by_position))
    std::sort(patches_.begin(), patches_.end(), by_position);
  const std::size_t content_patches = patches_.size();
  prefix_delta_.assign(content_patches + 1, 0);
  for (std::size_t i = 0; i < content_patches; ++i) {
    const Patch& p = patches_[i];
    prefix_delta_[i + 1] = prefix_delta_[i] + static_cast<std::int64_t>(p.arena_len) -
                           static_cast<std::int64_t>(p.end - p.begin);
  }
  auto content_delta = [&](std::size_t begin, std::size_t end) {
    auto first = [&](std::size_t pos) {
      return static_cast<std::size_t>(
          std::lower_bound(patches_.begin(), patches_.begin() + static_cast<std::ptrdiff_t>(content_patches), pos,
                           [](const Patch& p, std::size_t v) { return p.begin < v; }) -
          patches_.begin());
    };
    return prefix_delta_[first(end)] - prefix_delta_[first(begin)];
  };

  // Enclosing tag sizes. walk_.tag_sizes is in post-order, so the tags nested
  // in tag i are exactly the contiguous run just before it; their size varints
  // lie inside tag i's value and count towards its new size.
  tag_delta_.assign(tags.size(), 0);
  std::int64_t size_varint_delta = 0;
  for (std::size_t i = 0; i < tags.size(); ++i) {
    const TagSizeRef& t = tags[i];
    std::int64_t delta = content_delta(t.value_begin, t.value_end);
    for (std::size_t j = i; j-- > 0 && tags[j].size_begin >= t.value_begin && tags[j].value_end <= t.value_end;)
      delta += tag_delta_[j];
    if (delta == 0) continue;
    const std::int64_t new_size = static_cast<std::int64_t>(t.value_end - t.value_begin) + delta;
    if (new_size < 0 || new_size > 0x7fffffff) return Errc::malformed_response;
    const std::size_t off = arena_.size();
    wire::put_uvarint(arena_, static_cast<std::uint32_t>(new_size));
    tag_delta_[i] = static_cast<std::int64_t>(arena_.size() - off) -
                    static_cast<std::int64_t>(t.size_end - t.size_begin);
    size_varint_delta += tag_delta_[i];
    patches_.push_back({t.size_begin, t.size_end, off, arena_.size() - off});
  }
  const std::int64_t new_frame_size =
      static_cast<std::int64_t>(frame.size() - 4) + prefix_delta_[content_patches] + size_varint_delta;
  if (new_frame_size < 4 || new_frame_size > 0x7fffffff) return Errc::malformed_response;

  if (patches_.size() > content_patches) std::sort(patches_.begin(), patches_.end(), by_position);
  out.clear();
  out.reserve(static_cast<std::size_t>(new_frame_size) + 4);
  wire::put_i32(out, static_cast<std::int32_t>(new_frame_size));
  std::size_t cursor = 4;
  for (const Patch& p : patches_) {
    out.insert(out.end(), frame.data() + cursor, frame.data() + p.begin);
    out.insert(out.end(), arena_.data() + p.arena_off, arena_.data() + p.arena_off + p.arena_len);
    cursor = p.end;
  }
  out.insert(out.end(), frame.data() + cursor, frame.data() + frame.size());
  // The size field was computed from the patch deltas; it must describe what was written.
  if (out.size() != static_cast<std::size_t>(new_frame_size) + 4) return Errc::malformed_response;
  return Errc::ok;
}

void FrameRewriter::remember(std::span<const std::uint8_t> frame, std::size_t body_begin,
                             const RequestInfo& request) {
  // Only a walk that ended early and patched nothing but its endpoints: the
  // ApiVersions clamp depends on more than the bytes, and a tag size patch
  // or a whole-body walk (KIP-951 NodeEndpoints) covers bytes that change
  // with every response.
  const std::size_t walk_end = frame.size() - walk_.trailing_bytes;
  const std::size_t walked = walk_end - body_begin;
  const std::size_t rewritten = walked + out_.size() - frame.size();  // all patches lie in the walked bytes
  if (is(request.api_key, ApiKey::api_versions) || !walk_.tag_sizes.empty() || walk_.trailing_bytes == 0 ||
      walked > kMemoMaxBytes || rewritten > kMemoMaxBytes)
    return;
  memo_.input.assign(frame.data() + body_begin, frame.data() + walk_end);
  memo_.output.assign(out_.data() + body_begin, out_.data() + body_begin + rewritten);
  memo_.api_key = request.api_key;
  memo_.api_version = request.api_version;
  memo_.valid = true;
}

bool FrameRewriter::rewrite_from_memo(std::span<const std::uint8_t> frame, std::size_t body_begin,
                                      const RequestInfo& request, AddressMap& addresses) {
  if (!memo_.valid || memo_.api_key != request.api_key || memo_.api_version != request.api_version) return false;
  const std::size_t walked = memo_.input.size();
  if (frame.size() - body_begin < walked ||
      std::memcmp(frame.data() + body_begin, memo_.input.data(), walked) != 0)
    return false;
  const std::string_view hosts = memo_.advertised_hosts;
  for (const MemoEndpoint& e : memo_.endpoints) {
    const AddressMap::Advertised now = addresses.advertised_for(e.node_id);
    if (now.port != e.advertised_port || now.host != hosts.substr(e.advertised_offset, e.advertised_size))
      return false;
  }
  const std::int64_t new_frame_size = static_cast<std::int64_t>(frame.size() - 4 + memo_.output.size()) -
                                      static_cast<std::int64_t>(walked);
  if (new_frame_size > 0x7fffffff) return false;
  const char* body = reinterpret_cast<const char*>(frame.data() + body_begin);
  for (const MemoEndpoint& e : memo_.endpoints) {
    addresses.on_endpoint_rewritten(request.api_key, request.api_version, e.node_id,
                                    std::string_view(body + e.host_offset, e.host_size), e.port,
                                    {hosts.substr(e.advertised_offset, e.advertised_size), e.advertised_port});
  }
  out_.clear();
  out_.reserve(static_cast<std::size_t>(new_frame_size) + 4);
  wire::put_i32(out_, static_cast<std::int32_t>(new_frame_size));
  out_.insert(out_.end(), frame.data() + 4, frame.data() + body_begin);
  out_.insert(out_.end(), memo_.output.begin(), memo_.output.end());
  out_.insert(out_.end(), frame.data() + body_begin + walked, frame.data() + frame.size());
  changed_ = true;
  ++reused_rewrites_;
  return true;
}

void FrameRewriter::trim(std::size_t keep_bytes) {
  if (out_.capacity() > keep_bytes) std::vector<std::uint8_t>().swap(out_);
  patcher_.trim(keep_bytes);
  if (memo_capacity_bytes() > keep_bytes) memo_ = Memo{};
}

}  // namespace kedge::kafka
