#include "kafka_codec/sample.h"

#include <string>

#include "kafka_codec/wire.h"

namespace kedge::kafka {
namespace {

using schema::Field;
using schema::Role;
using schema::Type;

class SampleWriter {
 public:
  SampleWriter(std::int16_t version, bool flexible, const SampleOptions& o,
               std::vector<BrokerEndpoint>* endpoints)
      : version_(version), flexible_(flexible), options_(o), rng_(o.seed * 2654435761u + 1),
        endpoints_(endpoints) {}

  void write_struct(std::span<const Field> fields, std::vector<std::uint8_t>& out, int depth) {
    BrokerEndpoint endpoint;
    bool has_host = false;
    for (const Field& f : fields) {
      if (!f.versions.contains(version_) || f.is_tagged()) continue;
      write_field(f, out, depth, endpoint, has_host);
    }
    if (flexible_) {
      // Known tags in ascending order, then one unknown tag (copied verbatim by kedge).
      std::vector<std::pair<std::int32_t, std::vector<std::uint8_t>>> tags;
      for (const Field& f : fields) {
        if (!f.is_tagged() || !f.versions.contains(version_) || next() % 4 == 0) continue;
        std::vector<std::uint8_t> value;
        write_field(f, value, depth, endpoint, has_host);
        tags.emplace_back(f.tag, std::move(value));
      }
      if (options_.unknown_tags && next() % 2 == 0)
        tags.emplace_back(90 + static_cast<std::int32_t>(next() % 10), std::vector<std::uint8_t>{0xde, 0xad});
      wire::put_uvarint(out, static_cast<std::uint32_t>(tags.size()));
      for (const auto& [tag, value] : tags) {
        wire::put_uvarint(out, static_cast<std::uint32_t>(tag));
        wire::put_uvarint(out, static_cast<std::uint32_t>(value.size()));
        out.insert(out.end(), value.begin(), value.end());
      }
    }
    if (has_host && endpoints_ != nullptr) endpoints_->push_back(endpoint);
  }

 private:
  std::uint32_t next() {
    rng_ = rng_ * 1103515245u + 12345u;
    return rng_ >> 8;
  }

  void write_count(std::vector<std::uint8_t>& out, std::int32_t n) {
    if (flexible_) wire::put_uvarint(out, static_cast<std::uint32_t>(n + 1));
    else wire::put_i32(out, n);
  }

  void write_field(const Field& f, std::vector<std::uint8_t>& out, int depth,
                   BrokerEndpoint& endpoint, bool& has_host) {
    if (!f.array) {
      write_value(f, out, depth, endpoint, has_host);
      return;
    }
    if (f.nullable.contains(version_) && next() % 4 == 0) {
      write_count(out, -1);
      return;
    }
    const std::int32_t n = depth > 3 ? 0 : static_cast<std::int32_t>(next() % 3);
    write_count(out, n);
    for (std::int32_t i = 0; i < n; ++i) write_value(f, out, depth, endpoint, has_host);
  }

  void write_string(const Field& f, std::vector<std::uint8_t>& out, const std::string& s) {
    if (f.nullable.contains(version_) && f.role != Role::host && next() % 3 == 0) {
      if (flexible_) wire::put_uvarint(out, 0);
      else wire::put_i16(out, -1);
      return;
    }
    wire::put_string(out, s, flexible_);
  }

  void write_value(const Field& f, std::vector<std::uint8_t>& out, int depth,
                   BrokerEndpoint& endpoint, bool& has_host) {
    switch (f.type) {
      case Type::int8: wire::put_i8(out, static_cast<std::int8_t>(next())); return;
      case Type::boolean: wire::put_i8(out, static_cast<std::int8_t>(next() % 2)); return;
      case Type::int16: {
        std::int16_t v = static_cast<std::int16_t>(next() % 200);
        if (v == 35) v = 0;  // UNSUPPORTED_VERSION would switch ApiVersions to its v0 body
        if (f.role == Role::api_key) v = static_cast<std::int16_t>(1000 + next() % 1000);  // passthrough keys
        wire::put_i16(out, v);
        return;
      }
      case Type::uint16:
      case Type::int32: {
        std::int32_t v = static_cast<std::int32_t>(next());
        if (f.role == Role::node_id) {
          v = next() % 6 == 0 ? -1 : static_cast<std::int32_t>(next_node_++);
          endpoint.node_id = v;
        } else if (f.role == Role::port) {
          v = 9000 + static_cast<std::int32_t>(next() % 1000);
          endpoint.port = v;
        }
        if (f.type == Type::uint16) wire::put_u16(out, static_cast<std::uint16_t>(v));
        else wire::put_i32(out, v);
        return;
      }
      case Type::int64:
      case Type::float64: wire::put_i64(out, static_cast<std::int64_t>(next()) << 20); return;
      case Type::uuid:
        for (int i = 0; i < 4; ++i) wire::put_i32(out, static_cast<std::int32_t>(next()));
        return;
      case Type::string: {
        std::string s = f.role == Role::host ? "host-" + std::to_string(next() % 100) + ".internal"
                                             : std::string(f.name.substr(0, next() % (f.name.size() + 1)));
        if (f.role == Role::host) {
          has_host = true;
          endpoint.host = s;
        }
        write_string(f, out, s);
        return;
      }
      case Type::bytes:
      case Type::records: {
        if (f.nullable.contains(version_) && next() % 3 == 0) {
          if (flexible_) wire::put_uvarint(out, 0);
          else wire::put_i32(out, -1);
          return;
        }
        const std::uint32_t n = next() % 40;
        if (flexible_) wire::put_uvarint(out, n + 1);
        else wire::put_i32(out, static_cast<std::int32_t>(n));
        for (std::uint32_t i = 0; i < n; ++i) out.push_back(static_cast<std::uint8_t>(next()));
        return;
      }
      case Type::structure:
        if (!f.array && f.nullable.contains(version_) && !f.is_tagged()) {
          if (next() % 3 == 0) {
            wire::put_i8(out, -1);
            return;
          }
          wire::put_i8(out, 1);
        }
        write_struct(f.fields, out, depth + 1);
        return;
    }
  }

  std::int16_t version_;
  bool flexible_;
  SampleOptions options_;
  std::uint32_t rng_;
  std::uint32_t next_node_ = 0;
  std::vector<BrokerEndpoint>* endpoints_;
};

}  // namespace

std::vector<std::uint8_t> build_sample_response(const schema::MessageSchema& s, std::int16_t version,
                                                const SampleOptions& options,
                                                std::vector<BrokerEndpoint>* endpoints) {
  std::vector<std::uint8_t> frame;
  wire::put_i32(frame, 0);
  wire::put_i32(frame, options.correlation_id);
  const bool flexible = s.flexible(version);
  if (flexible && !s.header_v0_always) wire::put_uvarint(frame, 0);  // response header v1
  SampleWriter writer(version, flexible, options, endpoints);
  writer.write_struct(s.fields, frame, 0);
  const auto size = static_cast<std::uint32_t>(frame.size() - 4);
  for (int i = 0; i < 4; ++i) frame[i] = static_cast<std::uint8_t>(size >> (24 - 8 * i));
  return frame;
}

}  // namespace kedge::kafka
