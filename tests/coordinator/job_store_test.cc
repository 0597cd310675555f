#include "services/search_coordinator/job_store.h"

#include <sqlite3.h>
#include <stdlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace transaxx::coordinator {
namespace {

namespace fs = std::filesystem;
using namespace std::string_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr int kQueued = 1;
constexpr int kRunning = 2;
constexpr int kSucceeded = 3;
constexpr int kSearch = 1;
constexpr int kSensitivity = 2;

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void WriteBytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
}

// Every byte value, NUL first: what a serialized message may hold.
std::string AllBytes() {
  std::string bytes(256, '\0');
  std::iota(bytes.begin(), bytes.end(), '\0');
  return bytes;
}

// Runs `sql` on `path` through a plain SQLite connection, as another
// program would.
void RunSql(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* error = nullptr;
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &error);
  const std::string message = error == nullptr ? "" : error;
  sqlite3_free(error);
  sqlite3_close(db);
  ASSERT_EQ(rc, SQLITE_OK) << message;
}

StoredJob Job(const std::string& id, int64_t create_time_us, int state = kQueued,
              int kind = kSearch, const std::string& request_id = "") {
  StoredJob job;
  job.job_id = id;
  job.request_id = request_id;
  job.state = state;
  job.kind = kind;
  job.create_time_us = create_time_us;
  job.record = "record of " + id;
  return job;
}

StoredEvaluation Evaluation(const std::string& job_id, const std::string& phase,
                            const std::string& config_hash) {
  StoredEvaluation evaluation;
  evaluation.job_id = job_id;
  evaluation.phase = phase;
  evaluation.config_hash = config_hash;
  evaluation.assignment_key = "key-" + config_hash;
  evaluation.point = "point of " + config_hash;
  return evaluation;
}

auto Fields(const StoredJob& j) {
  return std::make_tuple(j.job_id, j.request_id, j.state, j.kind, j.create_time_us, j.record,
                         j.baseline, j.sensitivity);
}

auto Fields(const StoredEvaluation& e) {
  return std::make_tuple(e.job_id, e.evaluation_index, e.config_hash, e.phase, e.assignment_key,
                         e.point);
}

std::vector<std::string> Ids(const std::vector<StoredJob>& jobs) {
  std::vector<std::string> ids;
  for (const StoredJob& job : jobs) ids.push_back(job.job_id);
  return ids;
}

std::vector<std::string> Hashes(const std::vector<StoredEvaluation>& evaluations) {
  std::vector<std::string> hashes;
  for (const StoredEvaluation& e : evaluations) hashes.push_back(e.config_hash);
  return hashes;
}

