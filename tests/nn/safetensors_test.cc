#include "libs/nn/safetensors.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace transaxx::nn {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

// A file the reference implementation (the Python package safetensors 0.8.0)
// wrote, byte for byte:
//   import torch
//   from safetensors.torch import save
//   save({"blocks.0.attn.qkv.weight": torch.tensor([[0.5, -1.0, 2.0], [3.25, -0.125, 100.0]]),
//         "blocks.0.attn.qkv.bias": torch.tensor([1.5, -2.0], dtype=torch.bfloat16),
//         "norm.eps": torch.tensor(1e-6, dtype=torch.float64),
//         "head.empty": torch.zeros((0, 4), dtype=torch.float16),
//         "pos.index": torch.tensor([0, -1, 2**40], dtype=torch.int64),
//         "mask": torch.tensor([True, False, True]),
//         "q": torch.tensor([-128, 127], dtype=torch.int8),
//         "\"odd\"\n\x01\x7f\u00e9": torch.tensor([255], dtype=torch.uint8)},
//        metadata={"note": "tab\there \"q\" \\ \u00e9\x1f"})
// It shows the layout rules (dtype order, then names; "__metadata__" first;
// dtype, shape, data_offsets; padding to 8 bytes) and how names are escaped.
constexpr char kReferenceFile[] =
    "\x50\x02\x00\x00\x00\x00\x00\x00"
    "{\"__metadata__\":{\"note\":\"tab\\there \\\"q\\\" \\\\ \303\251\\u001f\"},"
    "\"pos.index\":{\"dtype\":\"I64\",\"shape\":[3],\"data_offsets\":[0,24]},"
    "\"norm.eps\":{\"dtype\":\"F64\",\"shape\":[],\"data_offsets\":[24,32]},"
    "\"blocks.0.attn.qkv.weight\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[32,56]},"
    "\"blocks.0.attn.qkv.bias\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[56,60]},"
    "\"head.empty\":{\"dtype\":\"F16\",\"shape\":[0,4],\"data_offsets\":[60,60]},"
    "\"q\":{\"dtype\":\"I8\",\"shape\":[2],\"data_offsets\":[60,62]},"
    "\"\\\"odd\\\"\\n\\u0001\177\303\251\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[62,63]"
    "},"
    "\"mask\":{\"dtype\":\"BOOL\",\"shape\":[3],\"data_offsets\":[63,66]}}       "
    "\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\xff"
    "\x00\x00\x00\x00\x00\x01\x00\x00\x8d\xed\xb5\xa0\xf7\xc6\xb0\x3e"
    "\x00\x00\x00\x3f\x00\x00\x80\xbf\x00\x00\x00\x40\x00\x00\x50\x40"
    "\x00\x00\x00\xbe\x00\x00\xc8\x42\xc0\x3f\x00\xc0\x80\x7f\xff\x01"
    "\x00\x01";
const std::string kReference(kReferenceFile, sizeof(kReferenceFile) - 1);
constexpr int64_t kReferenceHeaderBytes = 0x250;

// The elements' bytes as a file holds them (little-endian, as the host is).
template <typename T>
std::string Bytes(std::initializer_list<T> values) {
  std::string bytes(values.size() * sizeof(T), '\0');
  std::memcpy(bytes.data(), values.begin(), bytes.size());
  return bytes;
}

TensorData Tensor(DType dtype, std::vector<int64_t> shape, std::string bytes) {
  return TensorData{.dtype = dtype, .shape = std::move(shape), .bytes = std::move(bytes)};
}

