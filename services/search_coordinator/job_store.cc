#include "services/search_coordinator/job_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace transaxx::coordinator {
namespace {

// PRAGMA application_id of a job store: "TXJS".
constexpr int64_t kApplicationId = 0x54584A53;
// PRAGMA user_version: the schema this build writes and reads. A store
// with a larger number was written by a newer transaxx and is refused.
constexpr int64_t kSchemaVersion = 1;

// How long a statement waits for another connection's lock (another
// process on the same file, e.g. the sqlite3 shell) before UNAVAILABLE.
constexpr int kBusyTimeoutMs = 10000;

// The schema, created in one transaction with the pragmas that mark the file
// as a job store. Text columns hold identifiers; blobs hold serialized
// protocol messages the store does not interpret.
constexpr const char* kSchema = R"sql(
CREATE TABLE meta (
  key TEXT PRIMARY KEY NOT NULL,
  value TEXT NOT NULL
);
CREATE TABLE jobs (
  job_id TEXT PRIMARY KEY NOT NULL,
  request_id TEXT UNIQUE,
  state INTEGER NOT NULL,
  kind INTEGER NOT NULL,
  create_time_us INTEGER NOT NULL,
  record BLOB NOT NULL,
  baseline BLOB NOT NULL DEFAULT x'',
  sensitivity BLOB NOT NULL DEFAULT x''
);
CREATE INDEX jobs_by_create_time ON jobs (create_time_us, job_id);
CREATE TABLE evaluations (
  job_id TEXT NOT NULL REFERENCES jobs (job_id) ON DELETE CASCADE,
  phase TEXT NOT NULL,
  config_hash TEXT NOT NULL,
  evaluation_index INTEGER NOT NULL,
  assignment_key TEXT NOT NULL,
  point BLOB NOT NULL,
  UNIQUE (job_id, phase, config_hash),
  UNIQUE (job_id, evaluation_index)
);
CREATE TABLE cache (
  key BLOB PRIMARY KEY NOT NULL,
  value BLOB NOT NULL
);
)sql";

constexpr const char* kJobColumns =
    "job_id, request_id, state, kind, create_time_us, record, baseline, sensitivity";
constexpr const char* kEvaluationColumns =
    "job_id, evaluation_index, config_hash, phase, assignment_key, point";

// ListJobs page tokens: web-safe base64 of this prefix, the last job's
// create time, '|' and its id.
constexpr absl::string_view kPageTokenPrefix = "transaxx-jobs-v1|";

std::string FileName(sqlite3* db) {
  const char* name = db == nullptr ? nullptr : sqlite3_db_filename(db, "main");
  return name == nullptr ? std::string() : std::string(name);
}

// A Status for SQLite result code `rc` from `what`, with SQLite's message.
absl::Status SqliteStatus(sqlite3* db, int rc, absl::string_view what) {
  const char* detail =
      db != nullptr && sqlite3_extended_errcode(db) == rc ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  std::string message =
      absl::StrCat("job store ", FileName(db), ": ", what, ": ", detail, " (SQLite code ", rc, ")");
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return absl::UnavailableError(std::move(message));
    case SQLITE_FULL:
      return absl::ResourceExhaustedError(std::move(message));
    case SQLITE_TOOBIG:
      return absl::InvalidArgumentError(std::move(message));
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return absl::DataLossError(std::move(message));
    case SQLITE_CONSTRAINT:
      if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE) {
        return absl::AlreadyExistsError(std::move(message));
      }
      break;
    default:
      break;
  }
  return absl::InternalError(std::move(message));
}

// One prepared statement. Bind errors are kept and reported by the next
// Step, so call sites bind without checking each call.
class Statement {
 public:
  static absl::StatusOr<Statement> Prepare(sqlite3* db, absl::string_view sql) {
    sqlite3_stmt* stmt = nullptr;
    const int rc = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
    if (rc != SQLITE_OK) {
      sqlite3_finalize(stmt);
      return SqliteStatus(db, rc, absl::StrCat("preparing \"", sql.substr(0, 60), "\""));
    }
    if (stmt == nullptr) return absl::InternalError("empty SQL statement");
    return Statement(db, stmt);
  }

