#include "libs/data/dataset_registry.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "libs/data/folder_listing.h"
#include "libs/data/idx.h"
#include "libs/data/image_folder.h"

namespace transaxx::data {
namespace {

namespace fs = std::filesystem;

constexpr char kFormatsExpected[] =
    "IDX ({train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]), CIFAR-10 (data_batch_N.bin, "
    "test_batch.bin), CIFAR-100 (train.bin, test.bin) or an image folder (SPLIT/CLASS/IMAGE)";

bool IsFile(const fs::path& path) {
  std::error_code error;
  return fs::is_regular_file(path, error);
}

bool IsDir(const fs::path& path) {
  std::error_code error;
  return fs::is_directory(path, error);
}

// The subfolders of `dir` as ListFolder sees them; none when it cannot be
// read.
std::vector<std::string> Subfolders(const fs::path& dir) {
  absl::StatusOr<FolderListing> listing = ListFolder(dir.string());
  return listing.ok() ? std::move(listing->folders) : std::vector<std::string>();
}

bool IsValidSpecPart(absl::string_view part) {
  if (part.empty() || part[0] == '.') return false;
  return std::all_of(part.begin(), part.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
  });
}

// The IDX split names and the file prefixes they stand for.
const std::pair<const char*, const char*> kIdxSplits[] = {{"test", "t10k"}, {"train", "train"}};

// The IDX file of `kind` ("images"/"labels", rank 3/1) with `prefix` in
// `dir`, under any of the names it is published with.
std::optional<fs::path> FindIdxFile(const fs::path& dir, const char* prefix, const char* kind,
                                    int rank) {
  for (const char* separator : {"-", "."}) {
    for (const char* suffix : {"", ".gz"}) {
      const fs::path path =
          dir / absl::StrCat(prefix, "-", kind, separator, "idx", rank, "-ubyte", suffix);
      if (IsFile(path)) return path;
    }
  }
  return std::nullopt;
}

// The CIFAR folder among `dir` and its `subfolder` that holds one of
// `files`, and the splits present there (train_file -> "train", test_file
// -> "test").
std::optional<DatasetInfo> DetectCifar(const fs::path& dir, const char* subfolder,
                                       const char* train_file, const char* test_file) {
  for (const fs::path& data : {dir, dir / subfolder}) {
    DatasetInfo info;
    if (IsFile(data / test_file)) info.splits.push_back("test");
    if (IsFile(data / train_file)) info.splits.push_back("train");
    if (!info.splits.empty()) {
      info.directory = data.string();
      return info;
    }
  }
  return std::nullopt;
}

}  // namespace

absl::StatusOr<DatasetSpec> ParseDatasetSpec(absl::string_view spec) {
  const std::vector<absl::string_view> parts = absl::StrSplit(spec, ':');
  if (parts.size() != 2 || !IsValidSpecPart(parts[0]) || !IsValidSpecPart(parts[1])) {
    return absl::InvalidArgumentError(absl::StrCat(
        "\"", spec,
        "\" is not a dataset spec: expected NAME:SPLIT (e.g. fashion-mnist:test, cifar10:train), "
        "each part made of letters, digits, '.', '_' and '-', not starting with '.'"));
  }
  return DatasetSpec{std::string(parts[0]), std::string(parts[1])};
}

absl::string_view DatasetFormatName(DatasetFormat format) {
  switch (format) {
    case DatasetFormat::kIdx:
      return "idx";
    case DatasetFormat::kCifar10:
      return "cifar10";
    case DatasetFormat::kCifar100:
      return "cifar100";
    case DatasetFormat::kImageFolder:
      return "image-folder";
  }
  return "unknown";
}

absl::StatusOr<DatasetInfo> DetectDataset(const std::string& directory) {
  fs::path dir = fs::path(directory).lexically_normal();
  if (dir.filename().empty()) dir = dir.parent_path();  // "NAME/"
  const std::string name = dir.filename().string();
  DatasetInfo idx{name, DatasetFormat::kIdx, {}, directory};
  for (const auto& [split, prefix] : kIdxSplits) {
    if (FindIdxFile(dir, prefix, "images", 3) && FindIdxFile(dir, prefix, "labels", 1)) {
      idx.splits.push_back(split);
    }
  }
  if (!idx.splits.empty()) return idx;
  const std::pair<DatasetFormat, std::optional<DatasetInfo>> cifars[] = {
      {DatasetFormat::kCifar10,
       DetectCifar(dir, "cifar-10-batches-bin", "data_batch_1.bin", "test_batch.bin")},
      {DatasetFormat::kCifar100, DetectCifar(dir, "cifar-100-binary", "train.bin", "test.bin")}};
  for (auto [format, info] : cifars) {
    if (!info.has_value()) continue;
    info->name = name;
    info->format = format;
    return *std::move(info);
  }
  DatasetInfo folder{name, DatasetFormat::kImageFolder, {}, directory};
  for (const std::string& split : Subfolders(dir)) {
    if (!Subfolders(dir / split).empty()) folder.splits.push_back(split);
  }
  if (!folder.splits.empty()) return folder;
  return absl::NotFoundError(
      absl::StrCat(directory, " holds no dataset: expected ", kFormatsExpected));
}

