#include "libs/nn/safetensors.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstddef>
#include <iterator>
#include <limits>
#include <optional>
#include <tuple>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "absl/functional/function_ref.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"

namespace transaxx::nn {
namespace {

using Json = nlohmann::json;

// The reference implementation refuses larger headers; so does this reader,
// before reading or allocating anything of them.
constexpr int64_t kMaxHeaderBytes = 100'000'000;
// The header length field that starts a file.
constexpr int64_t kLengthFieldBytes = 8;

constexpr absl::string_view kMetadataKey = "__metadata__";

struct DTypeInfo {
  DType dtype;
  const char* name;
  int64_t size;
};

// In the order of the reference implementation's Dtype enum, which sorts by
// element size. The writer lays tensors out in descending order of this
// table: the same bytes as the reference, and every tensor aligned to its
// element size.
constexpr DTypeInfo kDTypes[] = {
    {DType::kBool, "BOOL", 1},      {DType::kU8, "U8", 1},          {DType::kI8, "I8", 1},
    {DType::kF8E5M2, "F8_E5M2", 1}, {DType::kF8E4M3, "F8_E4M3", 1}, {DType::kI16, "I16", 2},
    {DType::kU16, "U16", 2},        {DType::kF16, "F16", 2},        {DType::kBF16, "BF16", 2},
    {DType::kI32, "I32", 4},        {DType::kU32, "U32", 4},        {DType::kF32, "F32", 4},
    {DType::kF64, "F64", 8},        {DType::kI64, "I64", 8},        {DType::kU64, "U64", 8},
};

// The row of kDTypes describing `dtype`.
int DTypeRank(DType dtype) {
  int rank = 0;
  while (kDTypes[rank].dtype != dtype) ++rank;
  return rank;
}

// `s` in double quotes, non-printable bytes escaped: names in messages.
std::string Quoted(absl::string_view s) { return absl::StrCat("\"", absl::CHexEscape(s), "\""); }

// "[2, 3]": a shape or data_offsets in messages.
std::string ListText(const std::vector<int64_t>& shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ", "), "]");
}

// The bytes of a tensor: the product of the shape times the element size;
// nullopt when a shape entry is negative or the product overflows int64_t.
std::optional<int64_t> ByteSize(DType dtype, const std::vector<int64_t>& shape) {
  int64_t bytes = DTypeSize(dtype);
  for (const int64_t extent : shape) {
    if (extent < 0 || __builtin_mul_overflow(bytes, extent, &bytes)) return std::nullopt;
  }
  return bytes;
}

// --- Reading ------------------------------------------------------------------

// A tensor as its header entry describes it.
struct Entry {
  DType dtype;
  std::vector<int64_t> shape;
  int64_t begin;  // data_offsets, relative to the data buffer
  int64_t end;
};

struct Header {
  std::map<std::string, Entry> tensors;
  std::map<std::string, std::string> metadata;
};

// Builds a Header from the events of nlohmann's SAX parser, checking the
// schema as the events come and stopping at the first violation. A DOM would
// first store whatever the header holds: deeply nested arrays or long lists
// of short strings cost tens of bytes of memory per byte of header, which a
// hostile file could use. Here memory grows only with the header's legitimate
// contents (names, shapes, metadata), and values under ignored keys are
// skipped without being stored.
class HeaderParser final : public nlohmann::json_sax<Json> {
 public:
  explicit HeaderParser(absl::string_view source) : source_(source) {}

  // The error that stopped the parse.
  absl::Status error() const { return error_; }
  Header TakeHeader() { return std::move(header_); }

