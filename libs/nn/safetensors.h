// Reading and writing safetensors files, the weight format of timm and the
// Hugging Face hub (https://github.com/huggingface/safetensors), without
// LibTorch: tensors are a dtype, a shape and their raw bytes.
//
// A file is an 8-byte little-endian unsigned header length N, N bytes of
// UTF-8 JSON, then the data buffer. The JSON is an object mapping each tensor
// name to {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]},
// offsets in bytes relative to the start of the data buffer, plus an optional
// "__metadata__" object of string values. Tensors are row-major (C order),
// elements little-endian.
//
// The reader accepts what the reference implementation writes and refuses,
// with INVALID_ARGUMENT naming the file (and the tensor, where one is at
// fault) and what was expected, everything else: a file shorter than its
// header length says, a header over 100,000,000 bytes (the reference
// implementation's limit), a header that is not a JSON object, a tensor
// entry without dtype, shape or data_offsets, an unknown dtype, a shape entry
// or offset that is not a non-negative integer, data_offsets that are not
// [begin, end] with begin <= end, a byte range that does not hold exactly
// the bytes of its shape and dtype (or a shape whose size overflows), a range
// beyond the file, tensors that overlap or leave bytes between them, before
// them or after the last one (the tensors must tile the data buffer exactly,
// as the reference implementation requires), a name or metadata key given
// twice, metadata that is not an object of strings, and BOOL elements other
// than 0 and 1. Keys of a tensor entry other than the three are ignored, as
// the reference implementation does. Nothing is allocated for a tensor
// before the header has been checked against the size of the file, so a
// lying header costs no memory. Zero-element and scalar (shape []) tensors
// are supported.
//
// The writer lays files out as the reference implementation (0.8) does, so
// the same tensors and at most one metadata entry give the same bytes: the
// header JSON is compact, "__metadata__" first with its keys sorted, then
// the tensors in descending order of dtype (the reference's dtype order,
// which sorts by element size; each tensor's data is then aligned to its
// element size) and by name within a dtype, each as {"dtype", "shape",
// "data_offsets"} in that order; the header is padded with spaces to a
// multiple of 8 bytes.
//
// Thread-safety: functions without shared state; concurrent calls are safe.
// Concurrent writers of one path each write a file of their own and rename
// it over the path: the last rename wins and readers see one whole file.
#ifndef TRANSAXX_LIBS_NN_SAFETENSORS_H_
#define TRANSAXX_LIBS_NN_SAFETENSORS_H_

#include <bit>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace transaxx::nn {

// The element types of the format that have a whole number of bytes per
// element. The format's other ones (C64, F8_E8M0, the FNUZ float8 variants,
// the sub-byte F4 and F6 types) are refused as unknown.
enum class DType {
  kF64,
  kF32,
  kF16,
  kBF16,
  kF8E5M2,
  kF8E4M3,
  kI64,
  kI32,
  kI16,
  kI8,
  kU64,
  kU32,
  kU16,
  kU8,
  kBool,
};

// The dtype a file names "F32", "BF16", "BOOL", ... INVALID_ARGUMENT, listing
// the supported names, for any other string.
absl::StatusOr<DType> ParseDType(absl::string_view name);
// The name a file uses for `dtype`.
std::string DTypeName(DType dtype);
// Bytes per element.
int64_t DTypeSize(DType dtype);

// TensorData::bytes hold the elements as the file does, little-endian. The
// project builds for little-endian hosts only, where these bytes are also
// the elements' in-memory representation and can be copied into a tensor
// as they are.
static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian; this code copies it unconverted");

// One tensor: row-major elements, DTypeSize(dtype) bytes each.
struct TensorData {
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;  // [] for a scalar
  std::string bytes;           // num_elements() * DTypeSize(dtype) bytes

  // The product of the shape: 1 for a scalar, 0 when an entry is 0.
  // REQUIRES: the product fits in int64_t, as it does for every tensor
  // ParseSafetensors returns and every one the writer accepts.
  int64_t num_elements() const;

  friend bool operator==(const TensorData&, const TensorData&) = default;
};

// The contents of one file. An empty `metadata` is written without a
// "__metadata__" entry; reading a file with an empty one gives the same.
struct Safetensors {
  std::map<std::string, TensorData> tensors;
  std::map<std::string, std::string> metadata;

  friend bool operator==(const Safetensors&, const Safetensors&) = default;
};

// Reads the file at `path`. NOT_FOUND / PERMISSION_DENIED when it cannot be
// opened, INVALID_ARGUMENT for something that is not a regular file and for
// contents refused as above, UNAVAILABLE when the file shrinks while it is
// being read. Each tensor's bytes are read straight into its TensorData: the
// peak memory is the tensors plus the header.
absl::StatusOr<Safetensors> ReadSafetensors(const std::filesystem::path& path);

// Parses a whole file held in memory; `source_name` names it in errors.
absl::StatusOr<Safetensors> ParseSafetensors(absl::string_view file_bytes,
                                             absl::string_view source_name);

// The bytes of a file holding `contents`, laid out as described above.
// INVALID_ARGUMENT, naming the tensor, for a tensor named "__metadata__", a
// negative shape entry, a shape whose size overflows, bytes that are not
// num_elements() * DTypeSize(dtype) long, and for a name or metadata string
// that is not valid UTF-8 (JSON strings are Unicode).
absl::StatusOr<std::string> SerializeSafetensors(const Safetensors& contents);

// Writes SerializeSafetensors(contents) to `path` atomically: into a new
// file beside it, flushed to disk, then renamed over `path`, so readers see
// the old file or the new one, never a partial one. The errors of
// SerializeSafetensors and of the file system, naming `path`; on error
// `path` is unchanged and no temporary file is left behind.
absl::Status WriteSafetensors(const std::filesystem::path& path, const Safetensors& contents);

}  // namespace transaxx::nn

#endif  // TRANSAXX_LIBS_NN_SAFETENSORS_H_
