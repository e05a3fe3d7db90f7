#pragma once
// A BIO that moves TLS ciphertext between OpenSSL and its owner without a
// buffer of its own (the shape of h2o's write_bio, style practice 15).
//
// A memory BIO pair copies every ciphertext byte twice more than TLS needs
// (socket buffer -> BIO on the way in, BIO -> send buffer on the way out) and
// keeps its high-water allocation for the life of the connection. This BIO
// instead asks its owner:
//   read:  "give me up to N ciphertext bytes": the owner serves them straight
//          from the bytes it just read from the socket (OpenSSL copies them
//          into its record buffer, which SSL_MODE_RELEASE_BUFFERS frees when a
//          record is complete); 0 means "nothing now" (SSL_ERROR_WANT_READ).
//   write: "send these ciphertext bytes": the owner must take all of them
//          (queue or send), so SSL_write never reports SSL_ERROR_WANT_WRITE,
//          exactly as with a growing memory BIO.
// No libuv here; nothing throws. Loop thread of the owner only.
#include <openssl/bio.h>

#include <cstddef>

namespace kedge {

class CiphertextPeer {
 public:
  virtual ~CiphertextPeer() = default;
  // Copies up to `capacity` ciphertext bytes into `out`; returns how many (0: none yet).
  virtual std::size_t read_ciphertext(char* out, std::size_t capacity) = 0;
  // Takes all `len` ciphertext bytes; the span is valid only during the call.
  virtual void write_ciphertext(const char* data, std::size_t len) = 0;
};

// A new BIO bound to `peer` (which must outlive the BIO's use by SSL), or
// nullptr when OpenSSL cannot allocate it. Use it as both rbio and wbio:
// SSL_set_bio(ssl, bio, bio) takes its one reference.
BIO* new_ciphertext_bio(CiphertextPeer& peer);

}  // namespace kedge