// What kReference holds.
Safetensors ReferenceContents() {
  Safetensors contents;
  contents.tensors = {
      {"blocks.0.attn.qkv.weight",
       Tensor(DType::kF32, {2, 3}, Bytes<float>({0.5f, -1.0f, 2.0f, 3.25f, -0.125f, 100.0f}))},
      {"blocks.0.attn.qkv.bias", Tensor(DType::kBF16, {2}, Bytes<uint16_t>({0x3fc0, 0xc000}))},
      {"norm.eps", Tensor(DType::kF64, {}, Bytes<double>({1e-6}))},
      {"head.empty", Tensor(DType::kF16, {0, 4}, "")},
      {"pos.index", Tensor(DType::kI64, {3}, Bytes<int64_t>({0, -1, int64_t{1} << 40}))},
      {"mask", Tensor(DType::kBool, {3}, Bytes<bool>({true, false, true}))},
      {"q", Tensor(DType::kI8, {2}, Bytes<int8_t>({-128, 127}))},
      {"\"odd\"\n\x01\x7f\xc3\xa9", Tensor(DType::kU8, {1}, "\xff")},
  };
  contents.metadata = {{"note", "tab\there \"q\" \\ \xc3\xa9\x1f"}};
  return contents;
}

// A file of header `json` (as given, unpadded) and data buffer `data`.
std::string FileWith(const std::string& json, const std::string& data = "") {
  std::string file;
  for (int i = 0; i < 8; ++i) file += static_cast<char>(json.size() >> (8 * i) & 0xff);
  return file + json + data;
}

std::string LengthField(uint64_t length) {
  std::string field;
  for (int i = 0; i < 8; ++i) field += static_cast<char>(length >> (8 * i) & 0xff);
  return field;
}

constexpr DType kAllDTypes[] = {
    DType::kF64,    DType::kF32, DType::kF16, DType::kBF16, DType::kF8E5M2,
    DType::kF8E4M3, DType::kI64, DType::kI32, DType::kI16,  DType::kI8,
    DType::kU64,    DType::kU32, DType::kU16, DType::kU8,   DType::kBool,
};

// Expects `status` to be INVALID_ARGUMENT naming `source` and saying each of
// `problems`.
void ExpectRefused(const absl::Status& status, const std::string& source,
                   const std::vector<std::string>& problems) {
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr(source));
  for (const std::string& problem : problems) {
    EXPECT_THAT(std::string(status.message()), HasSubstr(problem));
  }
}

// A fresh directory per test, removed afterwards.
class SafetensorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::path(::testing::TempDir()) /
           absl::StrCat("safetensors_", info->name(), "_", getpid());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path WriteRaw(const std::string& name, const std::string& bytes) {
    const std::filesystem::path path = dir_ / name;
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }

  static std::string ReadRaw(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    return bytes.str();
  }

  // The names of the files in the test's directory.
  std::vector<std::string> Files() const {
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
      names.push_back(entry.path().filename().string());
    }
    return names;
  }

  std::filesystem::path dir_;
};

// --- DTypes -------------------------------------------------------------------

TEST(DTypeTest, NamesAndSizesAreTheFormats) {
  const std::pair<const char*, int64_t> expected[] = {
      {"F64", 8},     {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"F8_E5M2", 1},
      {"F8_E4M3", 1}, {"I64", 8}, {"I32", 4}, {"I16", 2},  {"I8", 1},
      {"U64", 8},     {"U32", 4}, {"U16", 2}, {"U8", 1},   {"BOOL", 1},
  };
  ASSERT_EQ(std::size(expected), std::size(kAllDTypes));
  for (size_t i = 0; i < std::size(kAllDTypes); ++i) {
    EXPECT_EQ(DTypeName(kAllDTypes[i]), expected[i].first);
    EXPECT_EQ(DTypeSize(kAllDTypes[i]), expected[i].second) << expected[i].first;
    absl::StatusOr<DType> parsed = ParseDType(expected[i].first);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(*parsed, kAllDTypes[i]);
  }
}

TEST(DTypeTest, UnknownNamesAreRefusedWithTheSupportedOnes) {
  for (const char* name : {"f32", "F128", "C64", "F4", ""}) {
    const absl::Status status = ParseDType(name).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << name;
    EXPECT_THAT(std::string(status.message()),
                AllOf(HasSubstr(absl::StrCat("\"", name, "\"")), HasSubstr("BF16, I32")));
  }
}