  bool null() override { return Scalar("null"); }
  bool boolean(bool value) override { return Scalar(value ? "true" : "false"); }
  bool number_integer(number_integer_t value) override {
    // nlohmann reports non-negative integers as unsigned, except "-0".
    return value >= 0 ? number_unsigned(static_cast<number_unsigned_t>(value))
                      : Scalar(absl::StrCat(value));
  }
  bool number_unsigned(number_unsigned_t value) override {
    if (state_ != State::kArray) return Scalar(absl::StrCat(value));
    if (value > static_cast<number_unsigned_t>(std::numeric_limits<int64_t>::max())) {
      return Fail(absl::StrFormat("%s: %s holds %d, more than this reader supports (2^63 - 1)",
                                  TensorLabel(), FieldName(), value));
    }
    numbers_.push_back(static_cast<int64_t>(value));
    return true;
  }
  bool number_float(number_float_t, const string_t& text) override { return Scalar(text); }
  bool binary(binary_t&) override { return Scalar("binary data"); }

  bool string(string_t& value) override {
    if (state_ == State::kMetadataValue) {
      header_.metadata.emplace(std::move(key_), std::move(value));
      state_ = State::kMetadata;
      return true;
    }
    if (state_ != State::kDType) return Scalar("a string");
    absl::StatusOr<DType> dtype = ParseDType(value);
    if (!dtype.ok()) return Fail(absl::StrCat(TensorLabel(), ": ", dtype.status().message()));
    entry_.dtype = *dtype;
    state_ = State::kEntry;
    return true;
  }

  bool start_object(std::size_t) override {
    switch (state_) {
      case State::kStart:
        state_ = State::kTop;
        return true;
      case State::kMetadataStart:
        state_ = State::kMetadata;
        return true;
      case State::kEntryStart:
        entry_ = Entry{};
        seen_fields_ = 0;
        state_ = State::kEntry;
        return true;
      case State::kSkip:
        ++skip_depth_;
        return true;
      default:
        return Unexpected("an object");
    }
  }

  bool key(string_t& key) override {
    switch (state_) {
      case State::kTop:
        if (header_.tensors.contains(key) || (key == kMetadataKey && seen_metadata_)) {
          return Fail(absl::StrCat(Quoted(key), " appears twice in the header"));
        }
        seen_metadata_ = seen_metadata_ || key == kMetadataKey;
        state_ = key == kMetadataKey ? State::kMetadataStart : State::kEntryStart;
        name_ = std::move(key);
        return true;
      case State::kMetadata:
        if (header_.metadata.contains(key)) {
          return Fail(absl::StrCat("metadata key ", Quoted(key), " appears twice"));
        }
        key_ = std::move(key);
        state_ = State::kMetadataValue;
        return true;
      case State::kEntry:
        return EntryKey(key);
      default:  // State::kSkip: keys inside an ignored value
        return true;
    }
  }

  bool end_object() override {
    switch (state_) {
      case State::kTop:
        state_ = State::kEnd;
        return true;
      case State::kMetadata:
        state_ = State::kTop;
        return true;
      case State::kEntry:
        return EndEntry();
      default:  // State::kSkip
        return EndSkipped();
    }
  }

  bool start_array(std::size_t) override {
    if (state_ == State::kSkip) {
      ++skip_depth_;
      return true;
    }
    if (state_ != State::kArrayStart) return Unexpected("an array");
    numbers_.clear();
    state_ = State::kArray;
    return true;
  }