  Statement(Statement&& other) noexcept
      : db_(other.db_),
        stmt_(std::exchange(other.stmt_, nullptr)),
        bind_rc_(other.bind_rc_),
        next_(other.next_) {}
  Statement& operator=(Statement&&) = delete;
  ~Statement() { sqlite3_finalize(stmt_); }

  // Parameters are numbered from 1, in the order of the ?s.
  Statement& Text(absl::string_view value) {
    return Bound(sqlite3_bind_text64(stmt_, ++next_, NonNull(value), value.size(), SQLITE_TRANSIENT,
                                     SQLITE_UTF8));
  }
  Statement& Blob(absl::string_view value) {
    return Bound(
        sqlite3_bind_blob64(stmt_, ++next_, NonNull(value), value.size(), SQLITE_TRANSIENT));
  }
  Statement& TextOrNull(absl::string_view value) {
    return value.empty() ? Bound(sqlite3_bind_null(stmt_, ++next_)) : Text(value);
  }
  Statement& Int(int64_t value) { return Bound(sqlite3_bind_int64(stmt_, ++next_, value)); }

  // True when a row is ready, false when the statement is done.
  absl::StatusOr<bool> Step(absl::string_view what) {
    if (bind_rc_ != SQLITE_OK) return SqliteStatus(db_, bind_rc_, what);
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return SqliteStatus(db_, rc, what);
  }
  // Runs a statement that returns no rows.
  absl::Status Run(absl::string_view what) {
    absl::StatusOr<bool> row = Step(what);
    if (!row.ok()) return row.status();
    return absl::OkStatus();
  }

  int64_t ColumnInt(int column) const { return sqlite3_column_int64(stmt_, column); }
  // The bytes of a TEXT or BLOB column (empty for NULL).
  std::string ColumnBytes(int column) const {
    const void* data = sqlite3_column_blob(stmt_, column);
    const int size = sqlite3_column_bytes(stmt_, column);
    if (data == nullptr || size <= 0) return std::string();
    return std::string(static_cast<const char*>(data), static_cast<size_t>(size));
  }

 private:
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}

  // An empty string_view may have no data; SQLite would bind that as NULL.
  static const char* NonNull(absl::string_view value) {
    return value.data() == nullptr ? "" : value.data();
  }
  Statement& Bound(int rc) {
    if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
    return *this;
  }

  sqlite3* db_;
  sqlite3_stmt* stmt_;
  int bind_rc_ = SQLITE_OK;
  int next_ = 0;
};

// Runs fixed SQL (no user data: transaction control, pragmas, the schema).
absl::Status Exec(sqlite3* db, const char* sql, absl::string_view what) {
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return SqliteStatus(db, rc, what);
  return absl::OkStatus();
}

// The single integer a fixed query returns.
absl::StatusOr<int64_t> QueryInt(sqlite3* db, const char* sql) {
  absl::StatusOr<Statement> stmt = Statement::Prepare(db, sql);
  if (!stmt.ok()) return stmt.status();
  absl::StatusOr<bool> row = stmt->Step(sql);
  if (!row.ok()) return row.status();
  if (!*row) return absl::InternalError(absl::StrCat(sql, " returned no row"));
  return stmt->ColumnInt(0);
}