std::vector<std::string> DatasetRoots(const std::vector<std::string>& roots) {
  std::vector<std::string> all = roots;
  all.push_back(kBuiltinDatasetRoot);
  return all;
}

std::vector<DatasetInfo> ListDatasets(const std::vector<std::string>& roots) {
  std::map<std::string, DatasetInfo> by_name;
  for (const std::string& root : DatasetRoots(roots)) {
    for (const std::string& name : Subfolders(root)) {
      if (by_name.contains(name)) continue;
      absl::StatusOr<DatasetInfo> info = DetectDataset((fs::path(root) / name).string());
      if (info.ok()) by_name.emplace(name, *std::move(info));
    }
  }
  std::vector<DatasetInfo> datasets;
  for (auto& [name, info] : by_name) datasets.push_back(std::move(info));
  return datasets;
}

absl::StatusOr<DatasetInfo> FindDataset(absl::string_view name,
                                        const std::vector<std::string>& roots) {
  if (!IsValidSpecPart(name)) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", name,
                     "\" is not a dataset name: letters, digits, '.', '_' and '-', not starting "
                     "with '.'"));
  }
  const std::vector<std::string> all_roots = DatasetRoots(roots);
  std::vector<std::string> unrecognized;
  for (const std::string& root : all_roots) {
    const fs::path dir = fs::path(root) / std::string(name);
    if (!IsDir(dir)) continue;
    absl::StatusOr<DatasetInfo> info = DetectDataset(dir.string());
    if (info.ok()) return info;
    unrecognized.push_back(dir.string());
  }
  std::vector<std::string> available;
  for (const DatasetInfo& info : ListDatasets(roots)) available.push_back(info.name);
  std::string message = absl::StrCat(
      "no dataset \"", name, "\" in the dataset roots ", absl::StrJoin(all_roots, ", "),
      "; available: ", available.empty() ? "none" : absl::StrJoin(available, ", "));
  if (!unrecognized.empty()) {
    absl::StrAppend(&message, ". ", absl::StrJoin(unrecognized, ", "),
                    unrecognized.size() == 1 ? " exists but holds" : " exist but hold",
                    " no known format: expected ", kFormatsExpected);
  }
  return absl::NotFoundError(message);
}

absl::StatusOr<std::string> DefaultShardCacheDir() {
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  if (xdg != nullptr && xdg[0] != '\0') return absl::StrCat(xdg, "/transaxx/shards");
  const char* home = std::getenv("HOME");
  if (home != nullptr && home[0] != '\0') return absl::StrCat(home, "/.cache/transaxx/shards");
  return absl::FailedPreconditionError(
      "no cache folder for image folder shards: set DatasetOptions.cache_dir, XDG_CACHE_HOME or "
      "HOME");
}

absl::StatusOr<ImageSet> LoadDataset(absl::string_view spec, const DatasetOptions& options) {
  absl::StatusOr<DatasetSpec> parsed = ParseDatasetSpec(spec);
  if (!parsed.ok()) return parsed.status();
  absl::StatusOr<DatasetInfo> info = FindDataset(parsed->name, options.roots);
  if (!info.ok()) return info.status();
  const std::string& split = parsed->split;
  if (std::find(info->splits.begin(), info->splits.end(), split) == info->splits.end()) {
    return absl::NotFoundError(absl::StrCat(
        "dataset \"", info->name, "\" (", DatasetFormatName(info->format), ", ", info->directory,
        ") has no split \"", split, "\"; its splits: ", absl::StrJoin(info->splits, ", ")));
  }
  const fs::path dir(info->directory);
  const CifarSplit cifar_split = split == "train" ? CifarSplit::kTrain : CifarSplit::kTest;
  switch (info->format) {
    case DatasetFormat::kIdx: {
      const char* prefix = split == "train" ? "train" : "t10k";
      const IdxClasses classes = absl::StrContains(absl::AsciiStrToLower(info->name), "fashion")
                                     ? IdxClasses::kFashion
                                     : IdxClasses::kDigits;
      const std::optional<fs::path> images = FindIdxFile(dir, prefix, "images", 3);
      const std::optional<fs::path> labels = FindIdxFile(dir, prefix, "labels", 1);
      if (!images.has_value() || !labels.has_value()) {  // removed since FindDataset
        return absl::NotFoundError(
            absl::StrCat(info->directory, ": the IDX files of split \"", split, "\" are gone"));
      }
      return ReadIdx(images->string(), labels->string(), classes);
    }
    case DatasetFormat::kCifar10:
      return ReadCifar10(info->directory, cifar_split);
    case DatasetFormat::kCifar100:
      return ReadCifar100(info->directory, cifar_split, options.cifar100_labels);
    case DatasetFormat::kImageFolder: {
      absl::StatusOr<std::string> cache_dir =
          options.cache_dir.empty() ? DefaultShardCacheDir() : options.cache_dir;
      if (!cache_dir.ok()) return cache_dir.status();
      absl::StatusOr<LoadedImageFolder> loaded =
          LoadImageFolder((dir / split).string(), options.transform, *cache_dir);
      if (!loaded.ok()) return loaded.status();
      return std::move(loaded->images);
    }
  }
  return absl::InternalError("unknown dataset format");
}

}  // namespace transaxx::data