  // Only arrays this parser entered end: shape, data_offsets and skipped ones.
  bool end_array() override { return state_ == State::kSkip ? EndSkipped() : EndArray(); }

  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) override {
    error_ = absl::InvalidArgumentError(
        absl::StrCat(source_, ": the header is not valid JSON: ", e.what()));
    return false;
  }

 private:
  // Where the parse is in the header's schema: what the next event may be.
  enum class State {
    kStart,          // the top-level object
    kTop,            // in it: a tensor name, "__metadata__" or its end
    kMetadataStart,  // after "__metadata__": an object
    kMetadata,       // in that object: a key or its end
    kMetadataValue,  // after a metadata key: a string
    kEntryStart,     // after a tensor name: an object
    kEntry,          // in a tensor's object: a key or its end
    kDType,          // after "dtype": a string
    kArrayStart,     // after "shape" or "data_offsets": an array
    kArray,          // in that array: non-negative integers or its end
    kSkip,           // in the value of a key of a tensor's object this reader ignores
    kEnd,            // after the top-level object: nothing
  };
  // The keys of a tensor's object, as bits of seen_fields_.
  enum Field { kDTypeField = 1, kShapeField = 2, kOffsetsField = 4 };
  static constexpr Field kFields[] = {kDTypeField, kShapeField, kOffsetsField};

  static const char* FieldKey(Field field) {
    switch (field) {
      case kDTypeField:
        return "dtype";
      case kShapeField:
        return "shape";
      default:
        return "data_offsets";
    }
  }
  const char* FieldName() const { return FieldKey(field_); }
  std::string TensorLabel() const { return absl::StrCat("tensor ", Quoted(name_)); }

  bool Fail(absl::string_view problem) {
    error_ = absl::InvalidArgumentError(absl::StrCat(source_, ": ", problem));
    return false;
  }

  // What the schema allows where the parse is, for messages.
  std::string Expected() const {
    switch (state_) {
      case State::kMetadataStart:
        return "\"__metadata__\" to be an object of strings";
      case State::kMetadataValue:
        return absl::StrCat("metadata ", Quoted(key_), " to be a string");
      case State::kEntryStart:
        return absl::StrCat(TensorLabel(),
                            " to be an object with \"dtype\", \"shape\" and \"data_offsets\"");
      case State::kDType:
        return absl::StrCat("the dtype of ", TensorLabel(), " to be a string");
      case State::kArrayStart:
      case State::kArray:
        if (field_ == kShapeField) {
          return absl::StrCat("the shape of ", TensorLabel(),
                              " to be an array of non-negative integers");
        }
        return absl::StrCat("the data_offsets of ", TensorLabel(),
                            " to be [begin, end], two non-negative integers");
      default:  // State::kStart: the only other state a value can arrive in
        return "the header to be a JSON object";
    }
  }

  bool Unexpected(absl::string_view found) {
    return Fail(absl::StrCat("expected ", Expected(), ", found ", found));
  }

  // A value other than a non-negative integer in an array or a string where
  // one is expected.
  bool Scalar(absl::string_view found) {
    if (state_ != State::kSkip) return Unexpected(found);
    if (skip_depth_ == 0) state_ = State::kEntry;
    return true;
  }

  bool EndSkipped() {
    if (--skip_depth_ == 0) state_ = State::kEntry;
    return true;
  }

  bool EntryKey(const std::string& key) {
    const Field* field = std::find_if(std::begin(kFields), std::end(kFields),
                                      [&key](Field f) { return key == FieldKey(f); });
    if (field == std::end(kFields)) {
      // Unknown keys are ignored, as the reference implementation does.
      state_ = State::kSkip;
      skip_depth_ = 0;
      return true;
    }
    if ((seen_fields_ & *field) != 0) {
      return Fail(absl::StrCat(TensorLabel(), ": \"", key, "\" appears twice"));
    }
    seen_fields_ |= *field;
    field_ = *field;
    state_ = *field == kDTypeField ? State::kDType : State::kArrayStart;
    return true;
  }

  bool EndArray() {
    state_ = State::kEntry;
    if (field_ == kShapeField) {
      entry_.shape = std::move(numbers_);
      return true;
    }
    if (numbers_.size() != 2 || numbers_[0] > numbers_[1]) {
      return Fail(absl::StrCat(TensorLabel(),
                               ": data_offsets must be [begin, end] with begin <= end, found ",
                               ListText(numbers_)));
    }
    entry_.begin = numbers_[0];
    entry_.end = numbers_[1];
    return true;
  }

  bool EndEntry() {
    for (const Field field : kFields) {
      if ((seen_fields_ & field) == 0) {
        return Fail(absl::StrCat(TensorLabel(), ": \"", FieldKey(field), "\" is missing"));
      }
    }
    header_.tensors.emplace(std::move(name_), entry_);
    state_ = State::kTop;
    return true;
  }

  const absl::string_view source_;
  State state_ = State::kStart;
  Header header_;
  bool seen_metadata_ = false;
  std::string name_;  // of the tensor whose object is being parsed
  Entry entry_;
  int seen_fields_ = 0;
  Field field_ = kDTypeField;     // the array being parsed
  std::vector<int64_t> numbers_;  // its contents so far
  std::string key_;               // the metadata key whose value comes next
  int64_t skip_depth_ = 0;        // containers open in the value being skipped
  absl::Status error_;
};