TEST(TensorDataTest, NumElementsIsTheProductOfTheShape) {
  EXPECT_EQ(Tensor(DType::kF32, {}, "").num_elements(), 1);
  EXPECT_EQ(Tensor(DType::kF32, {2, 3, 4}, "").num_elements(), 24);
  EXPECT_EQ(Tensor(DType::kF32, {2, 0, 4}, "").num_elements(), 0);
}

// --- Compatibility with the reference implementation ----------------------------

TEST_F(SafetensorsTest, ReadsWhatTheReferenceWrites) {
  absl::StatusOr<Safetensors> parsed = ParseSafetensors(kReference, "reference.safetensors");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, ReferenceContents());

  absl::StatusOr<Safetensors> read = ReadSafetensors(WriteRaw("model.safetensors", kReference));
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, ReferenceContents());
}

TEST_F(SafetensorsTest, WritesWhatTheReferenceWrites) {
  absl::StatusOr<std::string> bytes = SerializeSafetensors(ReferenceContents());
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_EQ(*bytes, kReference);

  const std::filesystem::path path = dir_ / "model.safetensors";
  ASSERT_TRUE(WriteSafetensors(path, ReferenceContents()).ok());
  EXPECT_EQ(ReadRaw(path), kReference);
}

// The reference writes this for no tensors and no metadata.
TEST_F(SafetensorsTest, EmptyFile) {
  const std::string empty("\x08\0\0\0\0\0\0\0{}      ", 16);
  absl::StatusOr<std::string> bytes = SerializeSafetensors(Safetensors{});
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_EQ(*bytes, empty);
  absl::StatusOr<Safetensors> parsed = ParseSafetensors(empty, "empty");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, Safetensors{});
}

// Other writers may order entries differently, add keys and whitespace.
TEST_F(SafetensorsTest, ReadsEntriesInAnyOrderAndIgnoresUnknownKeys) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  const std::string json = absl::StrCat(
      R"( { "b": {"data_offsets": [4, 6], "dtype": "I16", "shape": [1], "note": )", deep,
      R"( },
            "__metadata__": {},
            "z": {"shape": [0], "dtype": "U8", "data_offsets": [4, 4], "extra": {"k": [1, "x"]}},
            "a": {"dtype": "F32", "shape": [], "data_offsets": [0, 4]} }   )");
  absl::StatusOr<Safetensors> parsed =
      ParseSafetensors(FileWith(json, Bytes<float>({1.5f}) + Bytes<int16_t>({-7})), "any");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  Safetensors expected;
  expected.tensors = {{"a", Tensor(DType::kF32, {}, Bytes<float>({1.5f}))},
                      {"b", Tensor(DType::kI16, {1}, Bytes<int16_t>({-7}))},
                      {"z", Tensor(DType::kU8, {0}, "")}};
  EXPECT_EQ(*parsed, expected);
}

// --- Round trips ----------------------------------------------------------------

// Contents with a tensor of every dtype, a scalar and a zero-element one of
// each, and metadata.
Safetensors EveryDType() {
  Safetensors contents;
  int seed = 0;
  for (const DType dtype : kAllDTypes) {
    const std::string name = DTypeName(dtype);
    const int64_t size = DTypeSize(dtype);
    std::string bytes;
    for (int64_t i = 0; i < 6 * size; ++i) {
      bytes += static_cast<char>(dtype == DType::kBool ? (seed++ % 2) : (seed++ * 37 % 256));
    }
    contents.tensors[absl::StrCat("layers.", name, ".weight")] = Tensor(dtype, {2, 3}, bytes);
    contents.tensors[absl::StrCat("layers.", name, ".scalar")] =
        Tensor(dtype, {}, bytes.substr(0, size));
    contents.tensors[absl::StrCat("layers.", name, ".empty")] = Tensor(dtype, {3, 0, 2}, "");
  }
  contents.metadata = {{"format", "pt"}, {"", "empty key"}, {"unicode \xe2\x82\xac", "\"\n\\"}};
  return contents;
}

