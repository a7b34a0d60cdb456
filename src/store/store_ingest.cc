// Store: the ingestion side (campaign files -> campaign rows and jobs).

#include <map>
#include <set>
#include <utility>

#include "core/time_format.h"
#include "store/sqlite_access.h"

namespace broadcastd {

namespace {

using JobKey = std::pair<std::string, std::string>;  // (broadcast, occurrence)

struct ExistingJob {
  int64_t id = 0;
  JobState state = JobState::kScheduled;
  int attempts = 0;
  bool cancelled_by_file = false;
  TimePoint due;
};

JobState StateByDue(TimePoint due, TimePoint now) {
  return due <= now ? JobState::kReady : JobState::kScheduled;
}

std::string StateText(JobState state) { return std::string(JobStateName(state)); }

void InsertJob(SQLite::Database& db, int64_t campaign_ref, const std::string& campaign_id,
               const Store::JobSpec& spec, TimePoint now) {
  SQLite::Statement insert(db,
                           "INSERT INTO jobs (campaign_ref, campaign_id, broadcast, occurrence, "
                           "app, target, body, state, due, expires, priority, attempts, "
                           "created_at, updated_at) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)");
  insert.bind(1, campaign_ref);
  insert.bind(2, campaign_id);
  insert.bind(3, spec.broadcast);
  insert.bind(4, spec.occurrence);
  insert.bind(5, spec.app);
  insert.bind(6, std::string(TargetName(spec.target)));
  insert.bind(7, spec.body);
  insert.bind(8, StateText(StateByDue(spec.due, now)));
  insert.bind(9, ToMillis(spec.due));
  BindOptional(insert, 10, spec.expires);
  insert.bind(11, spec.priority);
  insert.bind(12, ToMillis(now));
  insert.bind(13, ToMillis(now));
  insert.exec();
}

// Brings a never-attempted job in line with its spec; updated_at moves only when
// something did change.
void UpdateJob(SQLite::Database& db, int64_t job_id, const std::string& campaign_id,
               const Store::JobSpec& spec, TimePoint now) {
  SQLite::Statement update(
      db,
      "UPDATE jobs SET campaign_id = ?1, app = ?2, target = ?3, body = ?4, state = ?5, due = ?6, "
      "expires = ?7, priority = ?8, cancelled_by = NULL, last_error = NULL, updated_at = ?9 "
      "WHERE id = ?10 AND (campaign_id IS NOT ?1 OR app IS NOT ?2 OR target IS NOT ?3 OR "
      "body IS NOT ?4 OR state IS NOT ?5 OR due IS NOT ?6 OR expires IS NOT ?7 OR "
      "priority IS NOT ?8 OR cancelled_by IS NOT NULL)");
  update.bind(1, campaign_id);
  update.bind(2, spec.app);
  update.bind(3, std::string(TargetName(spec.target)));
  update.bind(4, spec.body);
  update.bind(5, StateText(StateByDue(spec.due, now)));
  update.bind(6, ToMillis(spec.due));
  BindOptional(update, 7, spec.expires);
  update.bind(8, spec.priority);
  update.bind(9, ToMillis(now));
  update.bind(10, job_id);
  update.exec();
}

void CancelForFile(SQLite::Database& db, int64_t job_id, const std::string& reason, TimePoint now) {
  SQLite::Statement cancel(db,
                           "UPDATE jobs SET state = 'cancelled', cancelled_by = 'file', "
                           "last_error = ?, updated_at = ? WHERE id = ?");
  cancel.bind(1, reason);
  cancel.bind(2, ToMillis(now));
  cancel.bind(3, job_id);
  cancel.exec();
}

std::map<JobKey, ExistingJob> ExistingJobs(SQLite::Database& db, int64_t campaign_ref) {
  SQLite::Statement q(db,
                      "SELECT id, broadcast, occurrence, state, attempts, cancelled_by, due "
                      "FROM jobs WHERE campaign_ref = ?");
  q.bind(1, campaign_ref);
  std::map<JobKey, ExistingJob> jobs;
  while (q.executeStep()) {
    ExistingJob job;
    job.id = q.getColumn(0).getInt64();
    job.state = StateOf(q.getColumn(3));
    job.attempts = q.getColumn(4).getInt();
    job.cancelled_by_file = TextOrEmpty(q.getColumn(5)) == "file";
    job.due = Time(q.getColumn(6));
    jobs.emplace(JobKey{q.getColumn(1).getString(), q.getColumn(2).getString()}, job);
  }
  return jobs;
}

// A job the ingestion may still rewrite: never attempted, and either queued or cancelled
// only by an earlier version of its file.
bool Rewritable(const ExistingJob& job) {
  return job.attempts == 0 &&
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
      return Fail("two jobs for broadcast '" + spec.broadcast + "' occurrence " + spec.occurrence);
    }
  }
  return {};
}

