#include "libs/data/cifar.h"

#include <sys/stat.h>

#include <cerrno>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "libs/data/byte_reader.h"

namespace transaxx::data {
namespace {

constexpr int64_t kSide = 32;
constexpr int64_t kPixelBytes = 3 * kSide * kSide;
// A names file holds a few kilobytes; anything larger is not one.
constexpr size_t kMaxNamesFileBytes = size_t{1} << 20;

// One label byte of a record: where it is and how many classes it counts.
struct LabelField {
  const char* name;  // "label", "coarse label", "fine label"
  int32_t classes;
};

// Appends the records of the file at `path` to `set`, each made of one byte
// per field of `fields`, then the pixels; the label of field `used` becomes
// the image's label.
absl::Status AppendRecords(const std::string& path, const std::vector<LabelField>& fields,
                           size_t used, ImageSet& set) {
  absl::StatusOr<std::unique_ptr<ByteReader>> reader = ByteReader::Open(path);
  if (!reader.ok()) return reader.status();
  const size_t record_bytes = fields.size() + kPixelBytes;
  if (!(*reader)->gzipped()) {
    const auto records = static_cast<size_t>((*reader)->file_bytes()) / record_bytes;
    set.labels.reserve(set.labels.size() + records);
    set.pixels.reserve(set.pixels.size() + records * kPixelBytes);
  }
  std::vector<unsigned char> record(record_bytes);
  for (int64_t index = 0;; ++index) {
    absl::StatusOr<size_t> n = (*reader)->Read(record.data(), record_bytes);
    if (!n.ok()) return n.status();
    if (*n == 0 && index == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": empty; a CIFAR file holds records of ", record_bytes, " bytes"));
    }
    if (*n == 0) return absl::OkStatus();
    if (*n < record_bytes) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: truncated: the file ends %d bytes into record %d (at byte %d), whose %d bytes "
          "are %d label byte%s and %d pixel bytes",
          path, *n, index, index * static_cast<int64_t>(record_bytes), record_bytes, fields.size(),
          fields.size() == 1 ? "" : "s", kPixelBytes));
    }
    for (size_t f = 0; f < fields.size(); ++f) {
      if (record[f] >= fields[f].classes) {
        return absl::InvalidArgumentError(
            absl::StrFormat("%s: record %d has %s %d, outside the %d classes [0, %d)", path, index,
                            fields[f].name, record[f], fields[f].classes, fields[f].classes));
      }
    }
    set.labels.push_back(record[used]);
    set.pixels.insert(set.pixels.end(), record.begin() + static_cast<ptrdiff_t>(fields.size()),
                      record.end());
  }
}

// The class names in the file at `path`, one a line (blank lines and
// surrounding white space ignored); nullopt when there is no such file.
absl::StatusOr<std::optional<std::vector<std::string>>> ReadNamesFile(const std::string& path,
                                                                      size_t expected) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0 && errno == ENOENT) return std::nullopt;
  absl::StatusOr<std::unique_ptr<ByteReader>> reader = ByteReader::Open(path);
  if (!reader.ok()) return reader.status();
  std::string text(kMaxNamesFileBytes, '\0');
  absl::StatusOr<size_t> n = (*reader)->Read(text.data(), text.size());
  if (!n.ok()) return n.status();
  text.resize(*n);
  absl::StatusOr<bool> at_end = (*reader)->AtEnd();
  if (!at_end.ok()) return at_end.status();
  if (!*at_end) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: more than %d bytes, too large for a file of class names", path, kMaxNamesFileBytes));
  }
  std::vector<std::string> names;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (!line.empty()) names.emplace_back(line);
  }
  if (names.size() != expected) {
    return absl::InvalidArgumentError(absl::StrFormat("%s: %d class names; expected %d, one a line",
                                                      path, names.size(), expected));
  }
  return names;
}

// What tells CIFAR-10 and the two labellings of CIFAR-100 apart.
struct CifarFormat {
  std::vector<LabelField> fields;  // the label bytes of a record
  size_t used;                     // the field that labels the images
  std::string names_file;          // read when present, else default_names
  std::vector<std::string> default_names;
  std::vector<float> mean, std;
};