TEST_F(SafetensorsTest, RoundTripsEveryDType) {
  const Safetensors contents = EveryDType();
  absl::StatusOr<std::string> bytes = SerializeSafetensors(contents);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  absl::StatusOr<Safetensors> parsed = ParseSafetensors(*bytes, "memory");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, contents);

  const std::filesystem::path path = dir_ / "every.safetensors";
  ASSERT_TRUE(WriteSafetensors(path, contents).ok());
  EXPECT_EQ(ReadRaw(path), *bytes);
  absl::StatusOr<Safetensors> read = ReadSafetensors(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, contents);
}

// Tensors in descending dtype order keep every tensor aligned to its element
// size within the file, so readers can use the data in place.
TEST_F(SafetensorsTest, LayoutAlignsEveryTensorToItsElementSize) {
  absl::StatusOr<std::string> bytes = SerializeSafetensors(EveryDType());
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  const int64_t header_bytes =
      static_cast<unsigned char>((*bytes)[0]) + 256 * static_cast<unsigned char>((*bytes)[1]);
  EXPECT_EQ(header_bytes % 8, 0);
  const nlohmann::json header = nlohmann::json::parse(bytes->substr(8, header_bytes));
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") continue;
    const int64_t begin = 8 + header_bytes + entry["data_offsets"][0].get<int64_t>();
    EXPECT_EQ(begin % DTypeSize(*ParseDType(entry["dtype"].get<std::string>())), 0) << name;
  }
}

// --- Refused files ----------------------------------------------------------------

struct Corruption {
  const char* what;
  std::string file;
  std::vector<std::string> problems;  // parts of the message
};

