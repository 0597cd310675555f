// ByteReader: a file read front to back, gunzipped on the fly when it starts
// with the gzip magic bytes (1f 8b), whatever its name says.
//
// A gzip file may hold several members one after the other (as `cat a.gz
// b.gz` makes); they read as one stream. Every member's CRC-32 and length
// are checked when its end is read, so a reader that reads up to AtEnd() has
// seen all of its data verified.
//
// Errors name the file: the errno status when it cannot be opened or read;
// DATA_LOSS for gzip data that is corrupt, cut short, or followed by bytes
// that do not start another member.
//
// Thread-safety: not thread-safe; use one reader per thread.
#ifndef TRANSAXX_LIBS_DATA_BYTE_READER_H_
#define TRANSAXX_LIBS_DATA_BYTE_READER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

struct z_stream_s;  // zlib's, kept out of this header

namespace transaxx::data {

class ByteReader {
 public:
  static absl::StatusOr<std::unique_ptr<ByteReader>> Open(const std::string& path);
  ~ByteReader();
  ByteReader(const ByteReader&) = delete;
  ByteReader& operator=(const ByteReader&) = delete;

  // Reads up to `n` bytes into `dst` and returns how many it read: `n`
  // unless the data ends first.
  absl::StatusOr<size_t> Read(void* dst, size_t n);

  // Whether the data has ended; what is read to find out is kept for the
  // next Read.
  absl::StatusOr<bool> AtEnd();

  const std::string& path() const { return path_; }
  bool gzipped() const { return gzipped_; }
  int64_t file_bytes() const { return file_bytes_; }
  // An upper bound of the data's length, known before reading it: the file
  // size, or for a gzip file the most deflate can expand it to (1032:1).
  // Lets a reader refuse a header that declares more data than can follow
  // before allocating for it.
  int64_t max_data_bytes() const { return gzipped_ ? file_bytes_ * 1032 : file_bytes_; }
  // Bytes returned by Read so far: the offset in the (decompressed) data.
  int64_t offset() const { return offset_; }

 private:
  ByteReader(std::string path, int fd);

  // Makes at least `k` unread input bytes available unless the file ends
  // first; returns whether it could.
  absl::StatusOr<bool> EnsureInput(size_t k);
  absl::StatusOr<size_t> ReadPlain(unsigned char* dst, size_t n);
  absl::StatusOr<size_t> ReadGzip(unsigned char* dst, size_t n);
  absl::Status GzipError(absl::string_view what) const;

  std::string path_;
  int fd_;
  int64_t file_bytes_ = 0;
  bool gzipped_ = false;
  bool member_ended_ = false;  // the last gzip member read so far is complete
  int64_t offset_ = 0;
  int64_t input_offset_ = 0;  // file offset of input_[0]
  std::vector<unsigned char> input_;
  size_t input_begin_ = 0, input_end_ = 0;  // unread input: input_[begin, end)
  std::optional<unsigned char> peeked_;     // read by AtEnd, returned by the next Read
  std::unique_ptr<z_stream_s> zs_;          // set when gzipped
};

}  // namespace transaxx::data

#endif  // TRANSAXX_LIBS_DATA_BYTE_READER_H_