// A fresh folder per test holding store.db, opened as store_.
class JobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::path(::testing::TempDir()) / "job_store_test_XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr) << std::strerror(errno);
    dir_ = pattern;
    path_ = dir_ + "/store.db";
    Reopen();
  }

  void TearDown() override {
    store_.reset();
    std::error_code error;
    fs::remove_all(dir_, error);
  }

  void Reopen() {
    store_.reset();
    absl::StatusOr<std::unique_ptr<JobStore>> store = JobStore::Open(path_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  // Open on a copy of `bytes` is FAILED_PRECONDITION naming the file, whose
  // bytes stay as they were.
  void ExpectRefused(const std::string& bytes, const std::string& message) {
    const std::string path = absl::StrCat(dir_, "/refused-", ++refused_, ".db");
    WriteBytes(path, bytes);
    absl::StatusOr<std::unique_ptr<JobStore>> store = JobStore::Open(path);
    EXPECT_TRUE(absl::IsFailedPrecondition(store.status())) << store.status();
    EXPECT_THAT(std::string(store.status().message()), HasSubstr(path));
    EXPECT_THAT(std::string(store.status().message()), HasSubstr(message));
    EXPECT_TRUE(ReadBytes(path) == bytes) << "Open changed " << path;
  }

  std::string dir_;
  std::string path_;
  std::unique_ptr<JobStore> store_;
  int refused_ = 0;
};

TEST_F(JobStoreTest, CreatesGetsAndUpdatesJobs) {
  StoredJob job = Job("job-1", 1000, kQueued, kSensitivity, "request-1");
  ASSERT_TRUE(store_->CreateJob(job).ok());
  absl::StatusOr<StoredJob> got = store_->GetJob("job-1");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(Fields(*got), Fields(job));

  ASSERT_TRUE(store_->UpdateJob("job-1", kRunning, "running record").ok());
  ASSERT_TRUE(store_->SetBaseline("job-1", "baseline").ok());
  ASSERT_TRUE(store_->SetSensitivity("job-1", "sensitivity").ok());
  job.state = kRunning;
  job.record = "running record";
  job.baseline = "baseline";
  job.sensitivity = "sensitivity";
  got = store_->GetJob("job-1");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(Fields(*got), Fields(job));

  EXPECT_TRUE(absl::IsNotFound(store_->GetJob("job-2").status()));
  EXPECT_TRUE(absl::IsNotFound(store_->UpdateJob("job-2", kRunning, "x")));
  EXPECT_TRUE(absl::IsNotFound(store_->SetBaseline("job-2", "x")));
  EXPECT_TRUE(absl::IsNotFound(store_->SetSensitivity("job-2", "x")));
  EXPECT_TRUE(absl::IsInvalidArgument(store_->CreateJob(Job("", 1))));
}

TEST_F(JobStoreTest, DuplicateJobIdOrRequestIdChangesNothing) {
  const StoredJob first = Job("job-1", 1000, kQueued, kSearch, "request-1");
  ASSERT_TRUE(store_->CreateJob(first).ok());

  StoredJob same_id = Job("job-1", 2000, kRunning, kSensitivity, "request-2");
  absl::Status status = store_->CreateJob(same_id);
  EXPECT_TRUE(absl::IsAlreadyExists(status)) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr("job-1"));

  status = store_->CreateJob(Job("job-2", 2000, kQueued, kSearch, "request-1"));
  EXPECT_TRUE(absl::IsAlreadyExists(status)) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr("request-1"));
  EXPECT_THAT(std::string(status.message()), HasSubstr("job-1"));

  absl::StatusOr<StoredJob> got = store_->GetJob("job-1");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(Fields(*got), Fields(first));
  EXPECT_TRUE(absl::IsNotFound(store_->GetJob("job-2").status()));
  absl::StatusOr<std::optional<StoredJob>> by_request = store_->FindByRequestId("request-2");
  ASSERT_TRUE(by_request.ok()) << by_request.status();
  EXPECT_FALSE(by_request->has_value());
}

TEST_F(JobStoreTest, FindsJobsByRequestId) {
  ASSERT_TRUE(store_->CreateJob(Job("job-1", 1000, kQueued, kSearch, "request-1")).ok());
  // Jobs without a request id do not collide with each other.
  ASSERT_TRUE(store_->CreateJob(Job("job-2", 2000)).ok());
  ASSERT_TRUE(store_->CreateJob(Job("job-3", 3000)).ok());

  absl::StatusOr<std::optional<StoredJob>> found = store_->FindByRequestId("request-1");
  ASSERT_TRUE(found.ok()) << found.status();
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->job_id, "job-1");

  for (const std::string request_id : {"request-2", ""}) {
    found = store_->FindByRequestId(request_id);
    ASSERT_TRUE(found.ok()) << found.status();
    EXPECT_FALSE(found->has_value()) << request_id;
  }
}

TEST_F(JobStoreTest, ListsJobsNewestFirstInPages) {
  // Two jobs share a create time: the larger id comes first.
  for (const auto& [id, time] : std::vector<std::pair<std::string, int64_t>>{
           {"a", 100}, {"b", 300}, {"c", 200}, {"d", 300}, {"e", 50}, {"f", 400}, {"g", 10}}) {
    ASSERT_TRUE(store_->CreateJob(Job(id, time)).ok());
  }
  const std::vector<std::string> newest_first = {"f", "d", "b", "c", "a", "e", "g"};

  absl::StatusOr<JobPage> all = store_->ListJobs({}, 0, 100, "");
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(Ids(all->jobs), newest_first);
  EXPECT_THAT(all->next_page_token, IsEmpty());

  for (int page_size : {1, 2, 3, 7}) {
    std::vector<std::string> seen;
    std::string token;
    int pages = 0;
    do {
      absl::StatusOr<JobPage> page = store_->ListJobs({}, 0, page_size, token);
      ASSERT_TRUE(page.ok()) << page.status();
      ASSERT_LE(page->jobs.size(), size_t(page_size));
      ASSERT_FALSE(page->jobs.empty()) << "an empty page at page size " << page_size;
      for (const StoredJob& job : page->jobs) seen.push_back(job.job_id);
      token = page->next_page_token;
      ASSERT_LT(++pages, 10);
    } while (!token.empty());
    EXPECT_EQ(seen, newest_first) << "page size " << page_size;
    EXPECT_EQ(pages, (7 + page_size - 1) / page_size) << "page size " << page_size;
  }

  EXPECT_TRUE(absl::IsInvalidArgument(store_->ListJobs({}, 0, 0, "").status()));
  EXPECT_TRUE(absl::IsInvalidArgument(store_->ListJobs({}, 0, -1, "").status()));
}