std::vector<Corruption> Corruptions() {
  const std::string f32 = R"("dtype": "F32", "shape": [1])";
  const std::string four = Bytes<float>({1.0f});
  // A file of one F32 element whose tensor has data_offsets `offsets`.
  const auto WithOffsets = [&](const std::string& offsets) {
    return FileWith(R"({"w": {)" + f32 + R"(, "data_offsets": )" + offsets + "}}", four);
  };
  return {
      {"shorter than the length field", std::string("\x02\0\0", 3), {"3 bytes, too short"}},
      {"header over the limit",
       LengthField(100'000'001) + "{}",
       {"says 100000001 bytes, more than the 100000000"}},
      {"length field near 2^64", LengthField(~uint64_t{0}) + "{}", {"more than the 100000000"}},
      {"header longer than the file", LengthField(16) + "{}", {"16 bytes, but only 2 follow"}},
      {"empty header", FileWith(""), {"not valid JSON"}},
      {"not JSON", FileWith(R"({"a": )"), {"not valid JSON"}},
      {"garbage after the JSON", FileWith("{} x"), {"not valid JSON"}},
      {"invalid UTF-8", FileWith("{\"\xff\": {}}"), {"not valid JSON"}},
      {"not an object",
       FileWith("[]"),
       {"expected the header to be a JSON object, found an array"}},
      {"entry not an object",
       FileWith(R"({"w": 3})"),
       {"expected tensor \"w\" to be an object with \"dtype\", \"shape\" and \"data_offsets\", "
        "found 3"}},
      {"no dtype",
       FileWith(R"({"w": {"shape": [1], "data_offsets": [0, 4]}})", four),
       {"tensor \"w\": \"dtype\" is missing"}},
      {"no shape",
       FileWith(R"({"w": {"dtype": "F32", "data_offsets": [0, 4]}})", four),
       {"tensor \"w\": \"shape\" is missing"}},
      {"no data_offsets",
       FileWith(R"({"w": {"dtype": "F32", "shape": [1]}})", four),
       {"tensor \"w\": \"data_offsets\" is missing"}},
      {"unknown dtype",
       FileWith(R"({"w": {"dtype": "F128", "shape": [1], "data_offsets": [0, 4]}})", four),
       {"tensor \"w\": unknown dtype \"F128\"", "BOOL"}},
      {"dtype not a string",
       FileWith(R"({"w": {"dtype": 4, "shape": [1], "data_offsets": [0, 4]}})", four),
       {"expected the dtype of tensor \"w\" to be a string, found 4"}},
      {"negative shape entry",
       FileWith(R"({"w": {"dtype": "F32", "shape": [2, -1], "data_offsets": [0, 4]}})", four),
       {"shape of tensor \"w\" to be an array of non-negative integers, found -1"}},
      {"fractional shape entry",
       FileWith(R"({"w": {"dtype": "F32", "shape": [1.5], "data_offsets": [0, 4]}})", four),
       {"found 1.5"}},
      {"shape entry not a number",
       FileWith(R"({"w": {"dtype": "F32", "shape": ["1"], "data_offsets": [0, 4]}})", four),
       {"non-negative integers, found a string"}},
      {"shape not an array",
       FileWith(R"({"w": {"dtype": "F32", "shape": 1, "data_offsets": [0, 4]}})", four),
       {"shape of tensor \"w\" to be an array", "found 1"}},
      {"nested shape",
       FileWith(R"({"w": {"dtype": "F32", "shape": [[1]], "data_offsets": [0, 4]}})", four),
       {"shape of tensor \"w\"", "found an array"}},
      {"shape entry beyond int64",
       FileWith(R"({"w": {"dtype": "F32", "shape": [0, 18446744073709551615], )"
                R"("data_offsets": [0, 0]}})"),
       {"tensor \"w\": shape holds 18446744073709551615, more than this reader supports"}},
      {"one offset",
       WithOffsets("[4]"),
       {"tensor \"w\": data_offsets must be [begin, end] with begin <= end, found [4]"}},
      {"three offsets", WithOffsets("[0, 4, 8]"), {"found [0, 4, 8]"}},
      {"begin after end", WithOffsets("[4, 0]"), {"begin <= end, found [4, 0]"}},
      {"negative offset",
       WithOffsets("[-4, 0]"),
       {"data_offsets of tensor \"w\" to be [begin, end], two non-negative integers, found -4"}},
      {"offsets not an array",
       WithOffsets("{}"),
       {"data_offsets of tensor \"w\"", "found an object"}},
      {"size disagrees with shape",
       FileWith(R"({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}})", four),
       {"tensor \"w\": shape [2] of F32 needs 8 bytes, but data_offsets [0, 4] hold 4"}},
      {"size overflows",
       FileWith(R"({"w": {"dtype": "F32", "shape": [4294967296, 4294967296], )"
                R"("data_offsets": [0, 0]}})"),
       {"tensor \"w\": shape [4294967296, 4294967296] of F32 has more bytes than fit in 64 bits"}},
      {"offsets past the file",
       FileWith(R"({"w": {"dtype": "F32", "shape": [1000000000000], )"
                R"("data_offsets": [0, 4000000000000]}})",
                four),
       {"tensor \"w\": data_offsets [0, 4000000000000] reach past the 4 bytes of data"}},
      {"overlap",
       FileWith(R"({"a": {)" + f32 + R"(, "data_offsets": [0, 4]}, "b": {)" + f32 +
                    R"(, "data_offsets": [2, 6]}})",
                four + four),
       {"tensor \"b\" (data_offsets [2, 6]) overlaps tensor \"a\", which ends at byte 4"}},
      {"empty tensor inside another",
       FileWith(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, )"
                R"("b": {"dtype": "F32", "shape": [0], "data_offsets": [4, 4]}})",
                four + four),
       {"tensor \"b\" (data_offsets [4, 4]) overlaps tensor \"a\""}},
      {"gap between tensors",
       FileWith(R"({"a": {)" + f32 + R"(, "data_offsets": [0, 4]}, "b": {)" + f32 +
                    R"(, "data_offsets": [8, 12]}})",
                four + four + four),
       {"bytes [4, 8) of the data belong to no tensor (between tensor \"a\" and tensor \"b\")"}},
      {"gap before the first tensor",
       FileWith(R"({"a": {)" + f32 + R"(, "data_offsets": [4, 8]}})", four + four),
       {"bytes [0, 4) of the data belong to no tensor (before tensor \"a\")"}},
      {"trailing bytes",
       FileWith(R"({"a": {)" + f32 + R"(, "data_offsets": [0, 4]}})", four + "x"),
       {"the tensors end at byte 4 of the data, but the file holds 5", "1 trailing bytes"}},
      {"data without tensors", FileWith("{}", "x"), {"1 trailing bytes"}},
      {"duplicate name",
       FileWith(R"({"a": {)" + f32 + R"(, "data_offsets": [0, 4]}, "a": {)" + f32 +
                    R"(, "data_offsets": [4, 8]}})",
                four + four),
       {"\"a\" appears twice in the header"}},
      {"duplicate key in an entry",
       FileWith(R"({"a": {)" + f32 + R"(, "dtype": "I32", "data_offsets": [0, 4]}})", four),
       {"tensor \"a\": \"dtype\" appears twice"}},
      {"two metadata objects",
       FileWith(R"({"__metadata__": {}, "__metadata__": {}})"),
       {"\"__metadata__\" appears twice in the header"}},
      {"duplicate metadata key",
       FileWith(R"({"__metadata__": {"k": "1", "k": "2"}})"),
       {"metadata key \"k\" appears twice"}},
      {"metadata value not a string",
       FileWith(R"({"__metadata__": {"k": 1}})"),
       {"expected metadata \"k\" to be a string, found 1"}},
      {"metadata not an object",
       FileWith(R"({"__metadata__": ["k"]})"),
       {"expected \"__metadata__\" to be an object of strings, found an array"}},
      {"bool other than 0 and 1",
       FileWith(R"({"m": {"dtype": "BOOL", "shape": [3], "data_offsets": [0, 3]}})",
                std::string("\1\2\0", 3)),
       {"tensor \"m\": BOOL element 1 is 2, not 0 or 1"}},
      {"deeply nested value",
       FileWith("{\"w\": " + std::string(1000000, '[') + std::string(1000000, ']') + "}"),
       {"expected tensor \"w\" to be an object", "found an array"}},
      {"non-printable name in messages",
       FileWith("{\"\\u0001\\n\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 4]}}",
                four),
       {"tensor \"\\x01\\n\": shape [2]"}},
  };
}