// A write transaction, taken at BEGIN (IMMEDIATE) so that what it reads
// cannot change before it writes; rolled back unless committed.
class Transaction {
 public:
  static absl::StatusOr<Transaction> Begin(sqlite3* db) {
    absl::Status status = Exec(db, "BEGIN IMMEDIATE", "beginning a transaction");
    if (!status.ok()) return status;
    return Transaction(db);
  }
  Transaction(Transaction&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction() {
    // SQLite rolls back by itself after some errors (e.g. a full disk).
    if (db_ != nullptr && sqlite3_get_autocommit(db_) == 0) {
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    }
  }
  absl::Status Commit() {
    absl::Status status = Exec(db_, "COMMIT", "committing");
    if (status.ok()) db_ = nullptr;
    return status;
  }

 private:
  explicit Transaction(sqlite3* db) : db_(db) {}
  sqlite3* db_;
};

// Runs an UPDATE of one job or evaluation; NOT_FOUND (`missing`) when it
// matched no row.
absl::Status UpdateOne(sqlite3* db, Statement& stmt, absl::string_view what,
                       const std::string& missing) {
  absl::Status status = stmt.Run(what);
  if (!status.ok()) return status;
  if (sqlite3_changes(db) == 0) return absl::NotFoundError(missing);
  return absl::OkStatus();
}

// Stores one results part of a job with `sql`, an UPDATE of the part's
// column taking the bytes and the job id.
absl::Status SetResultPart(sqlite3* db, const char* sql, const std::string& job_id,
                           const std::string& bytes) {
  absl::StatusOr<Statement> stmt = Statement::Prepare(db, sql);
  if (!stmt.ok()) return stmt.status();
  stmt->Blob(bytes).Text(job_id);
  return UpdateOne(db, *stmt, sql, absl::StrCat("job ", job_id, " not found"));
}

StoredJob ReadJob(const Statement& stmt) {
  StoredJob job;
  job.job_id = stmt.ColumnBytes(0);
  job.request_id = stmt.ColumnBytes(1);
  job.state = static_cast<int>(stmt.ColumnInt(2));
  job.kind = static_cast<int>(stmt.ColumnInt(3));
  job.create_time_us = stmt.ColumnInt(4);
  job.record = stmt.ColumnBytes(5);
  job.baseline = stmt.ColumnBytes(6);
  job.sensitivity = stmt.ColumnBytes(7);
  return job;
}

StoredEvaluation ReadEvaluation(const Statement& stmt) {
  StoredEvaluation evaluation;
  evaluation.job_id = stmt.ColumnBytes(0);
  evaluation.evaluation_index = stmt.ColumnInt(1);
  evaluation.config_hash = stmt.ColumnBytes(2);
  evaluation.phase = stmt.ColumnBytes(3);
  evaluation.assignment_key = stmt.ColumnBytes(4);
  evaluation.point = stmt.ColumnBytes(5);
  return evaluation;
}

// All jobs a prepared query returns.
absl::StatusOr<std::vector<StoredJob>> ReadJobs(Statement& stmt, absl::string_view what) {
  std::vector<StoredJob> jobs;
  while (true) {
    absl::StatusOr<bool> row = stmt.Step(what);
    if (!row.ok()) return row.status();
    if (!*row) return jobs;
    jobs.push_back(ReadJob(stmt));
  }
}

std::string EncodePageToken(int64_t create_time_us, const std::string& job_id) {
  return absl::WebSafeBase64Escape(absl::StrCat(kPageTokenPrefix, create_time_us, "|", job_id));
}

// The (create time, job id) a token encodes; false for one EncodePageToken
// did not make.
bool DecodePageToken(const std::string& token, int64_t* create_time_us, std::string* job_id) {
  std::string decoded;
  if (!absl::WebSafeBase64Unescape(token, &decoded)) return false;
  if (!absl::StartsWith(decoded, kPageTokenPrefix)) return false;
  absl::string_view rest = absl::string_view(decoded).substr(kPageTokenPrefix.size());
  const size_t bar = rest.find('|');
  if (bar == absl::string_view::npos || bar + 1 == rest.size()) return false;
  if (!absl::SimpleAtoi(rest.substr(0, bar), create_time_us)) return false;
  *job_id = std::string(rest.substr(bar + 1));
  // Only the canonical encoding: a token is exactly what this store wrote.
  return EncodePageToken(*create_time_us, *job_id) == token;
}

// " IN (?, ?, ...)" for `count` parameters.
std::string InList(size_t count) {
  std::string sql = " IN (";
  for (size_t i = 0; i < count; ++i) absl::StrAppend(&sql, i == 0 ? "?" : ", ?");
  return sql + ")";
}

std::vector<int> Distinct(std::vector<int> values) {
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  return values;
}

// What Open found in the file.
enum class FileKind { kEmpty, kJobStore };

// Reads (never writes) enough of the file to tell an empty database, a
// job store of this schema version, or anything else (FAILED_PRECONDITION
// naming the path).
absl::StatusOr<FileKind> Examine(sqlite3* db, const std::string& path) {
  const auto refuse = [&path](absl::string_view why) {
    return absl::FailedPreconditionError(absl::StrCat(path, " is not a transaxx job store: ", why,
                                                      "; move it away or choose another path"));
  };
  // A file that is not SQLite (or is damaged) fails on the first read.
  const auto read_error = [&](const absl::Status& status) {
    if (!absl::IsDataLoss(status)) return status;
    return refuse(absl::StrCat("SQLite cannot read it (", sqlite3_errmsg(db),
                               "): another kind of file, or a damaged store"));
  };
  absl::StatusOr<int64_t> application_id = QueryInt(db, "PRAGMA application_id");
  if (!application_id.ok()) return read_error(application_id.status());
  absl::StatusOr<int64_t> version = QueryInt(db, "PRAGMA user_version");
  if (!version.ok()) return read_error(version.status());
  absl::StatusOr<int64_t> objects = QueryInt(db, "SELECT count(*) FROM sqlite_schema");
  if (!objects.ok()) return read_error(objects.status());

  if (*application_id == 0 && *version == 0 && *objects == 0) return FileKind::kEmpty;
  if (*application_id != kApplicationId) {
    return refuse(absl::StrCat("an SQLite database of another application (application_id ",
                               *application_id, ", ", *objects, " schema objects)"));
  }
  if (*version > kSchemaVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        path, " is a job store of schema version ", *version, ", newer than this build reads (",
        kSchemaVersion, "); run a newer transaxx coordinator"));
  }
  if (*version < 1) return refuse(absl::StrCat("unknown schema version ", *version));

  absl::StatusOr<int64_t> tables =
      QueryInt(db,
               "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name IN "
               "('meta', 'jobs', 'evaluations', 'cache')");
  if (!tables.ok()) return read_error(tables.status());
  if (*tables != 4) return refuse("tables are missing");
  absl::StatusOr<Statement> meta =
      Statement::Prepare(db, "SELECT value FROM meta WHERE key = 'schema_version'");
  if (!meta.ok()) return read_error(meta.status());
  absl::StatusOr<bool> row = meta->Step("reading the schema version");
  if (!row.ok()) return read_error(row.status());
  if (!*row || meta->ColumnBytes(0) != absl::StrCat(*version)) {
    return refuse("its meta table does not match its schema version");
  }
  return FileKind::kJobStore;
}

