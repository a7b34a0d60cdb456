// Store: the ingestion side (campaign files -> campaigns and their jobs).
//
// A job is (campaign id, broadcast name, occurrence): jobs hang off the campaigns row
// of their id, whatever file carries it. campaign_files says what the folder shows; a
// file row whose status is not removed has campaign_ref set exactly when the file
// holds that campaign (campaigns.file names it).

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "core/time_format.h"
#include "store/sql_access.h"

namespace broadcastd {

namespace {

using JobKey = std::pair<std::string, std::string>;  // (broadcast, occurrence)

// True when every attempt of job `j` was answered in a way that proves it was not
// applied (outcome retry or next_day): such a job may still follow its file. A job
// never attempted qualifies; one in flight or with any other outcome does not.
constexpr char kProvenUnapplied[] =
    "NOT EXISTS (SELECT 1 FROM attempts a WHERE a.job_id = j.id AND "
    "(a.outcome IS NULL OR a.outcome NOT IN ('retry', 'next_day')))";

struct ExistingJob {
  int64_t id = 0;
  JobState state = JobState::kScheduled;
  bool cancelled_by_file = false;
  bool proven_unapplied = true;
  TimePoint due;
};

JobState StateByDue(TimePoint due, TimePoint now) {
  return due <= now ? JobState::kReady : JobState::kScheduled;
}

std::string StateText(JobState state) { return std::string(JobStateName(state)); }

void InsertJob(sql::Connection& db, int64_t campaign_ref, const std::string& campaign_id,
               const Store::JobSpec& spec, TimePoint now) {
  CachedStatement insert(db,
                         "INSERT INTO jobs (campaign_ref, campaign_id, broadcast, occurrence, "
                         "app, target, body, state, due, expires, priority, attempts, "
                         "created_at, updated_at) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)");
  insert->bind(1, campaign_ref);
  insert->bind(2, campaign_id);
  insert->bind(3, spec.broadcast);
  insert->bind(4, spec.occurrence);
  insert->bind(5, spec.app);
  insert->bind(6, std::string(TargetName(spec.target)));
  insert->bind(7, spec.body);
  insert->bind(8, StateText(StateByDue(spec.due, now)));
  insert->bind(9, ToMillis(spec.due));
  BindOptional(*insert, 10, spec.expires);
  insert->bind(11, spec.priority);
  insert->bind(12, ToMillis(now));
  insert->bind(13, ToMillis(now));
  insert->exec();
}

// Brings a job that may still follow its file in line with its spec; updated_at moves
// only when something did change. A spec due "as soon as allowed" keeps the job's
// earlier due: a newer copy of the file (a move, an edit) must not push it back.
// A retried job keeps its not_before (the server's Retry-After) and its last error.
// Its deadline follows the due it keeps (JobSpec::max_delay).
void UpdateJob(sql::Connection& db, const ExistingJob& job, const std::string& campaign_id,
               const Store::JobSpec& spec, TimePoint now) {
  TimePoint due = spec.due_is_default ? std::min(spec.due, job.due) : spec.due;
  std::optional<TimePoint> expires = spec.expires;
  if (spec.max_delay && expires) expires = std::min(*expires, due + *spec.max_delay);
  CachedStatement update(
      db,
      "UPDATE jobs SET campaign_id = ?1, app = ?2, target = ?3, body = ?4, state = ?5, due = ?6, "
      "expires = ?7, priority = ?8, cancelled_by = NULL, updated_at = ?9, "
      "last_error = CASE WHEN state = 'cancelled' THEN NULL ELSE last_error END "
      "WHERE id = ?10 AND (campaign_id IS DISTINCT FROM ?1 OR app IS DISTINCT FROM ?2 OR target IS "
      "DISTINCT FROM ?3 OR "
      "body IS DISTINCT FROM ?4 OR state IS DISTINCT FROM ?5 OR due IS DISTINCT FROM ?6 OR expires "
      "IS DISTINCT FROM ?7 OR "
      "priority IS DISTINCT FROM ?8 OR cancelled_by IS NOT NULL)");
  update->bind(1, campaign_id);
  update->bind(2, spec.app);
  update->bind(3, std::string(TargetName(spec.target)));
  update->bind(4, spec.body);
  update->bind(5, StateText(StateByDue(due, now)));
  update->bind(6, ToMillis(due));
  BindOptional(*update, 7, expires);
  update->bind(8, spec.priority);
  update->bind(9, ToMillis(now));
  update->bind(10, job.id);
  update->exec();
}

void CancelForFile(sql::Connection& db, int64_t job_id, const std::string& reason, TimePoint now) {
  sql::Statement cancel(db,
                        "UPDATE jobs SET state = 'cancelled', cancelled_by = 'file', "
                        "last_error = ?, updated_at = ? WHERE id = ?");
  cancel.bind(1, reason);
  cancel.bind(2, ToMillis(now));
  cancel.bind(3, job_id);
  cancel.exec();
}

// Cancels the campaign's queued jobs that no attempt may have reached. Returns how many.
int CancelPending(sql::Connection& db, int64_t campaign_ref, const std::string& reason,
                  TimePoint now) {
  sql::Statement cancel(db, std::string("UPDATE jobs AS j SET state = 'cancelled', "
                                        "cancelled_by = 'file', last_error = ?, "
                                        "updated_at = ? WHERE campaign_ref = ? AND "
                                        "state IN ('scheduled', 'ready') AND ") +
                                kProvenUnapplied);
  cancel.bind(1, reason);
  cancel.bind(2, ToMillis(now));
  cancel.bind(3, campaign_ref);
  return cancel.exec();
}

std::map<JobKey, ExistingJob> ExistingJobs(sql::Connection& db, int64_t campaign_ref) {
  static const std::string sql =
      std::string("SELECT j.id, j.broadcast, j.occurrence, j.state, j.cancelled_by, j.due, ") +
      kProvenUnapplied + " FROM jobs j WHERE j.campaign_ref = ?";
  CachedStatement q(db, sql.c_str());
  q->bind(1, campaign_ref);
  std::map<JobKey, ExistingJob> jobs;
  while (q->executeStep()) {
    ExistingJob job;
    job.id = q->getColumn(0).getInt64();
    job.state = StateOf(q->getColumn(3));
    job.cancelled_by_file = TextOrEmpty(q->getColumn(4)) == "file";
    job.due = Time(q->getColumn(5));
    job.proven_unapplied = q->getColumn(6).getInt() != 0;
    jobs.emplace(JobKey{q->getColumn(1).getString(), q->getColumn(2).getString()}, job);
  }
  return jobs;
}

// A job the ingestion may still rewrite: no attempt may have reached the server, and it
// is queued or was cancelled only because a file dropped it.
bool Rewritable(const ExistingJob& job) {
  return job.proven_unapplied &&
         (IsQueued(job.state) || (job.state == JobState::kCancelled && job.cancelled_by_file));
}

// Whether a job without a spec lies in the range the specs cover.
bool Covered(const std::string& occurrence, const ExistingJob& job, TimePoint covered_from) {
  if (occurrence == "once") return true;
  Result<TimePoint> at = ParseRfc3339(occurrence);
  return (at ? *at : job.due) >= covered_from;
}

Status CheckDistinct(const std::vector<Store::JobSpec>& specs) {
  std::set<JobKey> seen;
  for (const Store::JobSpec& spec : specs) {
    if (!seen.emplace(spec.broadcast, spec.occurrence).second) {
      return Fail(ErrorKind::kInvalid,
                  "two jobs for broadcast '" + spec.broadcast + "' occurrence " + spec.occurrence);
    }
  }
  return {};
}

struct FileState {
  CampaignStatus status = CampaignStatus::kOk;
  std::string content_hash;
  std::string last_error;
};

std::optional<FileState> FindFile(sql::Connection& db, const std::string& file) {
  CachedStatement q(db,
                    "SELECT status, content_hash, last_error FROM campaign_files WHERE file = ?");
  q->bind(1, file);
  if (!q->executeStep()) return std::nullopt;
  FileState f;
  std::string status = q->getColumn(0).getString();
  auto parsed = ParseCampaignStatus(status);
  if (!parsed) throw CorruptRow("unknown campaign file status '" + status + "'");
  f.status = *parsed;
  f.content_hash = q->getColumn(1).getString();
  f.last_error = TextOrEmpty(q->getColumn(2));
  return f;
}

struct CampaignState {
  int64_t id = 0;
  std::optional<std::string> file;  // the file that holds it
};

std::optional<CampaignState> FindCampaignById(sql::Connection& db, const std::string& campaign_id) {
  CachedStatement q(db, "SELECT id, file FROM campaigns WHERE campaign_id = ?");
  q->bind(1, campaign_id);
  if (!q->executeStep()) return std::nullopt;
  return CampaignState{q->getColumn(0).getInt64(), OptionalText(q->getColumn(1))};
}

// The campaign the file holds, with its id.
std::optional<std::pair<int64_t, std::string>> HeldBy(sql::Connection& db,
                                                      const std::string& file) {
  CachedStatement q(db, "SELECT id, campaign_id FROM campaigns WHERE file = ?");
  q->bind(1, file);
  if (!q->executeStep()) return std::nullopt;
  return std::pair{q->getColumn(0).getInt64(), TextOrEmpty(q->getColumn(1))};
}

// Records what the folder shows for `file`. For any status but removed, campaign_ref
// becomes the campaign the file holds (none for a file that holds none); a removed
// file keeps the campaign it carried last, for --status.
void BindFacts(sql::Statement& statement, int first, const Store::FileFacts& facts) {
  if (facts.stamp) {
    statement.bind(first, static_cast<int64_t>(facts.stamp->device));
    statement.bind(first + 1, static_cast<int64_t>(facts.stamp->inode));
    statement.bind(first + 2, facts.stamp->size);
    statement.bind(first + 3, facts.stamp->mtime_ns);
    statement.bind(first + 4, facts.stamp->ctime_ns);
  } else {
    for (int i = 0; i < 5; ++i) statement.bind(first + i);
  }
  statement.bind(first + 5, facts.repeats ? 1 : 0);
  statement.bind(first + 6, facts.recheck ? 1 : 0);
}

// Records what the folder shows for `file`, with its facts (none for a refused or removed
// file: it is looked at again). For any status but removed, campaign_ref becomes the
// campaign the file holds (none for a file that holds none); a removed file keeps the
// campaign it carried last, for --status.
void SetFileStatus(sql::Connection& db, const std::string& file, CampaignStatus status,
                   const std::optional<std::string>& content_hash,
                   const std::optional<std::string>& error, TimePoint now,
                   const Store::FileFacts& facts = {}) {
  CachedStatement upsert(
      db,
      "INSERT INTO campaign_files (file, status, campaign_ref, content_hash, last_error, "
      "updated_at, stat_dev, stat_ino, stat_size, stat_mtime_ns, stat_ctime_ns, repeats, "
      "recheck) VALUES (?1, ?2, (SELECT id FROM campaigns WHERE file = ?1), "
      "COALESCE(?3, ''), ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) "
      "ON CONFLICT (file) DO UPDATE SET status = excluded.status, "
      "campaign_ref = CASE WHEN excluded.status = 'removed' THEN campaign_files.campaign_ref "
      "ELSE excluded.campaign_ref END, content_hash = COALESCE(?3, campaign_files.content_hash), "
      "last_error = excluded.last_error, updated_at = excluded.updated_at, "
      "stat_dev = ?6, stat_ino = ?7, stat_size = ?8, stat_mtime_ns = ?9, stat_ctime_ns = ?10, "
      "repeats = ?11, recheck = ?12");
  upsert->bind(1, file);
  upsert->bind(2, std::string(CampaignStatusName(status)));
  BindOptional(*upsert, 3, content_hash);
  BindOptional(*upsert, 4, error);
  upsert->bind(5, ToMillis(now));
  BindFacts(*upsert, 6, facts);
  upsert->exec();
}

void UpdateFacts(sql::Connection& db, const std::string& file, const Store::FileFacts& facts) {
  CachedStatement update(
      db,
      "UPDATE campaign_files SET stat_dev = ?1, stat_ino = ?2, "
      "stat_size = ?3, stat_mtime_ns = ?4, stat_ctime_ns = ?5, "
      "repeats = ?6, recheck = ?7 WHERE file = ?8 AND (stat_dev IS DISTINCT FROM ?1 "
      "OR stat_ino IS DISTINCT FROM ?2 OR stat_size IS DISTINCT FROM ?3 OR stat_mtime_ns "
      "IS DISTINCT FROM ?4 OR stat_ctime_ns IS DISTINCT FROM ?5 OR repeats IS DISTINCT FROM ?6 OR "
      "recheck "
      "IS DISTINCT FROM ?7)");
  BindFacts(*update, 1, facts);
  update->bind(8, file);
  update->exec();
}

void SetHolder(sql::Connection& db, int64_t campaign_ref, const std::optional<std::string>& file,
               TimePoint now) {
  CachedStatement update(db, "UPDATE campaigns SET file = ?, updated_at = ? WHERE id = ?");
  BindOptional(*update, 1, file);
  update->bind(2, ToMillis(now));
  update->bind(3, campaign_ref);
  update->exec();
}

// Points the campaign `campaign_id` at `file`, creating it if new, and returns its row id.
int64_t HoldCampaign(sql::Connection& db, const Store::CampaignFile& file,
                     const std::optional<CampaignState>& identity, TimePoint now) {
  if (identity) {
    CachedStatement update(db,
                           "UPDATE campaigns SET file = ?, app = ?, priority = ?, "
                           "updated_at = ? WHERE id = ?");
    update->bind(1, file.file);
    update->bind(2, file.app);
    update->bind(3, file.priority);
    update->bind(4, ToMillis(now));
    update->bind(5, identity->id);
    update->exec();
    return identity->id;
  }
  CachedStatement insert(db,
                         "INSERT INTO campaigns (campaign_id, file, app, priority, updated_at) "
                         "VALUES (?, ?, ?, ?, ?) RETURNING id");
  insert->bind(1, file.campaign_id);
  insert->bind(2, file.file);
  insert->bind(3, file.app);
  insert->bind(4, file.priority);
  insert->bind(5, ToMillis(now));
  insert->executeStep();
  return insert->getColumn(0).getInt64();
}

void ApplyJobs(sql::Connection& db, int64_t ref, const Store::CampaignFile& file,
               const std::vector<Store::JobSpec>& jobs, TimePoint covered_from, TimePoint now) {
  std::map<JobKey, ExistingJob> current = ExistingJobs(db, ref);
  std::set<JobKey> specified;
  for (const Store::JobSpec& spec : jobs) {
    JobKey key{spec.broadcast, spec.occurrence};
    specified.insert(key);
    auto found = current.find(key);
    if (found == current.end()) {
      InsertJob(db, ref, file.campaign_id, spec, now);
    } else if (Rewritable(found->second)) {
      UpdateJob(db, found->second, file.campaign_id, spec, now);
    }
  }
  for (const auto& [key, job] : current) {
    if (specified.contains(key) || !job.proven_unapplied || !IsQueued(job.state)) continue;
    if (Covered(key.second, job, covered_from)) {
      CancelForFile(db, job.id, "no longer in campaign " + file.campaign_id, now);
    }
  }
}

}  // namespace

Result<Store::ApplyEffect> Store::ApplyCampaign(const CampaignFile& file,
                                                const std::vector<JobSpec>& jobs,
                                                TimePoint covered_from, TimePoint now) {
  return Write("apply campaign " + file.file, [&]() -> Result<ApplyEffect> {
    sql::Connection& db = *db_;
    std::optional<FileState> existing = FindFile(db, file.file);
    if (existing && existing->status == CampaignStatus::kOk &&
        existing->content_hash == file.content_hash) {
      UpdateFacts(db, file.file, file.facts);
      return ApplyEffect::kUnchanged;
    }
    if (Status distinct = CheckDistinct(jobs); !distinct) {
      return Fail(ErrorKind::kInvalid,
                  "campaign file " + file.file + ": " + distinct.error().message);
    }
    std::optional<CampaignState> identity = FindCampaignById(db, file.campaign_id);
    const bool held_elsewhere = identity && identity->file && *identity->file != file.file;
    const bool moved = held_elsewhere && !file.replaces.empty() && *identity->file == file.replaces;
    if (held_elsewhere && !moved) {
      return Fail(ErrorKind::kConflict, "campaign file " + file.file + ": campaign id '" +
                                            file.campaign_id + "' is already used by " +
                                            *identity->file);
    }
    if (moved) {
      SetHolder(db, identity->id, std::nullopt, now);
      SetFileStatus(db, file.replaces, CampaignStatus::kRemoved, std::nullopt, std::nullopt, now);
    }
    // The file carried another campaign: that one has no file any more.
    if (auto held = HeldBy(db, file.file); held && (!identity || held->first != identity->id)) {
      CancelPending(db, held->first,
                    "campaign " + held->second + " is no longer in campaign file " + file.file,
                    now);
      SetHolder(db, held->first, std::nullopt, now);
    }
    const bool created = !identity || (!identity->file && !moved);
    const int64_t ref = HoldCampaign(db, file, identity, now);
    SetFileStatus(db, file.file, CampaignStatus::kOk, file.content_hash, std::nullopt, now,
                  file.facts);
    ApplyJobs(db, ref, file, jobs, covered_from, now);
    if (created && adopt_) AdoptIfAdopting(db, ref, now);
    if (moved) return ApplyEffect::kMoved;
    return created ? ApplyEffect::kCreated : ApplyEffect::kUpdated;
  });
}

Result<int> Store::AddMissingJobs(const std::string& file, const std::vector<JobSpec>& jobs,
                                  TimePoint now) {
  return Write("add jobs for " + file, [&]() -> Result<int> {
    sql::Connection& db = *db_;
    std::optional<FileState> state = FindFile(db, file);
    if (!state) return Fail(ErrorKind::kNotFound, "campaign file " + file + " is not known");
    auto held = HeldBy(db, file);
    if (state->status != CampaignStatus::kOk || !held) {
      return Fail(ErrorKind::kConflict, "campaign file " + file + " is " +
                                            std::string(CampaignStatusName(state->status)) +
                                            "; no jobs added");
    }
    std::map<JobKey, ExistingJob> current = ExistingJobs(db, held->first);
    int inserted = 0;
    for (const JobSpec& spec : jobs) {
      JobKey key{spec.broadcast, spec.occurrence};
      if (current.contains(key)) continue;
      InsertJob(db, held->first, held->second, spec, now);
      current.emplace(key, ExistingJob{});
      ++inserted;
    }
    return inserted;
  });
}

Result<bool> Store::RejectCampaign(const std::string& file, const std::string& content_hash,
                                   const std::string& error, TimePoint now,
                                   const FileFacts& facts) {
  return Write("reject campaign " + file, [&]() -> Result<bool> {
    sql::Connection& db = *db_;
    std::optional<FileState> state = FindFile(db, file);
    if (state && state->status == CampaignStatus::kRejected &&
        state->content_hash == content_hash && state->last_error == error) {
      UpdateFacts(db, file, facts);
      return false;
    }
    SetFileStatus(db, file, CampaignStatus::kRejected, content_hash, error, now, facts);
    return true;
  });
}

Status Store::SetFileFacts(const std::string& file, const FileFacts& facts) {
  return Write("record campaign file " + file, [&]() -> Status {
    sql::Connection& db = *db_;
    std::optional<FileState> state = FindFile(db, file);
    if (!state) return Fail(ErrorKind::kNotFound, "campaign file " + file + " is not known");
    if (state->status == CampaignStatus::kRemoved || state->status == CampaignStatus::kRefused) {
      return Fail(ErrorKind::kConflict, "campaign file " + file + " is " +
                                            std::string(CampaignStatusName(state->status)));
    }
    UpdateFacts(db, file, facts);
    return {};
  });
}

Result<bool> Store::RefuseFile(const std::string& file, const std::string& reason, TimePoint now) {
  return Write("refuse campaign file " + file, [&]() -> Result<bool> {
    sql::Connection& db = *db_;
    std::optional<FileState> state = FindFile(db, file);
    if (state && state->status == CampaignStatus::kRefused && state->last_error == reason) {
      return false;
    }
    SetFileStatus(db, file, CampaignStatus::kRefused, std::nullopt, reason, now);
    return true;
  });
}

Result<int> Store::RemoveCampaign(const std::string& file, TimePoint now) {
  return Write("remove campaign " + file, [&]() -> Result<int> {
    sql::Connection& db = *db_;
    std::optional<FileState> state = FindFile(db, file);
    if (!state || state->status == CampaignStatus::kRemoved) return 0;
    int cancelled = 0;
    if (auto held = HeldBy(db, file)) {
      cancelled = CancelPending(db, held->first, "campaign file " + file + " was removed", now);
      SetHolder(db, held->first, std::nullopt, now);
    }
    SetFileStatus(db, file, CampaignStatus::kRemoved, std::nullopt, std::nullopt, now);
    return cancelled;
  });
}

Result<std::vector<CampaignRow>> Store::Campaigns() {
  return Read("list campaigns", [&]() -> Result<std::vector<CampaignRow>> {
    sql::Statement q(*db_,
                     "SELECT f.campaign_ref, f.file, c.campaign_id, f.content_hash, f.status, "
                     "f.last_error, c.app, c.priority, f.updated_at FROM campaign_files f "
                     "LEFT JOIN campaigns c ON c.id = f.campaign_ref ORDER BY f.file");
    std::vector<CampaignRow> rows;
    while (q.executeStep()) {
      CampaignRow row;
      row.id = OptionalInt64(q.getColumn(0)).value_or(0);
      row.file = q.getColumn(1).getString();
      row.campaign_id = TextOrEmpty(q.getColumn(2));
      row.content_hash = q.getColumn(3).getString();
      std::string status = q.getColumn(4).getString();
      auto parsed = ParseCampaignStatus(status);
      if (!parsed) throw CorruptRow("unknown campaign file status '" + status + "'");
      row.status = *parsed;
      row.last_error = TextOrEmpty(q.getColumn(5));
      row.app = TextOrEmpty(q.getColumn(6));
      row.priority = OptionalInt64(q.getColumn(7)).value_or(0);
      row.updated_at = Time(q.getColumn(8));
      rows.push_back(std::move(row));
    }
    return rows;
  });
}

Result<std::vector<Store::IngestedFile>> Store::IngestedFiles() {
  return Read("list campaign files", [&]() -> Result<std::vector<IngestedFile>> {
    sql::Statement q(*db_,
                     "SELECT f.file, f.status, c.campaign_id, f.content_hash, f.last_error, "
                     "f.stat_dev, f.stat_ino, f.stat_size, f.stat_mtime_ns, f.stat_ctime_ns, "
                     "f.repeats, f.recheck FROM campaign_files f LEFT JOIN campaigns c ON "
                     "c.id = f.campaign_ref AND c.file = f.file WHERE f.status <> 'removed' "
                     "ORDER BY f.file");
    std::vector<IngestedFile> rows;
    while (q.executeStep()) {
      IngestedFile row;
      row.file = q.getColumn(0).getString();
      std::string status = q.getColumn(1).getString();
      auto parsed = ParseCampaignStatus(status);
      if (!parsed) throw CorruptRow("unknown campaign file status '" + status + "'");
      row.status = *parsed;
      row.campaign_id = TextOrEmpty(q.getColumn(2));
      row.content_hash = q.getColumn(3).getString();
      row.last_error = TextOrEmpty(q.getColumn(4));
      if (!q.getColumn(5).isNull() && !q.getColumn(6).isNull() && !q.getColumn(7).isNull() &&
          !q.getColumn(8).isNull() && !q.getColumn(9).isNull()) {
        row.facts.stamp =
            FileStamp{static_cast<uint64_t>(q.getColumn(5).getInt64()),
                      static_cast<uint64_t>(q.getColumn(6).getInt64()), q.getColumn(7).getInt64(),
                      q.getColumn(8).getInt64(), q.getColumn(9).getInt64()};
      }
      row.facts.repeats = q.getColumn(10).getInt() != 0;
      row.facts.recheck = q.getColumn(11).getInt() != 0;
      rows.push_back(std::move(row));
    }
    return rows;
  });
}

Result<std::optional<std::string>> Store::HolderOf(const std::string& campaign_id) {
  return Read("holder of " + campaign_id, [&]() -> Result<std::optional<std::string>> {
    std::optional<CampaignState> state = FindCampaignById(*db_, campaign_id);
    if (!state) return std::optional<std::string>();
    return state->file;
  });
}

Result<std::optional<std::string>> Store::CheckedUnder() {
  return Read("read ingest state", [&]() -> Result<std::optional<std::string>> {
    sql::Statement q(*db_, "SELECT value FROM ingest_state WHERE name = 'checked_under'");
    if (!q.executeStep()) return std::optional<std::string>();
    return std::optional<std::string>(q.getColumn(0).getString());
  });
}

Status Store::SetCheckedUnder(const std::string& key) {
  return Write("record ingest state", [&]() -> Status {
    sql::Statement upsert(*db_,
                          "INSERT INTO ingest_state (name, value) VALUES ('checked_under', ?) "
                          "ON CONFLICT (name) DO UPDATE SET value = excluded.value "
                          "WHERE ingest_state.value IS DISTINCT FROM excluded.value");
    upsert.bind(1, key);
    upsert.exec();
    return {};
  });
}

Status Store::BeginBatch() {
  if (mode_ == Mode::kReadOnly) {
    return Fail(ErrorKind::kIo,
                DescribeFailure(path_, "begin batch", "the database is open read-only"));
  }
  if (batch_open_)
    return Fail(ErrorKind::kInvalid,
                DescribeFailure(path_, "begin batch", "a batch is open already"));
  try {
    db_->BeginWrite();
  } catch (const std::exception& e) {
    return Fail(KindOf(e), DescribeFailure(path_, "begin batch", e.what()));
  }
  batch_open_ = true;
  return {};
}

Status Store::CommitBatch() {
  if (!batch_open_) return {};
  batch_open_ = false;
  try {
    db_->Commit();
  } catch (const std::exception& e) {
    if (StillInTransaction(*db_)) {
      try {
        db_->Rollback();
      } catch (const std::exception&) {  // rolled back by SQLite already
      }
    }
    return Fail(KindOf(e), DescribeFailure(path_, "commit batch", e.what()));
  }
  return {};
}

void Store::RollbackBatch() {
  if (!batch_open_) return;
  batch_open_ = false;
  if (!StillInTransaction(*db_)) return;
  try {
    db_->Rollback();
  } catch (const std::exception&) {  // nothing more can be undone
  }
}

Result<std::optional<TimePoint>> Store::EarliestPending(const std::string& campaign_id,
                                                        const std::string& broadcast) {
  return Read("earliest pending of " + campaign_id, [&]() -> Result<std::optional<TimePoint>> {
    sql::Statement q(*db_, std::string("SELECT MIN(j.due) FROM jobs j JOIN campaigns c ON "
                                       "c.id = j.campaign_ref WHERE c.campaign_id = ? AND "
                                       "j.broadcast = ? AND j.occurrence <> 'once' AND "
                                       "j.state IN ('scheduled', 'ready') AND ") +
                               kProvenUnapplied);
    q.bind(1, campaign_id);
    q.bind(2, broadcast);
    q.executeStep();
    return OptionalTime(q.getColumn(0));
  });
}

}  // namespace broadcastd