TEST_F(SafetensorsTest, RefusesCorruptFiles) {
  for (const Corruption& c : Corruptions()) {
    SCOPED_TRACE(c.what);
    ExpectRefused(ParseSafetensors(c.file, "bad.safetensors").status(), "bad.safetensors",
                  c.problems);
  }
}

// The file reader checks the same as the parser, naming the file's path.
TEST_F(SafetensorsTest, ReaderRefusesCorruptFiles) {
  for (const Corruption& c : Corruptions()) {
    SCOPED_TRACE(c.what);
    const std::filesystem::path path = WriteRaw("bad.safetensors", c.file);
    ExpectRefused(ReadSafetensors(path).status(), path.string(), c.problems);
  }
}

TEST_F(SafetensorsTest, RefusesEveryTruncation) {
  for (size_t size = 0; size < kReference.size(); ++size) {
    const absl::Status status = ParseSafetensors(kReference.substr(0, size), "cut").status();
    ASSERT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << size << ": " << status;
  }
  const std::filesystem::path path = WriteRaw("cut.safetensors", kReference.substr(0, 100));
  ExpectRefused(ReadSafetensors(path).status(), path.string(), {"truncated"});
}

// Random damage to the header gives an error or, where the damage happens
// to leave a valid file (a changed digit of a name, say), consistent tensors;
// never a crash (the sanitizer build checks memory errors too).
TEST_F(SafetensorsTest, SurvivesRandomByteFlipsInTheHeader) {
  std::mt19937 random(20260301);
  std::uniform_int_distribution<int64_t> position(0, 8 + kReferenceHeaderBytes - 1);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<int> flips(1, 3);
  int refused = 0;
  constexpr int kTrials = 20000;
  for (int trial = 0; trial < kTrials; ++trial) {
    std::string damaged = kReference;
    for (int i = flips(random); i > 0; --i)
      damaged[position(random)] = static_cast<char>(byte(random));
    absl::StatusOr<Safetensors> parsed = ParseSafetensors(damaged, "damaged");
    if (!parsed.ok()) {
      ASSERT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << parsed.status();
      ++refused;
      continue;
    }
    for (const auto& [name, tensor] : parsed->tensors) {
      ASSERT_EQ(static_cast<int64_t>(tensor.bytes.size()),
                tensor.num_elements() * DTypeSize(tensor.dtype))
          << name;
    }
  }
  EXPECT_GT(refused, kTrials / 2);
}

