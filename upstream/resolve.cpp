#include "upstream/resolve.h"

#include <cstring>
#include <memory>

namespace kedge {

namespace {
struct ResolveRequest {
  uv_getaddrinfo_t req{};
  ResolveDone done;
};

void on_resolved(uv_getaddrinfo_t* req, int status, addrinfo* result) {
  std::unique_ptr<ResolveRequest> request(static_cast<ResolveRequest*>(req->data));
  std::vector<sockaddr_storage> addresses;
  if (status == 0) {
    for (addrinfo* ai = result; ai != nullptr; ai = ai->ai_next) {
      if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
      sockaddr_storage storage{};
      std::memcpy(&storage, ai->ai_addr, ai->ai_addrlen);
      addresses.push_back(storage);
    }
    if (addresses.empty()) status = UV_EAI_NONAME;
  }
  uv_freeaddrinfo(result);
  request->done(status, std::move(addresses));
}
}  // namespace

void resolve(uv_loop_t* loop, const HostPort& target, ResolveDone done) {
  auto request = std::make_unique<ResolveRequest>();
  request->done = std::move(done);
  request->req.data = request.get();
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG;
  const std::string port = std::to_string(target.port);
  const int rc = uv_getaddrinfo(loop, &request->req, on_resolved, target.host.c_str(), port.c_str(), &hints);
  if (rc != 0) {
    // Report asynchronously all the same: a zero-delay timer owns the callback.
    struct Deferred {
      uv_timer_t timer{};
      ResolveDone done;
      int status;
    };
    auto* deferred = new Deferred{{}, std::move(request->done), rc};
    uv_timer_init(loop, &deferred->timer);
    deferred->timer.data = deferred;
    uv_timer_start(
        &deferred->timer,
        [](uv_timer_t* timer) {
          auto* d = static_cast<Deferred*>(timer->data);
          d->done(d->status, {});
          uv_close(reinterpret_cast<uv_handle_t*>(timer),
                   [](uv_handle_t* h) { delete static_cast<Deferred*>(h->data); });
        },
        0, 0);
    return;
  }
  request.release();  // owned by the libuv request until on_resolved
}

std::optional<sockaddr_storage> numeric_address(const HostPort& target) {
  sockaddr_storage storage{};
  if (uv_ip4_addr(target.host.c_str(), target.port, reinterpret_cast<sockaddr_in*>(&storage)) == 0) return storage;
  storage = {};
  if (target.host.find(':') != std::string::npos &&
      uv_ip6_addr(target.host.c_str(), target.port, reinterpret_cast<sockaddr_in6*>(&storage)) == 0) {
    return storage;
  }
  return std::nullopt;
}

std::optional<sockaddr_storage> ResolveCache::find(const HostPort& target, std::uint64_t now_ms) {
  if (ttl_ms_ == 0 || entries_.empty()) return std::nullopt;
  auto it = entries_.find(target.to_string());
  if (it == entries_.end()) return std::nullopt;
  if (it->second.expires_ms <= now_ms) {
    entries_.erase(it);
    return std::nullopt;
  }
  return it->second.address;
}

void ResolveCache::store(const HostPort& target, const sockaddr_storage& address, std::uint64_t now_ms) {
  if (ttl_ms_ == 0) return;
  if (entries_.size() >= kMaxEntries) {
    // More distinct broker names than any cluster has: drop the expired ones,
    // and everything if that was not enough (the next connections resolve).
    std::erase_if(entries_, [now_ms](const auto& entry) { return entry.second.expires_ms <= now_ms; });
    if (entries_.size() >= kMaxEntries) entries_.clear();
  }
  entries_[target.to_string()] = Entry{address, now_ms + ttl_ms_};
}

void ResolveCache::forget(const HostPort& target) { entries_.erase(target.to_string()); }

void ResolveCache::set_ttl(std::uint32_t ttl_ms) {
  ttl_ms_ = ttl_ms;
  entries_.clear();
}

}  // namespace kedge