// The header length that the first bytes of a file of `file_size` bytes
// state, checked against the file size and the limit.
absl::StatusOr<int64_t> HeaderLength(absl::string_view first_bytes, int64_t file_size,
                                     absl::string_view source) {
  if (file_size < kLengthFieldBytes) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: %d bytes, too short for a safetensors file, which starts with an %d-byte header "
        "length; the file is truncated or not safetensors",
        source, file_size, kLengthFieldBytes));
  }
  uint64_t length = 0;
  for (int i = kLengthFieldBytes - 1; i >= 0; --i) {
    length = length << 8 | static_cast<unsigned char>(first_bytes[i]);
  }
  if (length > static_cast<uint64_t>(kMaxHeaderBytes)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: the header length field says %d bytes, more than the %d a header may have; the "
        "file is corrupt or not safetensors",
        source, length, kMaxHeaderBytes));
  }
  const int64_t header_bytes = static_cast<int64_t>(length);
  if (header_bytes > file_size - kLengthFieldBytes) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: the header length field says %d bytes, but only %d follow it; the file is truncated",
        source, header_bytes, file_size - kLengthFieldBytes));
  }
  return header_bytes;
}

// Parses the header JSON and checks it against a data buffer of `data_size`
// bytes: each tensor's range lies in the buffer and holds its shape, and the
// ranges tile the buffer.
absl::StatusOr<Header> ParseHeader(absl::string_view json, int64_t data_size,
                                   absl::string_view source) {
  HeaderParser parser(source);
  if (!Json::sax_parse(json.begin(), json.end(), &parser)) return parser.error();
  Header header = parser.TakeHeader();

  std::vector<std::pair<const std::string*, const Entry*>> by_offset;
  by_offset.reserve(header.tensors.size());
  for (const auto& [name, entry] : header.tensors) {
    const std::string label = absl::StrCat(source, ": tensor ", Quoted(name));
    if (entry.end > data_size) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: data_offsets [%d, %d] reach past the %d bytes of data the file holds; the file is "
          "truncated or its header is wrong",
          label, entry.begin, entry.end, data_size));
    }
    const std::optional<int64_t> bytes = ByteSize(entry.dtype, entry.shape);
    if (!bytes.has_value()) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: shape %s of %s has more bytes than fit in 64 bits", label,
                          ListText(entry.shape), DTypeName(entry.dtype)));
    }
    if (*bytes != entry.end - entry.begin) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: shape %s of %s needs %d bytes, but data_offsets [%d, %d] hold %d",
                          label, ListText(entry.shape), DTypeName(entry.dtype), *bytes, entry.begin,
                          entry.end, entry.end - entry.begin));
    }
    by_offset.emplace_back(&name, &entry);
  }

  std::sort(by_offset.begin(), by_offset.end(), [](const auto& a, const auto& b) {
    return std::tie(a.second->begin, a.second->end) < std::tie(b.second->begin, b.second->end);
  });
  // The tensors must tile the data buffer: each starts where the previous ends.
  int64_t covered = 0;
  const std::string* previous = nullptr;
  for (const auto& [name, entry] : by_offset) {
    if (entry->begin < covered) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: tensor %s (data_offsets [%d, %d]) overlaps tensor %s, which ends at byte %d", source,
          Quoted(*name), entry->begin, entry->end, Quoted(*previous), covered));
    }
    if (entry->begin > covered) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: bytes [%d, %d) of the data belong to no tensor (%s tensor %s); the tensors must "
          "cover the data without gaps",
          source, covered, entry->begin,
          previous == nullptr ? "before"
                              : absl::StrCat("between tensor ", Quoted(*previous), " and"),
          Quoted(*name)));
    }
    covered = entry->end;
    previous = name;
  }
  if (covered != data_size) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: the tensors end at byte %d of the data, but the file holds %d bytes of data: %d "
        "trailing bytes belong to no tensor",
        source, covered, data_size, data_size - covered));
  }
  return header;
}