// Creates the schema in an empty database, unless another process did
// first. REQUIRES: WAL mode is on.
absl::Status CreateSchema(sqlite3* db, const std::string& path) {
  absl::StatusOr<Transaction> transaction = Transaction::Begin(db);
  if (!transaction.ok()) return transaction.status();
  absl::StatusOr<FileKind> kind = Examine(db, path);
  if (!kind.ok()) return kind.status();
  if (*kind == FileKind::kJobStore) return absl::OkStatus();  // another process made it

  absl::Status status = Exec(db, kSchema, "creating the schema");
  if (!status.ok()) return status;
  absl::StatusOr<Statement> meta =
      Statement::Prepare(db, "INSERT INTO meta (key, value) VALUES (?, ?), (?, ?)");
  if (!meta.ok()) return meta.status();
  meta->Text("application").Text("transaxx job store");
  meta->Text("schema_version").Text(absl::StrCat(kSchemaVersion));
  status = meta->Run("writing the meta table");
  if (!status.ok()) return status;
  // Pragmas take no parameters; both values are constants of this file.
  status = Exec(db,
                absl::StrCat("PRAGMA application_id = ", kApplicationId,
                             "; PRAGMA user_version = ", kSchemaVersion)
                    .c_str(),
                "marking the file as a job store");
  if (!status.ok()) return status;
  return transaction->Commit();
}

