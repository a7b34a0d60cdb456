// Store: the lean reads of --status, --history and the metrics. None selects a message
// body; each is an index range or an index-only scan (schema version 6), so they stay
// fast and small at a million jobs.

#include <limits>
#include <utility>

#include "store/sql_access.h"

namespace broadcastd {

namespace {

// kJobColumns with the body left out: ReadJob reads an empty string in its place.
constexpr char kLeanJobColumns[] =
    "j.id, j.campaign_ref, c.file, j.campaign_id, j.broadcast, j.occurrence, j.app, j.target, "
    "'', j.state, j.due, j.expires, j.priority, j.attempts, j.not_before, j.broadcast_id, "
    "j.last_error, j.created_at, j.updated_at";

std::string StateText(JobState state) { return std::string(JobStateName(state)); }
std::string TargetText(BroadcastTarget target) { return std::string(TargetName(target)); }

}  // namespace

Status Store::BeginSnapshot() {
  return Read("begin a read snapshot", [&]() -> Status {
    db_->BeginSnapshot();
    try {
      // The snapshot is taken at the first read: take it now.
      db_->QueryInt64("SELECT count(*) FROM ingest_state");
    } catch (const std::exception&) {
      db_->Rollback();  // the caller will not call EndSnapshot
      throw;
    }
    return {};
  });
}

void Store::EndSnapshot() {
  try {
    db_->Commit();
  } catch (const std::exception&) {
    // Nothing was written: a failed COMMIT of a read transaction leaves nothing behind.
  }
}

Result<std::vector<Store::JobCount>> Store::CountJobs() {
  return Read("count jobs", [&]() -> Result<std::vector<JobCount>> {
    sql::Statement q(*db_,
                     "SELECT app, target, state, n FROM job_counts "
                     "WHERE n <> 0 ORDER BY app, target, state");
    std::vector<JobCount> counts;
    while (q.executeStep()) {
      counts.push_back(JobCount{q.getColumn(0).getString(), TargetOf(q.getColumn(1)),
                                StateOf(q.getColumn(2)), q.getColumn(3).getInt64()});
    }
    return counts;
  });
}

Result<std::vector<JobRow>> Store::ListJobs(const JobListing& listing) {
  return Read("list jobs", [&]() -> Result<std::vector<JobRow>> {
    std::string sql = std::string("SELECT ") + kLeanJobColumns +
                      " FROM jobs j JOIN campaigns c ON c.id = j.campaign_ref"
                      " WHERE j.state = ?1 AND (j.due, j.id) > (?2, ?3)";
    // Parameters 4 on, in this order, for the filters that are set.
    int next = 4;
    const int campaign_at = listing.campaign_id ? next++ : 0;
    const int app_at = listing.app ? next++ : 0;
    const int target_at = listing.target ? next++ : 0;
    const int limit_at = next;
    if (campaign_at != 0) sql += " AND j.campaign_id = ?" + std::to_string(campaign_at);
    if (app_at != 0) sql += " AND j.app = ?" + std::to_string(app_at);
    if (target_at != 0) sql += " AND j.target = ?" + std::to_string(target_at);
    sql += " ORDER BY j.due, j.id LIMIT ?" + std::to_string(limit_at);
    sql::Statement q(*db_, sql);

    std::vector<JobRow> rows;
    bool reached = !listing.after.has_value();
    for (JobState state : listing.states) {
      if (rows.size() >= listing.limit) break;
      int64_t due = std::numeric_limits<int64_t>::min();
      int64_t id = std::numeric_limits<int64_t>::min();
      if (!reached) {
        if (state != listing.after->state) continue;  // wholly before the cursor
        reached = true;
        due = ToMillis(listing.after->due);
        id = listing.after->id;
      }
      q.reset();
      q.bind(1, StateText(state));
      q.bind(2, due);
      q.bind(3, id);
      if (campaign_at != 0) q.bind(campaign_at, *listing.campaign_id);
      if (app_at != 0) q.bind(app_at, *listing.app);
      if (target_at != 0) q.bind(target_at, TargetText(*listing.target));
      q.bind(limit_at, static_cast<int64_t>(listing.limit - rows.size()));
      while (q.executeStep()) rows.push_back(ReadJob(q));
    }
    return rows;
  });
}

Result<Store::QueueHead> Store::QueuedHead(const std::string& app, BroadcastTarget target,
                                           TimePoint through, size_t cap) {
  return Read("read the head of " + app + "/" + TargetText(target), [&]() -> Result<QueueHead> {
    // One index range per state, merged by (due, id): no sort of the queue.
    const std::string sql = std::string("SELECT ") + kLeanJobColumns +
                            " FROM jobs j JOIN campaigns c ON c.id = j.campaign_ref"
                            " WHERE j.app = ?1 AND j.target = ?2 AND j.state = ?3"
                            " ORDER BY j.due, j.id";
    sql::Statement ready(*db_, sql);
    sql::Statement scheduled(*db_, sql);
    for (auto* q : {&ready, &scheduled}) {
      q->bind(1, app);
      q->bind(2, TargetText(target));
    }
    ready.bind(3, "ready");
    scheduled.bind(3, "scheduled");
    std::optional<JobRow> a, b;
    if (ready.executeStep()) a = ReadJob(ready);
    if (scheduled.executeStep()) b = ReadJob(scheduled);

    QueueHead head;
    while (a || b) {
      bool take_a = a && (!b || std::pair(a->due, a->id) < std::pair(b->due, b->id));
      JobRow& next = take_a ? *a : *b;
      if (next.due > through || head.jobs.size() >= cap) {
        head.cut = next.due;
        break;
      }
      head.jobs.push_back(std::move(next));
      if (take_a) {
        a.reset();
        if (ready.executeStep()) a = ReadJob(ready);
      } else {
        b.reset();
        if (scheduled.executeStep()) b = ReadJob(scheduled);
      }
    }
    return head;
  });
}

Result<std::optional<TimePoint>> Store::OldestReady(const std::string& app,
                                                    BroadcastTarget target) {
  return Read("oldest ready job", [&]() -> Result<std::optional<TimePoint>> {
    sql::Statement q(*db_,
                     "SELECT min(due) FROM jobs "
                     "WHERE app = ? AND target = ? AND state = 'ready'");
    q.bind(1, app);
    q.bind(2, TargetText(target));
    q.executeStep();
    return OptionalTime(q.getColumn(0));
  });
}

Result<std::vector<Store::AttemptCount>> Store::CountAttempts() {
  return Read("count attempts", [&]() -> Result<std::vector<AttemptCount>> {
    sql::Statement q(*db_,
                     "SELECT app, target, outcome, count(*) FROM attempts "
                     "GROUP BY app, target, outcome ORDER BY app, target, outcome");
    std::vector<AttemptCount> counts;
    while (q.executeStep()) {
      std::string outcome =
          q.getColumn(2).isNull() ? std::string("in_flight") : q.getColumn(2).getString();
      counts.push_back(AttemptCount{q.getColumn(0).getString(), TargetOf(q.getColumn(1)),
                                    std::move(outcome), q.getColumn(3).getInt64()});
    }
    return counts;
  });
}

Result<std::vector<Store::AttemptCount>> Store::CountRateLimited() {
  return Read("count 429 answers", [&]() -> Result<std::vector<AttemptCount>> {
    // Every outcome but sent (the bulk of the table), so the outcome index narrows it.
    sql::Statement q(*db_,
                     "SELECT app, target, count(*) FROM attempts "
                     "WHERE outcome IN ('retry', 'next_day', 'permanent', 'unopened', 'unknown') "
                     "AND http_status = 429 GROUP BY app, target ORDER BY app, target");
    std::vector<AttemptCount> counts;
    while (q.executeStep()) {
      counts.push_back(AttemptCount{q.getColumn(0).getString(), TargetOf(q.getColumn(1)), "429",
                                    q.getColumn(2).getInt64()});
    }
    return counts;
  });
}

Result<int64_t> Store::CountQueuedDueBefore(const std::string& app, BroadcastTarget target,
                                            TimePoint end) {
  return Read("count queued jobs", [&]() -> Result<int64_t> {
    sql::Statement q(*db_,
                     "SELECT count(*) FROM jobs WHERE app = ?1 AND target = ?2 "
                     "AND state IN ('scheduled', 'ready') AND due < ?3");
    q.bind(1, app);
    q.bind(2, TargetText(target));
    q.bind(3, ToMillis(end));
    q.executeStep();
    return q.getColumn(0).getInt64();
  });
}

Result<std::optional<TimePoint>> Store::LastSent() {
  return Read("last sent", [&]() -> Result<std::optional<TimePoint>> {
    sql::Statement q(*db_, "SELECT max(ended_at) FROM attempts WHERE outcome = 'sent'");
    q.executeStep();
    return OptionalTime(q.getColumn(0));
  });
}

}  // namespace broadcastd
