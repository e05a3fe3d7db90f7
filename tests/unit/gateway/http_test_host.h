#pragma once
// A Host for HttpFront (gateway/http_front.h) that records what the front
// sends and decides without a broker: no LeaderPool (the cluster is gone), the
// topic "secret" refused by policy, every credential refused. Shared by the
// unit tests and fuzz_http_front.
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "gateway/http_front.h"

namespace kedge::testing {

struct RecordingHost final : kedge::HttpFront::Host {
  std::string sent;
  int closes = 0;
  bool paused = false;
  void http_send(std::span<const std::uint8_t> plaintext) override {
    sent.append(reinterpret_cast<const char*>(plaintext.data()), plaintext.size());
  }
  void http_close(bool) override { closes++; }
  std::size_t http_queued_bytes() const override { return 0; }
  void http_pause_reading(bool p) override { paused = p; }
  kedge::upstream::LeaderPool* http_leader_pool() override { return nullptr; }
  std::optional<Refusal> http_authorize(std::int16_t, std::string_view topic) override {
    if (topic == "secret") return Refusal{29, "Topic authorization failed."};
    return std::nullopt;
  }
  std::string http_backend_topic(std::string_view topic) override { return std::string(topic); }
  std::optional<std::string> http_client_topic(std::string_view topic) override { return std::string(topic); }
  std::uint32_t http_charge_produce(std::uint64_t) override { return 0; }
  void http_authenticate(Credentials, std::function<void(std::optional<std::string>)> done) override {
    done(std::string("refused in tests"));
  }
  void http_pass_credentials(std::optional<Credentials>) override {}
  std::optional<Refusal> http_authorize_group(std::int16_t, std::string_view) override { return std::nullopt; }
  std::string http_backend_group(std::string_view group) override { return std::string(group); }
};


}  // namespace kedge::testing