absl::Status EnableWal(sqlite3* db) {
  absl::StatusOr<Statement> stmt = Statement::Prepare(db, "PRAGMA journal_mode = WAL");
  if (!stmt.ok()) return stmt.status();
  absl::StatusOr<bool> row = stmt->Step("enabling the WAL journal");
  if (!row.ok()) return row.status();
  const std::string mode = *row ? stmt->ColumnBytes(0) : std::string();
  if (mode != "wal") {
    return absl::InternalError(absl::StrCat(
        "job store ", FileName(db), ": could not enable the WAL journal (mode is \"", mode, "\")"));
  }
  return absl::OkStatus();
}

// Connection settings and the schema; nothing is written to a file that is
// not an empty database or a job store.
absl::Status Initialize(sqlite3* db, const std::string& path) {
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, kBusyTimeoutMs);
  sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
  // Examined first: any other statement would also read the file, and
  // fail with SQLite's bare message where the file is not a store.
  absl::StatusOr<FileKind> kind = Examine(db, path);
  if (!kind.ok()) return kind.status();
  // synchronous=FULL: in WAL mode NORMAL already survives a killed process,
  // but may lose the last commits on a power loss or OS crash; FULL syncs the
  // WAL at every commit, so what a call reported as written stays written.
  absl::Status status =
      Exec(db, "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL", "configuring the connection");
  if (!status.ok()) return status;
  status = EnableWal(db);
  if (!status.ok()) return status;
  if (*kind == FileKind::kEmpty) return CreateSchema(db, path);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<JobStore>> JobStore::Open(const std::string& path) {
  if (path.empty()) return absl::InvalidArgumentError("job store path is empty");
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  absl::Status status = absl::OkStatus();
  if (rc != SQLITE_OK) {
    status = absl::InternalError(absl::StrCat(
        "opening job store ", path, ": ", db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
  } else {
    status = Initialize(db, path);
  }
  if (!status.ok()) {
    sqlite3_close_v2(db);
    return status;
  }
  return std::unique_ptr<JobStore>(new JobStore(db));
}

JobStore::~JobStore() { sqlite3_close_v2(db_); }

absl::Status JobStore::CreateJob(const StoredJob& job) {
  if (job.job_id.empty()) return absl::InvalidArgumentError("CreateJob: job_id is empty");
  absl::MutexLock lock(&mu_);
  absl::StatusOr<Transaction> transaction = Transaction::Begin(db_);
  if (!transaction.ok()) return transaction.status();

  absl::StatusOr<Statement> same_id =
      Statement::Prepare(db_, "SELECT 1 FROM jobs WHERE job_id = ?");
  if (!same_id.ok()) return same_id.status();
  absl::StatusOr<bool> exists = same_id->Text(job.job_id).Step("CreateJob");
  if (!exists.ok()) return exists.status();
  if (*exists) return absl::AlreadyExistsError(absl::StrCat("job ", job.job_id, " already exists"));

  if (!job.request_id.empty()) {
    absl::StatusOr<Statement> same_request =
        Statement::Prepare(db_, "SELECT job_id FROM jobs WHERE request_id = ?");
    if (!same_request.ok()) return same_request.status();
    absl::StatusOr<bool> used = same_request->Text(job.request_id).Step("CreateJob");
    if (!used.ok()) return used.status();
    if (*used) {
      return absl::AlreadyExistsError(absl::StrCat(
          "request_id ", job.request_id, " is already used by job ", same_request->ColumnBytes(0)));
    }
  }

  absl::StatusOr<Statement> insert = Statement::Prepare(
      db_, absl::StrCat("INSERT INTO jobs (", kJobColumns, ") VALUES (?, ?, ?, ?, ?, ?, ?, ?)"));
  if (!insert.ok()) return insert.status();
  insert->Text(job.job_id).TextOrNull(job.request_id).Int(job.state).Int(job.kind);
  insert->Int(job.create_time_us).Blob(job.record).Blob(job.baseline).Blob(job.sensitivity);
  absl::Status status = insert->Run("CreateJob");
  if (!status.ok()) return status;
  return transaction->Commit();
}

absl::Status JobStore::UpdateJob(const std::string& job_id, int state, const std::string& record) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<Statement> stmt =
      Statement::Prepare(db_, "UPDATE jobs SET state = ?, record = ? WHERE job_id = ?");
  if (!stmt.ok()) return stmt.status();
  stmt->Int(state).Blob(record).Text(job_id);
  return UpdateOne(db_, *stmt, "UpdateJob", absl::StrCat("job ", job_id, " not found"));
}

absl::Status JobStore::SetBaseline(const std::string& job_id, const std::string& baseline) {
  absl::MutexLock lock(&mu_);
  return SetResultPart(db_, "UPDATE jobs SET baseline = ? WHERE job_id = ?", job_id, baseline);
}

absl::Status JobStore::SetSensitivity(const std::string& job_id, const std::string& sensitivity) {
  absl::MutexLock lock(&mu_);
  return SetResultPart(db_, "UPDATE jobs SET sensitivity = ? WHERE job_id = ?", job_id,
                       sensitivity);
}

absl::StatusOr<StoredJob> JobStore::GetJob(const std::string& job_id) const {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<Statement> stmt =
      Statement::Prepare(db_, absl::StrCat("SELECT ", kJobColumns, " FROM jobs WHERE job_id = ?"));
  if (!stmt.ok()) return stmt.status();
  absl::StatusOr<std::vector<StoredJob>> jobs = ReadJobs(stmt->Text(job_id), "GetJob");
  if (!jobs.ok()) return jobs.status();
  if (jobs->empty()) return absl::NotFoundError(absl::StrCat("job ", job_id, " not found"));
  return std::move(jobs->front());
}

absl::StatusOr<std::optional<StoredJob>> JobStore::FindByRequestId(
    const std::string& request_id) const {
  if (request_id.empty()) return std::optional<StoredJob>();
  absl::MutexLock lock(&mu_);
  absl::StatusOr<Statement> stmt = Statement::Prepare(
      db_, absl::StrCat("SELECT ", kJobColumns, " FROM jobs WHERE request_id = ?"));
  if (!stmt.ok()) return stmt.status();
  absl::StatusOr<std::vector<StoredJob>> jobs = ReadJobs(stmt->Text(request_id), "FindByRequestId");
  if (!jobs.ok()) return jobs.status();
  if (jobs->empty()) return std::optional<StoredJob>();
  return std::optional<StoredJob>(std::move(jobs->front()));
}

absl::StatusOr<JobPage> JobStore::ListJobs(const std::vector<int>& states, int kind, int page_size,
                                           const std::string& page_token) const {
  if (page_size < 1) {
    return absl::InvalidArgumentError(absl::StrCat("ListJobs: page_size ", page_size, " < 1"));
  }
  int64_t after_time = 0;
  std::string after_id;
  if (!page_token.empty() && !DecodePageToken(page_token, &after_time, &after_id)) {
    return absl::InvalidArgumentError(
        "ListJobs: page_token is not one this coordinator returned; start again without it");
  }
  const std::vector<int> wanted = Distinct(states);

  std::string sql = absl::StrCat("SELECT ", kJobColumns, " FROM jobs WHERE 1");
  if (!wanted.empty()) absl::StrAppend(&sql, " AND state", InList(wanted.size()));
  if (kind != 0) absl::StrAppend(&sql, " AND kind = ?");
  if (!page_token.empty()) {
    absl::StrAppend(&sql, " AND (create_time_us < ? OR (create_time_us = ? AND job_id < ?))");
  }
  absl::StrAppend(&sql, " ORDER BY create_time_us DESC, job_id DESC LIMIT ?");

  absl::MutexLock lock(&mu_);
  absl::StatusOr<Statement> stmt = Statement::Prepare(db_, sql);
  if (!stmt.ok()) return stmt.status();
  for (int state : wanted) stmt->Int(state);
  if (kind != 0) stmt->Int(kind);
  if (!page_token.empty()) stmt->Int(after_time).Int(after_time).Text(after_id);
  // One more than the page: whether another page follows.
  stmt->Int(int64_t{page_size} + 1);
  absl::StatusOr<std::vector<StoredJob>> jobs = ReadJobs(*stmt, "ListJobs");
  if (!jobs.ok()) return jobs.status();

  JobPage page;
  page.jobs = *std::move(jobs);
  if (page.jobs.size() > static_cast<size_t>(page_size)) {
    page.jobs.resize(static_cast<size_t>(page_size));
    page.next_page_token =
        EncodePageToken(page.jobs.back().create_time_us, page.jobs.back().job_id);
  }
  return page;
}

absl::StatusOr<std::vector<StoredJob>> JobStore::JobsInStates(
    const std::vector<int>& states) const {
  const std::vector<int> wanted = Distinct(states);
  if (wanted.empty()) return std::vector<StoredJob>();
  absl::MutexLock lock(&mu_);
  absl::StatusOr<Statement> stmt = Statement::Prepare(
      db_, absl::StrCat("SELECT ", kJobColumns, " FROM jobs WHERE state", InList(wanted.size()),
                        " ORDER BY create_time_us, job_id"));
  if (!stmt.ok()) return stmt.status();
  for (int state : wanted) stmt->Int(state);
  return ReadJobs(*stmt, "JobsInStates");
}

absl::StatusOr<int64_t> JobStore::AddEvaluation(const StoredEvaluation& evaluation) {
  absl::MutexLock lock(&mu_);
  // One write transaction from the checks to the insert: no other
  // connection can take the same index or insert the same hash in between.
  absl::StatusOr<Transaction> transaction = Transaction::Begin(db_);
  if (!transaction.ok()) return transaction.status();

  absl::StatusOr<Statement> job = Statement::Prepare(db_, "SELECT 1 FROM jobs WHERE job_id = ?");
  if (!job.ok()) return job.status();
  absl::StatusOr<bool> job_exists = job->Text(evaluation.job_id).Step("AddEvaluation");
  if (!job_exists.ok()) return job_exists.status();
  if (!*job_exists) {
    return absl::NotFoundError(
        absl::StrCat("AddEvaluation: job ", evaluation.job_id, " not found"));
  }

  absl::StatusOr<Statement> same = Statement::Prepare(
      db_,
      "SELECT evaluation_index FROM evaluations WHERE job_id = ? AND phase = ? AND "
      "config_hash = ?");
  if (!same.ok()) return same.status();
  same->Text(evaluation.job_id).Text(evaluation.phase).Text(evaluation.config_hash);
  absl::StatusOr<bool> recorded = same->Step("AddEvaluation");
  if (!recorded.ok()) return recorded.status();
  if (*recorded) {
    return absl::AlreadyExistsError(absl::StrCat(
        "job ", evaluation.job_id, " already has configuration ", evaluation.config_hash,
        " in phase ", evaluation.phase, " (evaluation ", same->ColumnInt(0), ")"));
  }

  // The job's count + 1; MAX rather than COUNT keeps indices unique even if
  // rows were ever removed by hand.
  absl::StatusOr<Statement> last = Statement::Prepare(
      db_, "SELECT COALESCE(MAX(evaluation_index), 0) FROM evaluations WHERE job_id = ?");
  if (!last.ok()) return last.status();
  absl::StatusOr<bool> row = last->Text(evaluation.job_id).Step("AddEvaluation");
  if (!row.ok()) return row.status();
  const int64_t index = (*row ? last->ColumnInt(0) : 0) + 1;

  absl::StatusOr<Statement> insert = Statement::Prepare(
      db_,
      absl::StrCat("INSERT INTO evaluations (", kEvaluationColumns, ") VALUES (?, ?, ?, ?, ?, ?)"));
  if (!insert.ok()) return insert.status();
  insert->Text(evaluation.job_id).Int(index).Text(evaluation.config_hash).Text(evaluation.phase);
  insert->Text(evaluation.assignment_key).Blob(evaluation.point);
  absl::Status status = insert->Run("AddEvaluation");
  if (!status.ok()) return status;
  status = transaction->Commit();
  if (!status.ok()) return status;
  return index;
}

absl::Status JobStore::UpdateEvaluationPoint(const std::string& job_id, const std::string& phase,
                                             const std::string& config_hash,
                                             const std::string& point) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<Statement> stmt = Statement::Prepare(
      db_, "UPDATE evaluations SET point = ? WHERE job_id = ? AND phase = ? AND config_hash = ?");
  if (!stmt.ok()) return stmt.status();
  stmt->Blob(point).Text(job_id).Text(phase).Text(config_hash);
  return UpdateOne(db_, *stmt, "UpdateEvaluationPoint",
                   absl::StrCat("job ", job_id, " has no evaluation of configuration ", config_hash,
                                " in phase ", phase));
}

