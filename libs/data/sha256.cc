#include "libs/data/sha256.h"

#include <openssl/evp.h>

#include <new>

#include "absl/strings/str_format.h"

namespace transaxx::data {

void Sha256::FreeContext::operator()(evp_md_ctx_st* context) const { EVP_MD_CTX_free(context); }

Sha256::Sha256() : context_(EVP_MD_CTX_new()) {
  // Only allocation can fail here, as it would for any object.
  if (context_ == nullptr || EVP_DigestInit_ex(context_.get(), EVP_sha256(), nullptr) != 1) {
    throw std::bad_alloc();
  }
}

Sha256::~Sha256() = default;

void Sha256::Update(const void* data, size_t size) { EVP_DigestUpdate(context_.get(), data, size); }

Sha256::Digest Sha256::Finish() {
  Digest digest;
  unsigned int length = 0;
  EVP_DigestFinal_ex(context_.get(), digest.data(), &length);
  return digest;
}

std::string Sha256::Hex(const Digest& digest) {
  std::string hex;
  for (unsigned char byte : digest) absl::StrAppendFormat(&hex, "%02x", byte);
  return hex;
}

}  // namespace transaxx::data