// Reads `size` bytes at `offset` of the data buffer into `out`.
using ReadData = absl::FunctionRef<absl::Status(int64_t offset, int64_t size, std::string& out)>;

// The contents a checked header describes, each tensor's bytes from `read`.
absl::StatusOr<Safetensors> Assemble(Header header, absl::string_view source, ReadData read) {
  Safetensors contents;
  contents.metadata = std::move(header.metadata);
  for (auto& [name, entry] : header.tensors) {
    TensorData tensor{.dtype = entry.dtype, .shape = std::move(entry.shape)};
    if (absl::Status s = read(entry.begin, entry.end - entry.begin, tensor.bytes); !s.ok()) {
      return s;
    }
    // Anything but 0 and 1 in a bool is undefined behaviour in C++ and LibTorch.
    if (tensor.dtype == DType::kBool) {
      const size_t bad = tensor.bytes.find_first_not_of("\0\1", 0, 2);
      if (bad != std::string::npos) {
        return absl::InvalidArgumentError(
            absl::StrFormat("%s: tensor %s: BOOL element %d is %d, not 0 or 1", source,
                            Quoted(name), bad, static_cast<unsigned char>(tensor.bytes[bad])));
      }
    }
    contents.tensors.emplace_hint(contents.tensors.end(), name, std::move(tensor));
  }
  return contents;
}

// --- Writing ------------------------------------------------------------------

// A file's bytes in the order they are written: the length field and the
// padded header, then the tensors' bytes.
struct Layout {
  std::string head;
  std::vector<const std::string*> data;
};