absl::StatusOr<std::vector<StoredEvaluation>> JobStore::Evaluations(const std::string& job_id,
                                                                    const std::string& phase,
                                                                    int64_t offset,
                                                                    int64_t limit) const {
  if (offset < 0 || limit < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("Evaluations: offset ", offset, " and limit ", limit, " must be >= 0"));
  }
  std::string sql =
      absl::StrCat("SELECT ", kEvaluationColumns, " FROM evaluations WHERE job_id = ?");
  if (!phase.empty()) absl::StrAppend(&sql, " AND phase = ?");
  absl::StrAppend(&sql, " ORDER BY evaluation_index LIMIT ? OFFSET ?");

  absl::MutexLock lock(&mu_);
  absl::StatusOr<Statement> stmt = Statement::Prepare(db_, sql);
  if (!stmt.ok()) return stmt.status();
  stmt->Text(job_id);
  if (!phase.empty()) stmt->Text(phase);
  stmt->Int(limit == 0 ? -1 : limit).Int(offset);  // LIMIT -1: no limit
  std::vector<StoredEvaluation> evaluations;
  while (true) {
    absl::StatusOr<bool> row = stmt->Step("Evaluations");
    if (!row.ok()) return row.status();
    if (!*row) return evaluations;
    evaluations.push_back(ReadEvaluation(*stmt));
  }
}

