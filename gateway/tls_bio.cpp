#include "gateway/tls_bio.h"

namespace kedge {
namespace {

CiphertextPeer* peer_of(BIO* bio) { return static_cast<CiphertextPeer*>(BIO_get_data(bio)); }

int bio_read(BIO* bio, char* out, size_t capacity, size_t* read) {
  BIO_clear_retry_flags(bio);
  CiphertextPeer* peer = peer_of(bio);
  const std::size_t n = peer != nullptr && capacity > 0 ? peer->read_ciphertext(out, capacity) : 0;
  *read = n;
  if (n == 0) {
    BIO_set_retry_read(bio);  // "wait for more", never EOF: the socket's EOF is the owner's business
    return 0;
  }
  return 1;
}

int bio_write(BIO* bio, const char* data, size_t len, size_t* written) {
  BIO_clear_retry_flags(bio);
  CiphertextPeer* peer = peer_of(bio);
  if (peer == nullptr) return 0;
  peer->write_ciphertext(data, len);
  *written = len;
  return 1;
}

long bio_ctrl(BIO*, int cmd, long, void*) {
  switch (cmd) {
    case BIO_CTRL_FLUSH:  // OpenSSL flushes after each handshake flight; the owner sends as it goes
      return 1;
    default:  // no pending counts, no kTLS, no EOF state, no dup
      return 0;
  }
}

int bio_create(BIO* bio) {
  BIO_set_data(bio, nullptr);
  BIO_set_init(bio, 1);
  return 1;
}

int bio_destroy(BIO* bio) {
  if (bio == nullptr) return 0;
  BIO_set_data(bio, nullptr);
  return 1;
}

// One method table per process, built on first use (C++ guarantees a
// thread-safe static initialisation; worker loops may race here).
const BIO_METHOD* ciphertext_method() {
  static BIO_METHOD* const method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "kedge ciphertext");
    if (m == nullptr) return m;
    BIO_meth_set_read_ex(m, bio_read);
    BIO_meth_set_write_ex(m, bio_write);
    BIO_meth_set_ctrl(m, bio_ctrl);
    BIO_meth_set_create(m, bio_create);
    BIO_meth_set_destroy(m, bio_destroy);
    return m;
  }();
  return method;
}

}  // namespace

BIO* new_ciphertext_bio(CiphertextPeer& peer) {
  const BIO_METHOD* method = ciphertext_method();
  if (method == nullptr) return nullptr;
  BIO* bio = BIO_new(method);
  if (bio != nullptr) BIO_set_data(bio, &peer);
  return bio;
}

}  // namespace kedge
