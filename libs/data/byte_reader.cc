#include "libs/data/byte_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace transaxx::data {
namespace {

constexpr size_t kInputChunk = size_t{1} << 16;

bool HasGzipMagic(const unsigned char* bytes) { return bytes[0] == 0x1f && bytes[1] == 0x8b; }

}  // namespace

absl::StatusOr<std::unique_ptr<ByteReader>> ByteReader::Open(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::ErrnoToStatus(errno, path);
  std::unique_ptr<ByteReader> reader(new ByteReader(path, fd));
  struct stat st;
  if (fstat(fd, &st) != 0) return absl::ErrnoToStatus(errno, path);
  if (!S_ISREG(st.st_mode)) return absl::InvalidArgumentError(path + ": not a regular file");
  reader->file_bytes_ = static_cast<int64_t>(st.st_size);
  absl::StatusOr<bool> has_two = reader->EnsureInput(2);
  if (!has_two.ok()) return has_two.status();
  if (*has_two && HasGzipMagic(&reader->input_[reader->input_begin_])) {
    reader->gzipped_ = true;
    reader->zs_ = std::make_unique<z_stream>();
    // Window bits 15 + 16: gzip only, not zlib or raw deflate data.
    if (inflateInit2(reader->zs_.get(), 15 + 16) != Z_OK) {
      reader->zs_.reset();
      return absl::ResourceExhaustedError(absl::StrCat(path, ": cannot start gzip decompression"));
    }
  }
  return reader;
}

ByteReader::ByteReader(std::string path, int fd)
    : path_(std::move(path)), fd_(fd), input_(kInputChunk) {}

ByteReader::~ByteReader() {
  if (zs_ != nullptr) inflateEnd(zs_.get());
  close(fd_);
}

absl::StatusOr<bool> ByteReader::EnsureInput(size_t k) {
  if (input_end_ - input_begin_ >= k) return true;
  // Moves the unread rest to the front so that k bytes fit after it.
  std::memmove(input_.data(), input_.data() + input_begin_, input_end_ - input_begin_);
  input_offset_ += static_cast<int64_t>(input_begin_);
  input_end_ -= input_begin_;
  input_begin_ = 0;
  while (input_end_ < k) {
    const ssize_t n = read(fd_, input_.data() + input_end_, input_.size() - input_end_);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return absl::ErrnoToStatus(errno, path_);
    if (n == 0) return false;
    input_end_ += static_cast<size_t>(n);
  }
  return true;
}

absl::StatusOr<size_t> ByteReader::Read(void* dst, size_t n) {
  unsigned char* out = static_cast<unsigned char*>(dst);
  size_t filled = 0;
  if (n > 0 && peeked_.has_value()) {
    out[filled++] = *std::exchange(peeked_, std::nullopt);
  }
  absl::StatusOr<size_t> more =
      gzipped_ ? ReadGzip(out + filled, n - filled) : ReadPlain(out + filled, n - filled);
  if (!more.ok()) return more.status();
  filled += *more;
  offset_ += static_cast<int64_t>(filled);
  return filled;
}

absl::StatusOr<bool> ByteReader::AtEnd() {
  if (peeked_.has_value()) return false;
  unsigned char byte;
  absl::StatusOr<size_t> n = gzipped_ ? ReadGzip(&byte, 1) : ReadPlain(&byte, 1);
  if (!n.ok()) return n.status();
  if (*n == 0) return true;
  peeked_ = byte;
  return false;
}

absl::StatusOr<size_t> ByteReader::ReadPlain(unsigned char* dst, size_t n) {
  size_t filled = std::min(n, input_end_ - input_begin_);
  if (filled > 0) std::memcpy(dst, input_.data() + input_begin_, filled);
  input_begin_ += filled;
  while (filled < n) {
    const ssize_t got = read(fd_, dst + filled, n - filled);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return absl::ErrnoToStatus(errno, path_);
    if (got == 0) break;
    filled += static_cast<size_t>(got);
  }
  return filled;
}

absl::Status ByteReader::GzipError(absl::string_view what) const {
  return absl::DataLossError(
      absl::StrFormat("%s: %s (after %d compressed and %d decompressed bytes)", path_, what,
                      input_offset_ + static_cast<int64_t>(input_begin_), offset_));
}

absl::StatusOr<size_t> ByteReader::ReadGzip(unsigned char* dst, size_t n) {
  z_stream& zs = *zs_;
  size_t filled = 0;
  while (filled < n) {
    if (member_ended_) {
      // The data ends here unless another member follows.
      absl::StatusOr<bool> has_two = EnsureInput(2);
      if (!has_two.ok()) return has_two.status();
      if (input_begin_ == input_end_) break;
      if (!*has_two || !HasGzipMagic(&input_[input_begin_])) {
        return GzipError("bytes follow the gzip data that do not start another gzip member");
      }
      inflateReset(&zs);
      member_ended_ = false;
    }
    absl::StatusOr<bool> has_input = EnsureInput(1);
    if (!has_input.ok()) return has_input.status();
    if (!*has_input) return GzipError("the gzip data ends early: the file is truncated");
    zs.next_in = input_.data() + input_begin_;
    zs.avail_in = static_cast<uInt>(input_end_ - input_begin_);
    zs.next_out = dst + filled;
    zs.avail_out = static_cast<uInt>(std::min<size_t>(n - filled, UINT_MAX));
    const int ret = inflate(&zs, Z_NO_FLUSH);
    filled = static_cast<size_t>(zs.next_out - dst);
    input_begin_ = static_cast<size_t>(zs.next_in - input_.data());
    if (ret == Z_STREAM_END) {
      member_ended_ = true;
    } else if (ret != Z_OK && ret != Z_BUF_ERROR) {
      return GzipError(absl::StrCat("corrupt gzip data: ", zs.msg != nullptr
                                                               ? std::string(zs.msg)
                                                               : absl::StrCat("zlib error ", ret)));
    }
  }
  return filled;
}

}  // namespace transaxx::data