TEST_F(JobStoreTest, ListJobsFiltersByStateAndKind) {
  ASSERT_TRUE(store_->CreateJob(Job("q-search", 1, kQueued, kSearch)).ok());
  ASSERT_TRUE(store_->CreateJob(Job("r-search", 2, kRunning, kSearch)).ok());
  ASSERT_TRUE(store_->CreateJob(Job("s-sensitivity", 3, kSucceeded, kSensitivity)).ok());
  ASSERT_TRUE(store_->CreateJob(Job("q-sensitivity", 4, kQueued, kSensitivity)).ok());
  ASSERT_TRUE(store_->CreateJob(Job("s-search", 5, kSucceeded, kSearch)).ok());

  const auto list = [&](const std::vector<int>& states, int kind) {
    absl::StatusOr<JobPage> page = store_->ListJobs(states, kind, 100, "");
    EXPECT_TRUE(page.ok()) << page.status();
    return page.ok() ? Ids(page->jobs) : std::vector<std::string>();
  };
  EXPECT_THAT(list({kQueued}, 0), ElementsAre("q-sensitivity", "q-search"));
  EXPECT_THAT(list({kQueued, kRunning, kQueued}, 0),
              ElementsAre("q-sensitivity", "r-search", "q-search"));
  EXPECT_THAT(list({}, kSensitivity), ElementsAre("q-sensitivity", "s-sensitivity"));
  EXPECT_THAT(list({kSucceeded}, kSearch), ElementsAre("s-search"));
  EXPECT_THAT(list({kRunning}, kSensitivity), IsEmpty());

  // Pages of a filtered list hold only matching jobs.
  absl::StatusOr<JobPage> first = store_->ListJobs({kQueued, kSucceeded}, 0, 2, "");
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_THAT(Ids(first->jobs), ElementsAre("s-search", "q-sensitivity"));
  absl::StatusOr<JobPage> second =
      store_->ListJobs({kQueued, kSucceeded}, 0, 2, first->next_page_token);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_THAT(Ids(second->jobs), ElementsAre("s-sensitivity", "q-search"));
  EXPECT_THAT(second->next_page_token, IsEmpty());
}

TEST_F(JobStoreTest, ListJobsRejectsTokensItDidNotMake) {
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(store_->CreateJob(Job(absl::StrCat("j", i), i)).ok());
  absl::StatusOr<JobPage> page = store_->ListJobs({}, 0, 1, "");
  ASSERT_TRUE(page.ok()) << page.status();
  const std::string token = page->next_page_token;
  ASSERT_FALSE(token.empty());

  std::string changed = token;
  changed[0] = changed[0] == 'A' ? 'B' : 'A';
  for (const std::string& bad :
       {std::string("not a token"), std::string("YWJj"), std::string("\0\xff", 2), token + "A",
        token.substr(0, token.size() - 2), changed}) {
    absl::StatusOr<JobPage> result = store_->ListJobs({}, 0, 1, bad);
    EXPECT_TRUE(absl::IsInvalidArgument(result.status())) << "token " << bad;
  }
}