// Reads `files` of `dir` into one set.
absl::StatusOr<ImageSet> ReadCifar(const std::string& dir, const std::vector<std::string>& files,
                                   CifarFormat format) {
  ImageSet set;
  set.channels = 3;
  set.height = kSide;
  set.width = kSide;
  set.num_classes = format.fields[format.used].classes;
  absl::StatusOr<std::optional<std::vector<std::string>>> names =
      ReadNamesFile(absl::StrCat(dir, "/", format.names_file), format.default_names.size());
  if (!names.ok()) return names.status();
  set.class_names = names->has_value() ? **std::move(names) : std::move(format.default_names);
  set.mean = std::move(format.mean);
  set.std = std::move(format.std);
  for (const std::string& file : files) {
    absl::Status s = AppendRecords(absl::StrCat(dir, "/", file), format.fields, format.used, set);
    if (!s.ok()) return s;
  }
  return set;
}

}  // namespace

absl::StatusOr<ImageSet> ReadCifar10(const std::string& dir, CifarSplit split) {
  std::vector<std::string> files;
  if (split == CifarSplit::kTrain) {
    for (int i = 1; i <= 5; ++i) files.push_back(absl::StrCat("data_batch_", i, ".bin"));
  } else {
    files.push_back("test_batch.bin");
  }
  return ReadCifar(dir, files,
                   {.fields = {{"label", 10}},
                    .used = 0,
                    .names_file = "batches.meta.txt",
                    .default_names = {"airplane", "automobile", "bird", "cat", "deer", "dog",
                                      "frog", "horse", "ship", "truck"},
                    .mean = {0.4914f, 0.4822f, 0.4465f},
                    .std = {0.2470f, 0.2435f, 0.2616f}});
}

absl::StatusOr<ImageSet> ReadCifar100(const std::string& dir, CifarSplit split,
                                      Cifar100Labels labels) {
  const bool fine = labels == Cifar100Labels::kFine;
  std::vector<std::string> names;
  if (fine) {
    names = {
        "apple",       "aquarium_fish", "baby",      "bear",       "beaver",       "bed",
        "bee",         "beetle",        "bicycle",   "bottle",     "bowl",         "boy",
        "bridge",      "bus",           "butterfly", "camel",      "can",          "castle",
        "caterpillar", "cattle",        "chair",     "chimpanzee", "clock",        "cloud",
        "cockroach",   "couch",         "crab",      "crocodile",  "cup",          "dinosaur",
        "dolphin",     "elephant",      "flatfish",  "forest",     "fox",          "girl",
        "hamster",     "house",         "kangaroo",  "keyboard",   "lamp",         "lawn_mower",
        "leopard",     "lion",          "lizard",    "lobster",    "man",          "maple_tree",
        "motorcycle",  "mountain",      "mouse",     "mushroom",   "oak_tree",     "orange",
        "orchid",      "otter",         "palm_tree", "pear",       "pickup_truck", "pine_tree",
        "plain",       "plate",         "poppy",     "porcupine",  "possum",       "rabbit",
        "raccoon",     "ray",           "road",      "rocket",     "rose",         "sea",
        "seal",        "shark",         "shrew",     "skunk",      "skyscraper",   "snail",
        "snake",       "spider",        "squirrel",  "streetcar",  "sunflower",    "sweet_pepper",
        "table",       "tank",          "telephone", "television", "tiger",        "tractor",
        "train",       "trout",         "tulip",     "turtle",     "wardrobe",     "whale",
        "willow_tree", "wolf",          "woman",     "worm"};
  } else {
    names = {"aquatic_mammals",
             "fish",
             "flowers",
             "food_containers",
             "fruit_and_vegetables",
             "household_electrical_devices",
             "household_furniture",
             "insects",
             "large_carnivores",
             "large_man-made_outdoor_things",
             "large_natural_outdoor_scenes",
             "large_omnivores_and_herbivores",
             "medium_mammals",
             "non-insect_invertebrates",
             "people",
             "reptiles",
             "small_mammals",
             "trees",
             "vehicles_1",
             "vehicles_2"};
  }
  return ReadCifar(dir, {split == CifarSplit::kTrain ? "train.bin" : "test.bin"},
                   {.fields = {{"coarse label", 20}, {"fine label", 100}},
                    .used = fine ? size_t{1} : size_t{0},
                    .names_file = fine ? "fine_label_names.txt" : "coarse_label_names.txt",
                    .default_names = std::move(names),
                    .mean = {0.5071f, 0.4865f, 0.4409f},
                    .std = {0.2673f, 0.2564f, 0.2762f}});
}

}  // namespace transaxx::data
