// Sha256: an incremental SHA-256 (OpenSSL's EVP), for the shard checksum and
// the fingerprint of an image folder.
//
// Thread-safety: not thread-safe; use one object per thread.
#ifndef TRANSAXX_LIBS_DATA_SHA256_H_
#define TRANSAXX_LIBS_DATA_SHA256_H_

#include <array>
#include <cstddef>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX, kept out of this header

namespace transaxx::data {

class Sha256 {
 public:
  using Digest = std::array<unsigned char, 32>;

  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(const void* data, size_t size);
  void Update(absl::string_view text) { Update(text.data(), text.size()); }
  // The digest of everything given so far. REQUIRES: called once, last.
  Digest Finish();

  // Lower-case hex of `digest`.
  static std::string Hex(const Digest& digest);

 private:
  struct FreeContext {
    void operator()(evp_md_ctx_st* context) const;
  };
  std::unique_ptr<evp_md_ctx_st, FreeContext> context_;
};

}  // namespace transaxx::data

#endif  // TRANSAXX_LIBS_DATA_SHA256_H_