// Appends `s` as a JSON string. nlohmann escapes exactly what the reference
// implementation's serializer (serde_json) does, the same way: '"', '\\',
// and control characters (\b \f \n \r \t by name, the others as \u00xx);
// everything else, DEL and non-ASCII included, stays as it is.
absl::Status AppendJsonString(const std::string& s, absl::string_view what, std::string& json) {
  try {
    json += Json(s).dump();
  } catch (const Json::type_error&) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is not valid UTF-8"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Layout> LayOut(const Safetensors& contents) {
  using Tensor = std::pair<const std::string, TensorData>;
  std::vector<const Tensor*> order;
  order.reserve(contents.tensors.size());
  for (const Tensor& tensor : contents.tensors) {
    const auto& [name, data] = tensor;
    const std::string label = absl::StrCat("tensor ", Quoted(name));
    if (name == kMetadataKey) {
      return absl::InvalidArgumentError(
          absl::StrCat(label, ": the name is reserved for the file's metadata"));
    }
    const std::optional<int64_t> bytes = ByteSize(data.dtype, data.shape);
    if (!bytes.has_value()) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: shape %s of %s has a negative entry or more bytes than fit in 64 bits", label,
          ListText(data.shape), DTypeName(data.dtype)));
    }
    if (*bytes != static_cast<int64_t>(data.bytes.size())) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: shape %s of %s needs %d bytes, but %d are given", label,
                          ListText(data.shape), DTypeName(data.dtype), *bytes, data.bytes.size()));
    }
    order.push_back(&tensor);
  }
  std::sort(order.begin(), order.end(), [](const Tensor* a, const Tensor* b) {
    const int rank_a = DTypeRank(a->second.dtype);
    const int rank_b = DTypeRank(b->second.dtype);
    return rank_a != rank_b ? rank_a > rank_b : a->first < b->first;
  });

  std::string json = "{";
  if (!contents.metadata.empty()) {
    json += "\"__metadata__\":{";
    for (const auto& [key, value] : contents.metadata) {
      if (json.back() != '{') json += ',';
      const std::string label = absl::StrCat("metadata ", Quoted(key));
      if (absl::Status s = AppendJsonString(key, absl::StrCat(label, ": the key"), json); !s.ok()) {
        return s;
      }
      json += ':';
      if (absl::Status s = AppendJsonString(value, absl::StrCat(label, ": the value"), json);
          !s.ok()) {
        return s;
      }
    }
    json += '}';
  }
  Layout layout;
  int64_t offset = 0;
  for (const Tensor* tensor : order) {
    const auto& [name, data] = *tensor;
    if (json.size() > 1) json += ',';
    if (absl::Status s =
            AppendJsonString(name, absl::StrCat("tensor ", Quoted(name), ": the name"), json);
        !s.ok()) {
      return s;
    }
    const int64_t end = offset + static_cast<int64_t>(data.bytes.size());
    absl::StrAppend(&json, ":{\"dtype\":\"", DTypeName(data.dtype), "\",\"shape\":[",
                    absl::StrJoin(data.shape, ","), "],\"data_offsets\":[", offset, ",", end, "]}");
    offset = end;
    layout.data.push_back(&data.bytes);
  }
  json += '}';
  // The reference pads so that the data buffer starts 8-byte aligned.
  json.append((kLengthFieldBytes - json.size() % kLengthFieldBytes) % kLengthFieldBytes, ' ');

  layout.head.reserve(kLengthFieldBytes + json.size());
  for (int i = 0; i < kLengthFieldBytes; ++i) {
    layout.head += static_cast<char>(static_cast<uint64_t>(json.size()) >> (8 * i) & 0xff);
  }
  layout.head += json;
  return layout;
}

