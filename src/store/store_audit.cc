// Store: the audit export. Two cursors, one over the attempts (by start, from the index
// attempts_started) and one over the operator actions (by time), merged in time order: no
// entry is kept once it has been handed over, whatever the size of the audit.

#include <functional>
#include <memory>
#include <string>

#include "store/audit_entry.h"
#include "store/sql_access.h"

namespace broadcastd {
namespace {

// A NULL reads as "" (both engines): no separate test, the export reads 14 columns a row.
std::string_view TextOf(sql::Statement& q, int column) {
  sql::Column c = q.getColumn(column);
  const char* text = c.getText();
  return std::string_view(text, static_cast<size_t>(c.getBytes()));
}

constexpr char kAttempts[] =
    "SELECT a.id, a.started_at, a.job_id, j.campaign_id, j.broadcast, j.occurrence, a.app, "
    "a.target, a.outcome, a.http_status, a.broadcast_id, a.vendor_error, a.error_description, "
    "a.detail FROM attempts a INDEXED BY attempts_started JOIN jobs j ON j.id = a.job_id";

// Actions on a job carry the job's names; an action on a campaign or an endpoint names it
// in its scope (OperatorActionRow::scope).
constexpr char kActions[] =
    "SELECT o.id, o.at, o.job_id, j.campaign_id, j.broadcast, j.occurrence, j.app, j.target, "
    "o.action, o.detail, o.scope FROM operator_actions o LEFT JOIN jobs j ON j.id = o.job_id";

// The attempts' (kAttempts) or the actions' (kActions) query with `filter`'s conditions,
// each given bound one condition, its parameters bound.
std::unique_ptr<sql::Statement> Query(sql::Connection& db, bool attempts,
                                      const AuditFilter& filter) {
  const char* time = attempts ? "a.started_at" : "o.at";
  std::string sql = attempts ? kAttempts : kActions;
  std::string where;
  int n = 0;
  auto add = [&](const std::string& condition) {
    where += (where.empty() ? " WHERE " : " AND ") + condition;
  };
  auto param = [&] { return "?" + std::to_string(++n); };
  if (filter.since) add(std::string(time) + " >= " + param());
  if (filter.until) add(std::string(time) + " < " + param());
  if (filter.campaign_id) {
    if (attempts) {
      add("j.campaign_id = " + param());
    } else {
      const std::string id = param(), scope = param();
      add("(j.campaign_id = " + id + " OR o.scope = " + scope + ")");
    }
  }
  if (filter.app) {
    if (attempts) {
      add("a.app = " + param());
    } else {
      const std::string app = param(), prefix = param();
      add("(j.app = " + app + " OR substr(o.scope, 1, length(" + prefix + ")) = " + prefix + ")");
    }
  }
  sql += where;
  sql += attempts ? " ORDER BY a.started_at, a.id" : " ORDER BY o.at, o.id";

  auto q = std::make_unique<sql::Statement>(db.PrepareStreamed(sql));
  int i = 0;
  if (filter.since) q->bind(++i, ToMillis(*filter.since));
  if (filter.until) q->bind(++i, ToMillis(*filter.until));
  if (filter.campaign_id) {
    q->bind(++i, *filter.campaign_id);
    if (!attempts) q->bind(++i, CampaignScope(*filter.campaign_id));
  }
  if (filter.app) {
    q->bind(++i, *filter.app);
    if (!attempts) q->bind(++i, "endpoint " + *filter.app + " ");
  }
  return q;
}

void ReadAttemptEntry(sql::Statement& q, AuditEntry& e) {
  e = AuditEntry{};
  e.kind = AuditEntry::Kind::kAttempt;
  e.id = q.getColumn(0).getInt64();
  e.at = Time(q.getColumn(1));
  e.job_id = q.getColumn(2).getInt64();
  e.campaign_id = TextOf(q, 3);
  e.broadcast = TextOf(q, 4);
  e.occurrence = TextOf(q, 5);
  e.app = TextOf(q, 6);
  e.target = TextOf(q, 7);
  e.outcome = TextOf(q, 8);
  e.http_status = OptionalInt64(q.getColumn(9));
  if (!q.getColumn(10).isNull()) e.broadcast_id = TextOf(q, 10);
  e.vendor_error = TextOf(q, 11);
  e.error_description = TextOf(q, 12);
  e.detail = TextOf(q, 13);
}

void ReadActionEntry(sql::Statement& q, AuditEntry& e) {
  e = AuditEntry{};
  e.kind = AuditEntry::Kind::kOperatorAction;
  e.id = q.getColumn(0).getInt64();
  e.at = Time(q.getColumn(1));
  e.job_id = OptionalInt64(q.getColumn(2));
  e.campaign_id = TextOf(q, 3);
  e.broadcast = TextOf(q, 4);
  e.occurrence = TextOf(q, 5);
  e.app = TextOf(q, 6);
  e.target = TextOf(q, 7);
  e.action = TextOf(q, 8);
  e.detail = TextOf(q, 9);
  e.scope = TextOf(q, 10);
  if (e.job_id) return;
  // "campaign ID" or "endpoint APP TARGET" (CampaignScope, EndpointScope).
  constexpr std::string_view kCampaign = "campaign ", kEndpoint = "endpoint ";
  if (e.scope.starts_with(kCampaign)) {
    e.campaign_id = e.scope.substr(kCampaign.size());
  } else if (e.scope.starts_with(kEndpoint)) {
    std::string_view rest = e.scope.substr(kEndpoint.size());
    const size_t space = rest.rfind(' ');
    if (space != std::string_view::npos) {
      e.app = rest.substr(0, space);
      e.target = rest.substr(space + 1);
    }
  }
}

bool Before(const AuditEntry& a, const AuditEntry& b) {
  if (a.at != b.at) return a.at < b.at;
  if (a.kind != b.kind) return a.kind == AuditEntry::Kind::kAttempt;
  return a.id < b.id;
}

}  // namespace

Result<int64_t> Store::ForEachAuditEntry(const AuditFilter& filter,
                                         const std::function<bool(const AuditEntry&)>& each) {
  return Read("export the audit", [&]() -> Result<int64_t> {
    // One snapshot for both cursors (unless the caller holds one): the daemon commits on.
    const bool own = !db_->InTransaction();
    if (own) db_->BeginSnapshot();
    int64_t handed = 0;
    try {
      std::unique_ptr<sql::Statement> attempts = Query(*db_, true, filter);
      std::unique_ptr<sql::Statement> actions = Query(*db_, false, filter);
      AuditEntry attempt, action;
      bool has_attempt = attempts->executeStep(), has_action = actions->executeStep();
      if (has_attempt) ReadAttemptEntry(*attempts, attempt);
      if (has_action) ReadActionEntry(*actions, action);
      while (has_attempt || has_action) {
        if (has_attempt && (!has_action || Before(attempt, action))) {
          ++handed;
          if (!each(attempt)) break;
          has_attempt = attempts->executeStep();
          if (has_attempt) ReadAttemptEntry(*attempts, attempt);
        } else {
          ++handed;
          if (!each(action)) break;
          has_action = actions->executeStep();
          if (has_action) ReadActionEntry(*actions, action);
        }
      }
    } catch (...) {
      if (own && db_->InTransaction()) {
        try {
          db_->Rollback();
        } catch (const std::exception&) {  // a read transaction leaves nothing behind
        }
      }
      throw;
    }
    if (own) EndSnapshot();
    return handed;
  });
}

}  // namespace broadcastd