TEST_F(JobStoreTest, JobsInStatesOldestFirst) {
  ASSERT_TRUE(store_->CreateJob(Job("late-queued", 30, kQueued)).ok());
  ASSERT_TRUE(store_->CreateJob(Job("running", 20, kRunning)).ok());
  ASSERT_TRUE(store_->CreateJob(Job("done", 5, kSucceeded)).ok());
  ASSERT_TRUE(store_->CreateJob(Job("early-queued", 10, kQueued)).ok());

  absl::StatusOr<std::vector<StoredJob>> jobs = store_->JobsInStates({kQueued, kRunning});
  ASSERT_TRUE(jobs.ok()) << jobs.status();
  EXPECT_THAT(Ids(*jobs), ElementsAre("early-queued", "running", "late-queued"));
  jobs = store_->JobsInStates({});
  ASSERT_TRUE(jobs.ok()) << jobs.status();
  EXPECT_THAT(*jobs, IsEmpty());
}

TEST_F(JobStoreTest, NumbersEvaluationsPerJobAcrossPhases) {
  ASSERT_TRUE(store_->CreateJob(Job("job-1", 1)).ok());
  ASSERT_TRUE(store_->CreateJob(Job("job-2", 2)).ok());
  const auto add = [&](const StoredEvaluation& evaluation) {
    absl::StatusOr<int64_t> index = store_->AddEvaluation(evaluation);
    EXPECT_TRUE(index.ok()) << index.status();
    return index.ok() ? *index : -1;
  };
  EXPECT_EQ(add(Evaluation("job-1", "sensitivity", "h1")), 1);
  EXPECT_EQ(add(Evaluation("job-1", "search", "h2")), 2);
  EXPECT_EQ(add(Evaluation("job-2", "search", "h1")), 1);
  // The same configuration in another phase is another evaluation.
  EXPECT_EQ(add(Evaluation("job-1", "search", "h1")), 3);
  EXPECT_EQ(add(Evaluation("job-1", "validation", "h1")), 4);

  absl::StatusOr<int64_t> unknown = store_->AddEvaluation(Evaluation("job-3", "search", "h1"));
  EXPECT_TRUE(absl::IsNotFound(unknown.status())) << unknown.status();
  EXPECT_EQ(add(Evaluation("job-2", "search", "h2")), 2);
}

TEST_F(JobStoreTest, DuplicateEvaluationChangesNothing) {
  ASSERT_TRUE(store_->CreateJob(Job("job-1", 1)).ok());
  ASSERT_TRUE(store_->AddEvaluation(Evaluation("job-1", "search", "h1")).ok());
  ASSERT_TRUE(store_->AddEvaluation(Evaluation("job-1", "search", "h2")).ok());
  absl::StatusOr<std::vector<StoredEvaluation>> before = store_->Evaluations("job-1", "");
  ASSERT_TRUE(before.ok()) << before.status();

  StoredEvaluation replay = Evaluation("job-1", "search", "h1");
  replay.point = "another point";
  replay.assignment_key = "another key";
  absl::StatusOr<int64_t> index = store_->AddEvaluation(replay);
  EXPECT_TRUE(absl::IsAlreadyExists(index.status())) << index.status();
  EXPECT_THAT(std::string(index.status().message()), HasSubstr("h1"));

  absl::StatusOr<std::vector<StoredEvaluation>> after = store_->Evaluations("job-1", "");
  ASSERT_TRUE(after.ok()) << after.status();
  ASSERT_EQ(after->size(), before->size());
  for (size_t i = 0; i < after->size(); ++i) EXPECT_EQ(Fields((*after)[i]), Fields((*before)[i]));
  // The next evaluation takes the next index: the refused one used none.
  index = store_->AddEvaluation(Evaluation("job-1", "search", "h3"));
  ASSERT_TRUE(index.ok()) << index.status();
  EXPECT_EQ(*index, 3);
}

TEST_F(JobStoreTest, UpdatesEvaluationPoints) {
  ASSERT_TRUE(store_->CreateJob(Job("job-1", 1)).ok());
  ASSERT_TRUE(store_->AddEvaluation(Evaluation("job-1", "search", "h1")).ok());
  ASSERT_TRUE(store_->AddEvaluation(Evaluation("job-1", "validation", "h1")).ok());

  ASSERT_TRUE(store_->UpdateEvaluationPoint("job-1", "validation", "h1", "validated").ok());
  absl::StatusOr<std::vector<StoredEvaluation>> evaluations = store_->Evaluations("job-1", "");
  ASSERT_TRUE(evaluations.ok()) << evaluations.status();
  ASSERT_EQ(evaluations->size(), 2u);
  EXPECT_EQ((*evaluations)[0].point, "point of h1");
  EXPECT_EQ((*evaluations)[1].point, "validated");
  EXPECT_EQ((*evaluations)[1].evaluation_index, 2);

  EXPECT_TRUE(absl::IsNotFound(store_->UpdateEvaluationPoint("job-1", "search", "h2", "p")));
  EXPECT_TRUE(absl::IsNotFound(store_->UpdateEvaluationPoint("job-1", "sensitivity", "h1", "p")));
  EXPECT_TRUE(absl::IsNotFound(store_->UpdateEvaluationPoint("job-2", "search", "h1", "p")));
}