absl::Status WriteAll(int fd, absl::string_view bytes, const std::string& path) {
  while (!bytes.empty()) {
    const ssize_t n = write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return absl::ErrnoToStatus(errno, path);
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<DType> ParseDType(absl::string_view name) {
  for (const DTypeInfo& info : kDTypes) {
    if (name == info.name) return info.dtype;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown dtype ", Quoted(name), "; this reader supports ",
      absl::StrJoin(kDTypes, ", ",
                    [](std::string* out, const DTypeInfo& info) { out->append(info.name); })));
}

std::string DTypeName(DType dtype) { return kDTypes[DTypeRank(dtype)].name; }

int64_t DTypeSize(DType dtype) { return kDTypes[DTypeRank(dtype)].size; }

int64_t TensorData::num_elements() const {
  int64_t n = 1;
  for (const int64_t extent : shape) n *= extent;
  return n;
}

absl::StatusOr<Safetensors> ParseSafetensors(absl::string_view file_bytes,
                                             absl::string_view source_name) {
  const int64_t file_size = static_cast<int64_t>(file_bytes.size());
  const absl::StatusOr<int64_t> header_bytes = HeaderLength(file_bytes, file_size, source_name);
  if (!header_bytes.ok()) return header_bytes.status();
  const absl::string_view data = file_bytes.substr(kLengthFieldBytes + *header_bytes);
  absl::StatusOr<Header> header = ParseHeader(file_bytes.substr(kLengthFieldBytes, *header_bytes),
                                              static_cast<int64_t>(data.size()), source_name);
  if (!header.ok()) return header.status();
  return Assemble(*std::move(header), source_name,
                  [data](int64_t offset, int64_t size, std::string& out) {
                    out.assign(data.data() + offset, static_cast<size_t>(size));
                    return absl::OkStatus();
                  });
}

absl::StatusOr<Safetensors> ReadSafetensors(const std::filesystem::path& path) {
  const std::string source = path.string();
  // Non-blocking, so that a FIFO given by mistake is refused below instead
  // of blocking the open; reads of regular files are unaffected.
  const int fd = open(source.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return absl::ErrnoToStatus(errno, source);
  absl::Cleanup closer = [fd] { close(fd); };
  struct stat st;
  if (fstat(fd, &st) != 0) return absl::ErrnoToStatus(errno, source);
  if (!S_ISREG(st.st_mode)) return absl::InvalidArgumentError(source + ": not a regular file");
  const int64_t file_size = st.st_size;

  // Reads `size` bytes at `offset` of the file into `out`. Every size read
  // was checked against the file's size first.
  const auto read_file = [&](int64_t offset, int64_t size, std::string& out) -> absl::Status {
    out.resize(static_cast<size_t>(size));
    int64_t filled = 0;
    while (filled < size) {
      const ssize_t n = pread(fd, out.data() + filled, static_cast<size_t>(size - filled),
                              static_cast<off_t>(offset + filled));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return absl::ErrnoToStatus(errno, source);
      if (n == 0) {
        return absl::UnavailableError(absl::StrFormat(
            "%s: the file ended at byte %d while %d bytes were expected; it changed while being "
            "read",
            source, offset + filled, file_size));
      }
      filled += n;
    }
    return absl::OkStatus();
  };

  std::string length_field;
  if (absl::Status s = read_file(0, std::min(file_size, kLengthFieldBytes), length_field);
      !s.ok()) {
    return s;
  }
  const absl::StatusOr<int64_t> header_bytes = HeaderLength(length_field, file_size, source);
  if (!header_bytes.ok()) return header_bytes.status();
  std::string json;
  if (absl::Status s = read_file(kLengthFieldBytes, *header_bytes, json); !s.ok()) return s;
  const int64_t data_start = kLengthFieldBytes + *header_bytes;
  absl::StatusOr<Header> header = ParseHeader(json, file_size - data_start, source);
  if (!header.ok()) return header.status();
  json = std::string();  // freed before the tensors are read, which may take all the memory
  return Assemble(*std::move(header), source, [&](int64_t offset, int64_t size, std::string& out) {
    return read_file(data_start + offset, size, out);
  });
}

absl::StatusOr<std::string> SerializeSafetensors(const Safetensors& contents) {
  absl::StatusOr<Layout> layout = LayOut(contents);
  if (!layout.ok()) return layout.status();
  std::string bytes = std::move(layout->head);
  for (const std::string* data : layout->data) bytes += *data;
  return bytes;
}

absl::Status WriteSafetensors(const std::filesystem::path& path, const Safetensors& contents) {
  const std::string target = path.string();
  const absl::StatusOr<Layout> layout = LayOut(contents);
  if (!layout.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(target, ": ", layout.status().message()));
  }
  // A name of its own per call, so that concurrent writers of one path do
  // not write into each other's file.
  static std::atomic<uint64_t> calls{0};
  const std::string temporary = absl::StrCat(target, ".tmp-", getpid(), "-", calls++);
  const int fd = open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0) return absl::ErrnoToStatus(errno, temporary);

  absl::Status status = WriteAll(fd, layout->head, temporary);
  for (const std::string* data : layout->data) {
    if (status.ok()) status = WriteAll(fd, *data, temporary);
  }
  // Flushed before the rename: after a crash, `path` holds the old file or
  // the whole new one.
  if (status.ok() && fsync(fd) != 0) status = absl::ErrnoToStatus(errno, temporary);
  if (close(fd) != 0 && status.ok()) status = absl::ErrnoToStatus(errno, temporary);
  if (status.ok() && rename(temporary.c_str(), target.c_str()) != 0) {
    status = absl::ErrnoToStatus(errno, target);
  }
  if (!status.ok()) unlink(temporary.c_str());
  return status;
}

}  // namespace transaxx::nn