absl::StatusOr<int64_t> JobStore::CountEvaluations(const std::string& job_id,
                                                   const std::string& phase) const {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<Statement> stmt = Statement::Prepare(
      db_, phase.empty() ? "SELECT count(*) FROM evaluations WHERE job_id = ?"
                         : "SELECT count(*) FROM evaluations WHERE job_id = ? AND phase = ?");
  if (!stmt.ok()) return stmt.status();
  stmt->Text(job_id);
  if (!phase.empty()) stmt->Text(phase);
  absl::StatusOr<bool> row = stmt->Step("CountEvaluations");
  if (!row.ok()) return row.status();
  return *row ? stmt->ColumnInt(0) : 0;
}

absl::Status JobStore::PutCached(const std::string& key, const std::string& value) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<Statement> stmt = Statement::Prepare(
      db_, "INSERT INTO cache (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING");
  if (!stmt.ok()) return stmt.status();
  return stmt->Blob(key).Blob(value).Run("PutCached");
}

absl::StatusOr<std::optional<std::string>> JobStore::GetCached(const std::string& key) const {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<Statement> stmt = Statement::Prepare(db_, "SELECT value FROM cache WHERE key = ?");
  if (!stmt.ok()) return stmt.status();
  absl::StatusOr<bool> row = stmt->Blob(key).Step("GetCached");
  if (!row.ok()) return row.status();
  if (!*row) return std::optional<std::string>();
  return std::optional<std::string>(stmt->ColumnBytes(0));
}

}  // namespace transaxx::coordinator
