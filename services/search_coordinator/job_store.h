// The coordinator's persistent store: one SQLite file (WAL journal) holding
// every job (its spec, state and results), every completed evaluation of
// every job, and the evaluation cache shared by all jobs. Protocol messages
// are stored as serialized bytes the store does not interpret, so it depends
// on nothing but SQLite.
//
// Durability: every write is its own transaction, committed before the call
// returns; a crash (kill -9) loses nothing that a call reported as written.
// A completed evaluation is recorded at most once per (job, config_hash):
// a second AddEvaluation of the same pair is ALREADY_EXISTS and changes
// nothing, which is how a retried or replayed evaluation is never counted
// twice.
//
// Thread-safety: thread-safe (one connection behind a mutex).
#ifndef TRANSAXX_SERVICES_SEARCH_COORDINATOR_JOB_STORE_H_
#define TRANSAXX_SERVICES_SEARCH_COORDINATOR_JOB_STORE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

struct sqlite3;

namespace transaxx::coordinator {

// A job row. `record` is the serialized transaxx.v1.SearchJob (spec, state,
// counters, ...); `state` and `kind` duplicate its fields for filtering.
struct StoredJob {
  std::string job_id;
  std::string request_id;  // empty when none
  int state = 0;           // transaxx.v1.JobState number
  int kind = 0;            // transaxx.v1.JobKind number
  int64_t create_time_us = 0;  // microseconds since the Unix epoch
  std::string record;
  // Serialized results parts, empty until set: transaxx.v1.BaselineResult
  // and transaxx.v1.SensitivityTable.
  std::string baseline;
  std::string sensitivity;
};

// One completed evaluation of a job.
struct StoredEvaluation {
  std::string job_id;
  int64_t evaluation_index = 0;  // 1-based, assigned by AddEvaluation
  std::string config_hash;
  // Which phase produced it: "search", "sensitivity", "validation", ...
  std::string phase;
  // Strategy's assignment key (search::AssignmentKey), for replay.
  std::string assignment_key;
  std::string point;  // serialized transaxx.v1.SearchPoint
};

// A page of jobs, newest first.
struct JobPage {
  std::vector<StoredJob> jobs;
  std::string next_page_token;  // empty on the last page
};

class JobStore {
 public:
  // Opens (creating when missing) the store at `path` and its schema.
  // INVALID_ARGUMENT when `path` is empty; FAILED_PRECONDITION when the
  // file is not a transaxx job store (another SQLite database, a newer
  // schema version, or not SQLite at all), naming the path; INTERNAL for
  // other SQLite errors, with SQLite's message.
  static absl::StatusOr<std::unique_ptr<JobStore>> Open(const std::string& path);
  ~JobStore();

  JobStore(const JobStore&) = delete;
  JobStore& operator=(const JobStore&) = delete;

  // Inserts a new job. ALREADY_EXISTS when job_id exists, or when
  // request_id is non-empty and used by another job (message names it).
  absl::Status CreateJob(const StoredJob& job);
  // Replaces state and record of an existing job (the rest, kind included,
  // stays). NOT_FOUND when the job does not exist.
  absl::Status UpdateJob(const std::string& job_id, int state, const std::string& record);
  absl::Status SetBaseline(const std::string& job_id, const std::string& baseline);
  absl::Status SetSensitivity(const std::string& job_id, const std::string& sensitivity);

  // NOT_FOUND when unknown.
  absl::StatusOr<StoredJob> GetJob(const std::string& job_id) const;
  // The job holding `request_id`, if any.
  absl::StatusOr<std::optional<StoredJob>> FindByRequestId(const std::string& request_id) const;
  // Jobs with a state in `states` (empty: any) and kind `kind` (0: any),
  // newest first (create time, then job id, descending). page_size >= 1.
  // INVALID_ARGUMENT for a page_token this store did not produce.
  absl::StatusOr<JobPage> ListJobs(const std::vector<int>& states, int kind, int page_size,
                                   const std::string& page_token) const;
  // Every job in one of `states` (e.g. QUEUED and RUNNING at start-up),
  // oldest first; none for empty `states`.
  absl::StatusOr<std::vector<StoredJob>> JobsInStates(const std::vector<int>& states) const;

  // Records a completed evaluation; fills in and returns its
  // evaluation_index (the job's count + 1). ALREADY_EXISTS when the job
  // already has `config_hash` in the same phase; NOT_FOUND unknown job.
  absl::StatusOr<int64_t> AddEvaluation(const StoredEvaluation& evaluation);
  // Replaces the point of a recorded evaluation (e.g. to add its validation
  // accuracy). NOT_FOUND when absent.
  absl::Status UpdateEvaluationPoint(const std::string& job_id, const std::string& phase,
                                     const std::string& config_hash, const std::string& point);
  // The job's evaluations of `phase` (empty: all phases) in evaluation
  // order, from `offset`, at most `limit` (0: all).
  absl::StatusOr<std::vector<StoredEvaluation>> Evaluations(const std::string& job_id,
                                                            const std::string& phase,
                                                            int64_t offset = 0,
                                                            int64_t limit = 0) const;
  // Number of the job's evaluations of `phase` (empty: all).
  absl::StatusOr<int64_t> CountEvaluations(const std::string& job_id,
                                           const std::string& phase) const;

  // The evaluation cache, shared across jobs: an opaque key (a hash of
  // model, subset, calibration and configuration) to a serialized
  // transaxx.v1.EvaluateResponse. Put of an existing key keeps the first
  // value (results are deterministic, so both are equal).
  absl::Status PutCached(const std::string& key, const std::string& value);
  absl::StatusOr<std::optional<std::string>> GetCached(const std::string& key) const;

 private:
  explicit JobStore(sqlite3* db) : db_(db) {}

  mutable absl::Mutex mu_;
  sqlite3* db_ ABSL_GUARDED_BY(mu_);
};

}  // namespace transaxx::coordinator

#endif  // TRANSAXX_SERVICES_SEARCH_COORDINATOR_JOB_STORE_H_