struct CampaignState {
  int64_t id = 0;
  CampaignStatus status = CampaignStatus::kOk;
  std::string content_hash;
  std::string last_error;
};

std::optional<CampaignState> FindCampaign(SQLite::Database& db, const std::string& file) {
  SQLite::Statement q(db,
                      "SELECT id, status, content_hash, last_error FROM campaigns WHERE file = ?");
  q.bind(1, file);
  if (!q.executeStep()) return std::nullopt;
  CampaignState c;
  c.id = q.getColumn(0).getInt64();
  std::string status = q.getColumn(1).getString();
  auto parsed = ParseCampaignStatus(status);
  if (!parsed) throw CorruptRow("unknown campaign status '" + status + "'");
  c.status = *parsed;
  c.content_hash = q.getColumn(2).getString();
  c.last_error = TextOrEmpty(q.getColumn(3));
  return c;
}

}  // namespace

Result<Store::ApplyEffect> Store::ApplyCampaign(const CampaignFile& file,
                                                const std::vector<JobSpec>& jobs,
                                                TimePoint covered_from, TimePoint now) {
  return Write("apply campaign " + file.file, [&]() -> Result<ApplyEffect> {
    SQLite::Database& db = *db_;
    std::optional<CampaignState> existing = FindCampaign(db, file.file);
    if (existing && existing->status == CampaignStatus::kOk &&
        existing->content_hash == file.content_hash) {
      return ApplyEffect::kUnchanged;
    }
    if (Status distinct = CheckDistinct(jobs); !distinct) {
      return Fail("campaign file " + file.file + ": " + distinct.error().message);
    }
    SQLite::Statement other(db,
                            "SELECT file FROM campaigns WHERE campaign_id = ? AND "
                            "status <> 'removed' AND file <> ?");
    other.bind(1, file.campaign_id);
    other.bind(2, file.file);
    if (other.executeStep()) {
      return Fail("campaign file " + file.file + ": campaign id '" + file.campaign_id +
                  "' is already used by " + other.getColumn(0).getString());
    }

    int64_t ref = 0;
    if (existing) {
      SQLite::Statement update(db,
                               "UPDATE campaigns SET campaign_id = ?, content_hash = ?, "
                               "status = 'ok', last_error = NULL, priority = ?, app = ?, "
                               "updated_at = ? WHERE id = ?");
      update.bind(1, file.campaign_id);
      update.bind(2, file.content_hash);
      update.bind(3, file.priority);
      update.bind(4, file.app);
      update.bind(5, ToMillis(now));
      update.bind(6, existing->id);
      update.exec();
      ref = existing->id;
    } else {
      SQLite::Statement insert(db,
                               "INSERT INTO campaigns (file, campaign_id, content_hash, status, "
                               "priority, app, updated_at) VALUES (?, ?, ?, 'ok', ?, ?, ?)");
      insert.bind(1, file.file);
      insert.bind(2, file.campaign_id);
      insert.bind(3, file.content_hash);
      insert.bind(4, file.priority);
      insert.bind(5, file.app);
      insert.bind(6, ToMillis(now));
      insert.exec();
      ref = db.getLastInsertRowid();
    }

    std::map<JobKey, ExistingJob> current = ExistingJobs(db, ref);
    std::set<JobKey> specified;
    for (const JobSpec& spec : jobs) {
      JobKey key{spec.broadcast, spec.occurrence};
      specified.insert(key);
      auto found = current.find(key);
      if (found == current.end()) {
        InsertJob(db, ref, file.campaign_id, spec, now);
      } else if (Rewritable(found->second)) {
        UpdateJob(db, found->second.id, file.campaign_id, spec, now);
      }
    }
    for (const auto& [key, job] : current) {
      if (specified.contains(key) || job.attempts != 0 || !IsQueued(job.state)) continue;
      if (Covered(key.second, job, covered_from)) {
        CancelForFile(db, job.id, "no longer in campaign file " + file.file, now);
      }
    }
    bool created = !existing || existing->status == CampaignStatus::kRemoved;
    return created ? ApplyEffect::kCreated : ApplyEffect::kUpdated;
  });
}

Result<int> Store::AddMissingJobs(const std::string& file, const std::vector<JobSpec>& jobs,
                                  TimePoint now) {
  return Write("add jobs for " + file, [&]() -> Result<int> {
    SQLite::Database& db = *db_;
    std::optional<CampaignState> campaign = FindCampaign(db, file);
    if (!campaign) return Fail("campaign file " + file + " is not known");
    if (campaign->status != CampaignStatus::kOk) {
      return Fail("campaign file " + file + " is " +
                  std::string(CampaignStatusName(campaign->status)) + "; no jobs added");
    }
    SQLite::Statement id_query(db, "SELECT campaign_id FROM campaigns WHERE id = ?");
    id_query.bind(1, campaign->id);
    id_query.executeStep();
    std::string campaign_id = TextOrEmpty(id_query.getColumn(0));

    std::map<JobKey, ExistingJob> current = ExistingJobs(db, campaign->id);
    int inserted = 0;
    for (const JobSpec& spec : jobs) {
      JobKey key{spec.broadcast, spec.occurrence};
      if (current.contains(key)) continue;
      InsertJob(db, campaign->id, campaign_id, spec, now);
      current.emplace(key, ExistingJob{});
      ++inserted;
    }
    return inserted;
  });
}

