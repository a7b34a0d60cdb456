// Store: operator actions. Each runs while the daemon may be running: the daemon sees
// them through DataVersion, and ClaimForSending re-checks state and pauses, so an action
// committed before a claim always wins.

#include <utility>

#include "store/sql_access.h"

namespace broadcastd {

namespace {

std::string JobName(int64_t job_id) { return "job " + std::to_string(job_id); }

// An Error for a job that is missing or not in a state the action accepts.
std::unexpected<Error> WrongState(sql::Connection& db, int64_t job_id, std::string_view action,
                                  std::string_view accepted) {
  std::optional<JobState> state = CurrentState(db, job_id);
  if (!state) return Fail(ErrorKind::kNotFound, JobName(job_id) + " does not exist");
  std::string message = JobName(job_id) + " is " + std::string(JobStateName(*state)) + "; only " +
                        std::string(accepted) + " jobs can be " + std::string(action);
  if (*state == JobState::kSending) message += " (its request may be in flight)";
  return Fail(ErrorKind::kConflict, std::move(message));
}

}  // namespace

Result<int> Store::CancelCampaign(const std::string& campaign_id, TimePoint now) {
  return Write("cancel campaign " + campaign_id, [&]() -> Result<int> {
    sql::Connection& db = *db_;
    // Jobs keep the campaign id they were created under; the campaign row may carry a
    // newer one. Either names the campaign.
    constexpr char kMatch[] =
        "(campaign_id = ?1 OR campaign_ref IN (SELECT id FROM campaigns WHERE campaign_id = ?1))";
    sql::Statement known(db, std::string("SELECT (SELECT COUNT(*) FROM jobs WHERE ") + kMatch +
                                 ") + (SELECT COUNT(*) FROM campaigns WHERE campaign_id = ?1)");
    known.bind(1, campaign_id);
    known.executeStep();
    if (known.getColumn(0).getInt64() == 0) {
      return Fail(ErrorKind::kNotFound, "no campaign has the id '" + campaign_id + "'");
    }
    sql::Statement cancel(
        db, std::string("UPDATE jobs SET state = 'cancelled', cancelled_by = 'operator', "
                        "last_error = 'cancelled by an operator', updated_at = ?2 WHERE ") +
                kMatch + " AND state IN ('scheduled', 'ready', 'unknown')");
    cancel.bind(1, campaign_id);
    cancel.bind(2, ToMillis(now));
    int cancelled = cancel.exec();
    RecordAction(db, now, "cancel_campaign", std::nullopt,
                 "campaign " + campaign_id + ": " + std::to_string(cancelled) + " jobs cancelled",
                 CampaignScope(campaign_id));
    return cancelled;
  });
}

Status Store::CancelJob(int64_t job_id, TimePoint now) {
  return Write("cancel " + JobName(job_id), [&]() -> Status {
    sql::Connection& db = *db_;
    sql::Statement cancel(db,
                          "UPDATE jobs SET state = 'cancelled', cancelled_by = 'operator', "
                          "last_error = 'cancelled by an operator', updated_at = ? "
                          "WHERE id = ? AND state IN ('scheduled', 'ready', 'unknown')");
    cancel.bind(1, ToMillis(now));
    cancel.bind(2, job_id);
    if (cancel.exec() != 1)
      return WrongState(db, job_id, "cancelled", "scheduled, ready or unknown");
    RecordAction(db, now, "cancel_job", job_id, "");
    return {};
  });
}

Status Store::Pause(const std::string& app, BroadcastTarget target, const std::string& reason,
                    TimePoint now) {
  std::string endpoint = app + " " + std::string(TargetName(target));
  return Write("pause " + endpoint, [&]() -> Status {
    sql::Statement pause(*db_,
                         "INSERT INTO pauses (app, target, reason, since) VALUES (?, ?, ?, ?) "
                         "ON CONFLICT (app, target) DO UPDATE SET reason = excluded.reason");
    pause.bind(1, app);
    pause.bind(2, std::string(TargetName(target)));
    pause.bind(3, reason);
    pause.bind(4, ToMillis(now));
    pause.exec();
    RecordAction(*db_, now, "pause", std::nullopt, endpoint + ": " + reason,
                 EndpointScope(app, target));
    return {};
  });
}

Status Store::Resume(const std::string& app, BroadcastTarget target, TimePoint now) {
  std::string endpoint = app + " " + std::string(TargetName(target));
  return Write("resume " + endpoint, [&]() -> Status {
    sql::Statement resume(*db_, "DELETE FROM pauses WHERE app = ? AND target = ?");
    resume.bind(1, app);
    resume.bind(2, std::string(TargetName(target)));
    if (resume.exec() == 0) return Fail(ErrorKind::kConflict, endpoint + " is not paused");
    RecordAction(*db_, now, "resume", std::nullopt, endpoint, EndpointScope(app, target));
    return {};
  });
}

Result<std::vector<PauseRow>> Store::Pauses() {
  return Read("list pauses", [&]() -> Result<std::vector<PauseRow>> {
    sql::Statement q(*db_, "SELECT app, target, reason, since FROM pauses ORDER BY app, target");
    std::vector<PauseRow> rows;
    while (q.executeStep()) {
      rows.push_back(PauseRow{q.getColumn(0).getString(), TargetOf(q.getColumn(1)),
                              q.getColumn(2).getString(), Time(q.getColumn(3))});
    }
    return rows;
  });
}

Status Store::ResolveSent(int64_t job_id, std::optional<std::string> broadcast_id, TimePoint now) {
  return Write("resolve " + JobName(job_id) + " as sent", [&]() -> Status {
    sql::Connection& db = *db_;
    if (broadcast_id && broadcast_id->empty()) broadcast_id.reset();
    sql::Statement resolve(db,
                           "UPDATE jobs SET state = 'sent', broadcast_id = ?, "
                           "last_error = NULL, updated_at = ? "
                           "WHERE id = ? AND state = 'unknown'");
    BindOptional(resolve, 1, broadcast_id);
    resolve.bind(2, ToMillis(now));
    resolve.bind(3, job_id);
    if (resolve.exec() != 1) return WrongState(db, job_id, "resolved", "unknown");
    RecordAction(db, now, "resolve_sent", job_id,
                 broadcast_id ? "broadcast id " + *broadcast_id : "broadcast id not known");
    return {};
  });
}

Status Store::ResolveNotSent(int64_t job_id, TimePoint now) {
  return Write("resolve " + JobName(job_id) + " as not sent", [&]() -> Status {
    sql::Connection& db = *db_;
    sql::Statement resolve(db,
                           "UPDATE jobs SET state = 'ready', not_before = ?1, "
                           "last_error = NULL, updated_at = ?1 "
                           "WHERE id = ?2 AND state = 'unknown'");
    resolve.bind(1, ToMillis(now));
    resolve.bind(2, job_id);
    if (resolve.exec() != 1) return WrongState(db, job_id, "resolved", "unknown");
    RecordAction(db, now, "resolve_not_sent", job_id, "operator checked it was not applied");
    return {};
  });
}

Result<std::vector<OperatorActionRow>> Store::OperatorActions(std::optional<int64_t> job_id) {
  return Read("list operator actions", [&]() -> Result<std::vector<OperatorActionRow>> {
    sql::Statement q(*db_,
                     "SELECT id, at, action, job_id, detail, scope FROM operator_actions "
                     "WHERE CAST(?1 AS BIGINT) IS NULL OR job_id = ?1 ORDER BY id");
    if (job_id) q.bind(1, *job_id);
    std::vector<OperatorActionRow> rows;
    while (q.executeStep()) {
      rows.push_back(OperatorActionRow{q.getColumn(0).getInt64(), Time(q.getColumn(1)),
                                       q.getColumn(2).getString(), OptionalInt64(q.getColumn(3)),
                                       q.getColumn(4).getString(), q.getColumn(5).getString()});
    }
    return rows;
  });
}

}  // namespace broadcastd