TEST_F(SafetensorsTest, ReaderNamesFilesItCannotRead) {
  const std::filesystem::path missing = dir_ / "missing.safetensors";
  const absl::Status status = ReadSafetensors(missing).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr(missing.string()));
  ExpectRefused(ReadSafetensors(dir_).status(), dir_.string(), {"not a regular file"});
}

// --- Refused contents -------------------------------------------------------------

TEST_F(SafetensorsTest, WriterRefusesInconsistentContents) {
  const std::string four = Bytes<float>({1.0f});
  const struct {
    const char* what;
    Safetensors contents;
    std::string problem;
  } cases[] = {
      {"reserved name",
       {.tensors = {{"__metadata__", Tensor(DType::kF32, {1}, four)}}},
       "tensor \"__metadata__\": the name is reserved"},
      {"negative shape",
       {.tensors = {{"w", Tensor(DType::kF32, {-1}, "")}}},
       "tensor \"w\": shape [-1] of F32 has a negative entry or more bytes than fit"},
      {"overflowing shape",
       {.tensors = {{"w", Tensor(DType::kF32, {int64_t{1} << 40, int64_t{1} << 40}, "")}}},
       "more bytes than fit in 64 bits"},
      {"too few bytes",
       {.tensors = {{"w", Tensor(DType::kF32, {2}, four)}}},
       "tensor \"w\": shape [2] of F32 needs 8 bytes, but 4 are given"},
      {"too many bytes",
       {.tensors = {{"w", Tensor(DType::kF32, {}, four + four)}}},
       "tensor \"w\": shape [] of F32 needs 4 bytes, but 8 are given"},
      {"name not UTF-8",
       {.tensors = {{"w\xff", Tensor(DType::kF32, {1}, four)}}},
       "tensor \"w\\xff\": the name is not valid UTF-8"},
      {"metadata key not UTF-8",
       {.metadata = {{"k\xc3", "v"}}},
       "metadata \"k\\xc3\": the key is not valid UTF-8"},
      {"metadata value not UTF-8",
       {.metadata = {{"k", "\x80"}}},
       "metadata \"k\": the value is not valid UTF-8"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    ExpectRefused(SerializeSafetensors(c.contents).status(), "", {c.problem});
    const std::filesystem::path path = dir_ / "out.safetensors";
    ExpectRefused(WriteSafetensors(path, c.contents), path.string(), {c.problem});
    EXPECT_THAT(Files(), ::testing::IsEmpty());
  }
}

TEST_F(SafetensorsTest, WriterReplacesFilesWholeAndLeavesNothingBehind) {
  const std::filesystem::path path = dir_ / "model.safetensors";
  ASSERT_TRUE(WriteSafetensors(path, EveryDType()).ok());
  ASSERT_TRUE(WriteSafetensors(path, ReferenceContents()).ok());
  EXPECT_EQ(ReadRaw(path), kReference);
  EXPECT_THAT(Files(), ::testing::ElementsAre("model.safetensors"));

  const std::filesystem::path nowhere = dir_ / "missing" / "model.safetensors";
  const absl::Status status = WriteSafetensors(nowhere, ReferenceContents());
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr(nowhere.string()));
  EXPECT_THAT(Files(), ::testing::ElementsAre("model.safetensors"));
}

}  // namespace
}  // namespace transaxx::nn