Result<bool> Store::RejectCampaign(const std::string& file, const std::string& content_hash,
                                   const std::string& error, TimePoint now) {
  return Write("reject campaign " + file, [&]() -> Result<bool> {
    SQLite::Database& db = *db_;
    std::optional<CampaignState> campaign = FindCampaign(db, file);
    if (!campaign) {
      SQLite::Statement insert(db,
                               "INSERT INTO campaigns (file, campaign_id, content_hash, status, "
                               "last_error, updated_at) VALUES (?, NULL, ?, 'rejected', ?, ?)");
      insert.bind(1, file);
      insert.bind(2, content_hash);
      insert.bind(3, error);
      insert.bind(4, ToMillis(now));
      insert.exec();
      return true;
    }
    if (campaign->status == CampaignStatus::kRejected && campaign->content_hash == content_hash &&
        campaign->last_error == error) {
      return false;
    }
    // A removed file coming back invalid has no live jobs: it gives up its campaign id,
    // which another file may have taken meanwhile.
    SQLite::Statement update(db,
                             "UPDATE campaigns SET status = 'rejected', content_hash = ?, "
                             "last_error = ?, updated_at = ?, "
                             "campaign_id = CASE status WHEN 'removed' THEN NULL "
                             "ELSE campaign_id END WHERE id = ?");
    update.bind(1, content_hash);
    update.bind(2, error);
    update.bind(3, ToMillis(now));
    update.bind(4, campaign->id);
    update.exec();
    return true;
  });
}

Result<int> Store::RemoveCampaign(const std::string& file, TimePoint now) {
  return Write("remove campaign " + file, [&]() -> Result<int> {
    SQLite::Database& db = *db_;
    std::optional<CampaignState> campaign = FindCampaign(db, file);
    if (!campaign || campaign->status == CampaignStatus::kRemoved) return 0;
    SQLite::Statement cancel(db,
                             "UPDATE jobs SET state = 'cancelled', cancelled_by = 'file', "
                             "last_error = ?, updated_at = ? WHERE campaign_ref = ? AND "
                             "attempts = 0 AND state IN ('scheduled', 'ready')");
    cancel.bind(1, "campaign file " + file + " was removed");
    cancel.bind(2, ToMillis(now));
    cancel.bind(3, campaign->id);
    int cancelled = cancel.exec();
    SQLite::Statement update(db,
                             "UPDATE campaigns SET status = 'removed', updated_at = ? "
                             "WHERE id = ?");
    update.bind(1, ToMillis(now));
    update.bind(2, campaign->id);
    update.exec();
    return cancelled;
  });
}

Result<std::vector<CampaignRow>> Store::Campaigns() {
  return Read("list campaigns", [&]() -> Result<std::vector<CampaignRow>> {
    SQLite::Statement q(*db_,
                        "SELECT id, file, campaign_id, content_hash, status, last_error, app, "
                        "priority, updated_at FROM campaigns ORDER BY file");
    std::vector<CampaignRow> rows;
    while (q.executeStep()) {
      CampaignRow row;
      row.id = q.getColumn(0).getInt64();
      row.file = q.getColumn(1).getString();
      row.campaign_id = TextOrEmpty(q.getColumn(2));
      row.content_hash = q.getColumn(3).getString();
      std::string status = q.getColumn(4).getString();
      auto parsed = ParseCampaignStatus(status);
      if (!parsed) throw CorruptRow("unknown campaign status '" + status + "'");
      row.status = *parsed;
      row.last_error = TextOrEmpty(q.getColumn(5));
      row.app = q.getColumn(6).getString();
      row.priority = q.getColumn(7).getInt64();
      row.updated_at = Time(q.getColumn(8));
      rows.push_back(std::move(row));
    }
    return rows;
  });
}

Result<std::optional<TimePoint>> Store::EarliestPending(const std::string& file,
                                                        const std::string& broadcast) {
  return Read("earliest pending of " + file, [&]() -> Result<std::optional<TimePoint>> {
    SQLite::Statement q(*db_,
                        "SELECT MIN(j.due) FROM jobs j JOIN campaigns c ON c.id = j.campaign_ref "
                        "WHERE c.file = ? AND j.broadcast = ? AND j.occurrence <> 'once' AND "
                        "j.attempts = 0 AND j.state IN ('scheduled', 'ready')");
    q.bind(1, file);
    q.bind(2, broadcast);
    q.executeStep();
    return OptionalTime(q.getColumn(0));
  });
}

}  // namespace broadcastd