TEST_F(JobStoreTest, ListsAndCountsEvaluationsByPhase) {
  ASSERT_TRUE(store_->CreateJob(Job("job-1", 1)).ok());
  ASSERT_TRUE(store_->CreateJob(Job("job-2", 2)).ok());
  const std::vector<std::pair<std::string, std::string>> added = {
      {"sensitivity", "s1"}, {"search", "a"},     {"sensitivity", "s2"}, {"search", "b"},
      {"search", "c"},       {"validation", "a"}, {"search", "d"}};
  for (const auto& [phase, hash] : added) {
    ASSERT_TRUE(store_->AddEvaluation(Evaluation("job-1", phase, hash)).ok());
  }
  ASSERT_TRUE(store_->AddEvaluation(Evaluation("job-2", "search", "x")).ok());

  absl::StatusOr<std::vector<StoredEvaluation>> all = store_->Evaluations("job-1", "");
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_THAT(Hashes(*all), ElementsAre("s1", "a", "s2", "b", "c", "a", "d"));
  for (size_t i = 0; i < all->size(); ++i) {
    EXPECT_EQ((*all)[i].evaluation_index, int64_t(i) + 1);
    EXPECT_EQ((*all)[i].phase, added[i].first);
    EXPECT_EQ((*all)[i].assignment_key, "key-" + added[i].second);
    EXPECT_EQ((*all)[i].job_id, "job-1");
  }

  const auto hashes = [&](const std::string& phase, int64_t offset, int64_t limit) {
    absl::StatusOr<std::vector<StoredEvaluation>> page =
        store_->Evaluations("job-1", phase, offset, limit);
    EXPECT_TRUE(page.ok()) << page.status();
    return page.ok() ? Hashes(*page) : std::vector<std::string>();
  };
  EXPECT_THAT(hashes("search", 0, 0), ElementsAre("a", "b", "c", "d"));
  EXPECT_THAT(hashes("search", 1, 2), ElementsAre("b", "c"));
  EXPECT_THAT(hashes("search", 3, 10), ElementsAre("d"));
  EXPECT_THAT(hashes("search", 4, 0), IsEmpty());
  EXPECT_THAT(hashes("", 5, 0), ElementsAre("a", "d"));
  EXPECT_THAT(hashes("", 0, 1), ElementsAre("s1"));
  EXPECT_THAT(hashes("unknown", 0, 0), IsEmpty());
  EXPECT_TRUE(absl::IsInvalidArgument(store_->Evaluations("job-1", "", -1, 0).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(store_->Evaluations("job-1", "", 0, -1).status()));

  const auto count = [&](const std::string& job_id, const std::string& phase) {
    absl::StatusOr<int64_t> n = store_->CountEvaluations(job_id, phase);
    EXPECT_TRUE(n.ok()) << n.status();
    return n.ok() ? *n : -1;
  };
  EXPECT_EQ(count("job-1", ""), 7);
  EXPECT_EQ(count("job-1", "search"), 4);
  EXPECT_EQ(count("job-1", "sensitivity"), 2);
  EXPECT_EQ(count("job-1", "validation"), 1);
  EXPECT_EQ(count("job-2", ""), 1);
  EXPECT_EQ(count("job-3", ""), 0);
}

TEST_F(JobStoreTest, CacheKeepsTheFirstValue) {
  absl::StatusOr<std::optional<std::string>> value = store_->GetCached("k1");
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_FALSE(value->has_value());

  ASSERT_TRUE(store_->PutCached("k1", "first").ok());
  ASSERT_TRUE(store_->PutCached("k1", "second").ok());
  ASSERT_TRUE(store_->PutCached("k2", "").ok());
  value = store_->GetCached("k1");
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(value->value_or("(none)"), "first");
  value = store_->GetCached("k2");
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(value->value_or("(none)"), "");
}

TEST_F(JobStoreTest, BlobsWithNulBytesRoundTrip) {
  const std::string bytes = AllBytes();
  StoredJob job = Job("job-1", 1);
  job.record = bytes;
  job.baseline = std::string(3, '\0');
  ASSERT_TRUE(store_->CreateJob(job).ok());
  ASSERT_TRUE(store_->SetSensitivity("job-1", bytes + bytes).ok());
  StoredEvaluation evaluation = Evaluation("job-1", "search", "h1");
  evaluation.point = bytes;
  ASSERT_TRUE(store_->AddEvaluation(evaluation).ok());
  ASSERT_TRUE(store_->PutCached(bytes, "\0value\0"s).ok());
  ASSERT_TRUE(store_->PutCached(std::string("\0", 1), bytes).ok());

  absl::StatusOr<StoredJob> got = store_->GetJob("job-1");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(got->record == bytes);
  EXPECT_TRUE(got->baseline == std::string(3, '\0'));
  EXPECT_TRUE(got->sensitivity == bytes + bytes);
  absl::StatusOr<std::vector<StoredEvaluation>> evaluations = store_->Evaluations("job-1", "");
  ASSERT_TRUE(evaluations.ok()) << evaluations.status();
  ASSERT_EQ(evaluations->size(), 1u);
  EXPECT_TRUE((*evaluations)[0].point == bytes);
  absl::StatusOr<std::optional<std::string>> cached = store_->GetCached(bytes);
  ASSERT_TRUE(cached.ok()) << cached.status();
  EXPECT_TRUE(cached->value_or("") == "\0value\0"s);
  cached = store_->GetCached(std::string("\0", 1));
  ASSERT_TRUE(cached.ok()) << cached.status();
  EXPECT_TRUE(cached->value_or("") == bytes);
  // A key that only shares the bytes before a NUL is another key.
  cached = store_->GetCached("");
  ASSERT_TRUE(cached.ok()) << cached.status();
  EXPECT_FALSE(cached->has_value());
}

TEST_F(JobStoreTest, DataSurvivesReopening) {
  StoredJob job = Job("job-1", 42, kRunning, kSensitivity, "request-1");
  ASSERT_TRUE(store_->CreateJob(job).ok());
  ASSERT_TRUE(store_->SetBaseline("job-1", "baseline").ok());
  job.baseline = "baseline";
  ASSERT_TRUE(store_->AddEvaluation(Evaluation("job-1", "search", "h1")).ok());
  ASSERT_TRUE(store_->AddEvaluation(Evaluation("job-1", "search", "h2")).ok());
  ASSERT_TRUE(store_->PutCached("key", "value").ok());

  Reopen();
  absl::StatusOr<StoredJob> got = store_->GetJob("job-1");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(Fields(*got), Fields(job));
  absl::StatusOr<std::optional<StoredJob>> by_request = store_->FindByRequestId("request-1");
  ASSERT_TRUE(by_request.ok()) << by_request.status();
  EXPECT_TRUE(by_request->has_value());
  absl::StatusOr<std::vector<StoredEvaluation>> evaluations = store_->Evaluations("job-1", "");
  ASSERT_TRUE(evaluations.ok()) << evaluations.status();
  EXPECT_THAT(Hashes(*evaluations), ElementsAre("h1", "h2"));
  absl::StatusOr<std::optional<std::string>> cached = store_->GetCached("key");
  ASSERT_TRUE(cached.ok()) << cached.status();
  EXPECT_EQ(cached->value_or("(none)"), "value");
  // Numbering and uniqueness carry on where they were.
  absl::StatusOr<int64_t> index = store_->AddEvaluation(Evaluation("job-1", "search", "h3"));
  ASSERT_TRUE(index.ok()) << index.status();
  EXPECT_EQ(*index, 3);
  EXPECT_TRUE(
      absl::IsAlreadyExists(store_->AddEvaluation(Evaluation("job-1", "search", "h1")).status()));
  EXPECT_TRUE(absl::IsAlreadyExists(store_->CreateJob(Job("job-1", 1))));
}

TEST_F(JobStoreTest, ConcurrentEvaluationsGetConsecutiveIndices) {
  ASSERT_TRUE(store_->CreateJob(Job("job-1", 1)).ok());
  // Two connections to the file (as two processes would have), four
  // threads on each.
  absl::StatusOr<std::unique_ptr<JobStore>> other = JobStore::Open(path_);
  ASSERT_TRUE(other.ok()) << other.status();
  constexpr int kThreads = 8;
  constexpr int kPerThread = 20;
  std::vector<std::vector<int64_t>> indices(kThreads);
  std::vector<std::string> errors(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    JobStore* store = t % 2 == 0 ? store_.get() : other->get();
    threads.emplace_back([store, t, &indices, &errors] {
      for (int i = 0; i < kPerThread; ++i) {
        absl::StatusOr<int64_t> index =
            store->AddEvaluation(Evaluation("job-1", "search", absl::StrCat(t, "-", i)));
        if (!index.ok()) {
          errors[t] = index.status().ToString();
          return;
        }
        indices[t].push_back(*index);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();

  std::vector<int64_t> all;
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_THAT(errors[t], IsEmpty());
    all.insert(all.end(), indices[t].begin(), indices[t].end());
  }
  std::sort(all.begin(), all.end());
  std::vector<int64_t> expected(kThreads * kPerThread);
  std::iota(expected.begin(), expected.end(), 1);
  EXPECT_EQ(all, expected);
  absl::StatusOr<int64_t> count = store_->CountEvaluations("job-1", "");
  ASSERT_TRUE(count.ok()) << count.status();
  EXPECT_EQ(*count, kThreads * kPerThread);
}

TEST_F(JobStoreTest, OpenNeedsAPathItCanCreate) {
  EXPECT_TRUE(absl::IsInvalidArgument(JobStore::Open("").status()));
  const std::string missing = dir_ + "/missing/store.db";
  absl::Status status = JobStore::Open(missing).status();
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(std::string(status.message()), HasSubstr(missing));
  // An existing empty file becomes a store.
  WriteBytes(dir_ + "/empty.db", "");
  absl::StatusOr<std::unique_ptr<JobStore>> store = JobStore::Open(dir_ + "/empty.db");
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_TRUE((*store)->CreateJob(Job("job-1", 1)).ok());
}

TEST_F(JobStoreTest, OpenRefusesFilesThatAreNotSqlite) {
  std::mt19937 random(7);
  std::string noise(3 * 4096, '\0');
  for (char& c : noise) c = static_cast<char>(random());
  ExpectRefused(noise, "not a transaxx job store");
  ExpectRefused("job_id,state\njob-1,2\n", "not a transaxx job store");
}

TEST_F(JobStoreTest, OpenRefusesATruncatedStore) {
  // Enough data for a file of several pages.
  for (int i = 0; i < 20; ++i) {
    StoredJob job = Job(absl::StrCat("job-", i), i);
    job.record = std::string(2000, 'r');
    ASSERT_TRUE(store_->CreateJob(job).ok());
  }
  store_.reset();
  const std::string bytes = ReadBytes(path_);
  ASSERT_GT(bytes.size(), 8192u);
  ExpectRefused(bytes.substr(0, 1000), "not a transaxx job store");
  ExpectRefused(bytes.substr(0, 3 * 4096), "not a transaxx job store");
}

TEST_F(JobStoreTest, OpenRefusesAnotherApplicationsDatabase) {
  const std::string path = dir_ + "/notes.db";
  RunSql(path, "CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('hello');");
  ExpectRefused(ReadBytes(path), "another application");
  // Another application's database that has a table named like ours.
  const std::string jobs = dir_ + "/jobs.db";
  RunSql(jobs, "PRAGMA journal_mode = WAL; CREATE TABLE jobs (job_id TEXT PRIMARY KEY);");
  ExpectRefused(ReadBytes(jobs), "another application");
}

TEST_F(JobStoreTest, OpenRefusesANewerSchemaVersion) {
  ASSERT_TRUE(store_->CreateJob(Job("job-1", 1)).ok());
  store_.reset();
  RunSql(path_, "PRAGMA user_version = 2");
  ExpectRefused(ReadBytes(path_), "schema version 2");
}

}  // namespace
}  // namespace transaxx::coordinator
