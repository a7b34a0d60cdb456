// Store: signed campaigns (store.h, "signed campaigns"; schema version 11).

#include "store/sql_access.h"

namespace broadcastd {
namespace {

// The campaign's queued jobs, logged so that a scheduler reads them again.
void LogQueuedJobs(sql::Connection& db, int64_t campaign_ref) {
  sql::Statement q(db,
                   "INSERT INTO job_changes (job_id) SELECT id FROM jobs WHERE campaign_ref = ? "
                   "AND state IN ('scheduled', 'ready')");
  q.bind(1, campaign_ref);
  q.exec();
}

}  // namespace

Status Store::SetCampaignSignatures(const std::string& campaign_id, const CampaignSignatures& s,
                                    TimePoint now) {
  return Write("record the signatures of campaign " + campaign_id, [&]() -> Status {
    sql::Connection& db = *db_;
    sql::Statement ref(db, "SELECT id FROM campaigns WHERE campaign_id = ?");
    ref.bind(1, campaign_id);
    if (!ref.executeStep()) {
      return Fail(ErrorKind::kNotFound, "campaign " + campaign_id + " does not exist");
    }
    const int64_t campaign_ref = ref.getColumn(0).getInt64();
    sql::Statement old(db, "SELECT held FROM campaign_signatures WHERE campaign_ref = ?");
    old.bind(1, campaign_ref);
    const bool had_row = old.executeStep();
    const std::optional<std::string> was_held = had_row && !old.getColumn(0).isNull()
                                                    ? std::optional(old.getColumn(0).getString())
                                                    : std::nullopt;
    sql::Statement upsert(
        db,
        "INSERT INTO campaign_signatures (campaign_ref, signers, problems, held, since) "
        "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (campaign_ref) DO UPDATE SET "
        "signers = excluded.signers, problems = excluded.problems, held = excluded.held, "
        "since = CASE WHEN campaign_signatures.held IS NULL AND excluded.held IS NOT NULL "
        "THEN excluded.since ELSE campaign_signatures.since END");
    upsert.bind(1, campaign_ref);
    upsert.bind(2, s.signers);
    upsert.bind(3, s.problems);
    BindOptional(upsert, 4, s.held);
    upsert.bind(5, ToMillis(now));
    upsert.exec();
    if (was_held.has_value() != s.held.has_value()) LogQueuedJobs(db, campaign_ref);
    return {};
  });
}

Result<int> Store::ClearCampaignSignatures() {
  // The common case, signatures never on: no write at all.
  auto rows = Read("count the campaigns' signatures", [&]() -> Result<int64_t> {
    return db_->QueryInt64("SELECT count(*) FROM campaign_signatures");
  });
  if (!rows) return std::unexpected(rows.error());
  if (*rows == 0) return 0;
  return Write("clear the campaigns' signatures", [&]() -> Result<int> {
    sql::Connection& db = *db_;
    sql::Statement held(db, "SELECT campaign_ref FROM campaign_signatures WHERE held IS NOT NULL");
    std::vector<int64_t> refs;
    while (held.executeStep()) refs.push_back(held.getColumn(0).getInt64());
    for (int64_t ref : refs) LogQueuedJobs(db, ref);
    sql::Statement clear(db, "DELETE FROM campaign_signatures");
    clear.exec();
    return static_cast<int>(refs.size());
  });
}

Result<std::vector<Store::SignatureHold>> Store::SignatureHolds() {
  return Read(
      "list the campaigns held for signatures", [&]() -> Result<std::vector<SignatureHold>> {
        sql::Statement q(
            *db_,
            "SELECT c.campaign_id, COALESCE(c.file, ''), s.held, s.signers, s.problems, "
            "s.since, (SELECT count(*) FROM jobs j WHERE j.campaign_ref = c.id AND "
            "j.state IN ('scheduled', 'ready')) FROM campaign_signatures s JOIN "
            "campaigns c ON c.id = s.campaign_ref WHERE s.held IS NOT NULL "
            "ORDER BY c.campaign_id");
        std::vector<SignatureHold> rows;
        while (q.executeStep()) {
          rows.push_back(SignatureHold{q.getColumn(0).getString(), q.getColumn(1).getString(),
                                       q.getColumn(2).getString(), q.getColumn(3).getString(),
                                       q.getColumn(4).getString(), Time(q.getColumn(5)),
                                       q.getColumn(6).getInt64()});
        }
        return rows;
      });
}

Result<std::optional<Store::CampaignSignatures>> Store::SignaturesOf(
    const std::string& campaign_id) {
  return Read("read the signatures of campaign " + campaign_id,
              [&]() -> Result<std::optional<CampaignSignatures>> {
                sql::Statement q(*db_,
                                 "SELECT s.signers, s.problems, s.held FROM campaign_signatures s "
                                 "JOIN campaigns c ON c.id = s.campaign_ref "
                                 "WHERE c.campaign_id = ?");
                q.bind(1, campaign_id);
                if (!q.executeStep()) return std::optional<CampaignSignatures>();
                CampaignSignatures s;
                s.signers = q.getColumn(0).getString();
                s.problems = q.getColumn(1).getString();
                if (!q.getColumn(2).isNull()) s.held = q.getColumn(2).getString();
                return std::optional<CampaignSignatures>(std::move(s));
              });
}

Result<std::set<int64_t>> Store::SignatureHeldJobs() {
  return Read("list the jobs held for signatures", [&]() -> Result<std::set<int64_t>> {
    sql::Statement q(*db_,
                     "SELECT j.id FROM campaign_signatures s JOIN jobs j ON "
                     "j.campaign_ref = s.campaign_ref WHERE s.held IS NOT NULL AND "
                     "j.state IN ('scheduled', 'ready')");
    std::set<int64_t> ids;
    while (q.executeStep()) ids.insert(q.getColumn(0).getInt64());
    return ids;
  });
}

Result<std::map<int64_t, std::string>> Store::AttemptSigners(int64_t job_id) {
  return Read("read the signers of job " + std::to_string(job_id),
              [&]() -> Result<std::map<int64_t, std::string>> {
                sql::Statement q(*db_,
                                 "SELECT id, signers FROM attempts WHERE job_id = ? AND "
                                 "signers IS NOT NULL ORDER BY id");
                q.bind(1, job_id);
                std::map<int64_t, std::string> rows;
                while (q.executeStep()) {
                  rows[q.getColumn(0).getInt64()] = q.getColumn(1).getString();
                }
                return rows;
              });
}

Result<std::map<std::string, std::string>> Store::SignatureChecks() {
  return Read("read the kept signature verdicts",
              [&]() -> Result<std::map<std::string, std::string>> {
                sql::Statement q(*db_, "SELECT key, verdict FROM signature_checks");
                std::map<std::string, std::string> rows;
                while (q.executeStep()) {
                  rows[q.getColumn(0).getString()] = q.getColumn(1).getString();
                }
                return rows;
              });
}

Status Store::AddSignatureChecks(const std::vector<std::pair<std::string, std::string>>& checks,
                                 TimePoint now) {
  if (checks.empty()) return {};
  return Write("keep signature verdicts", [&]() -> Status {
    sql::Statement q(*db_,
                     "INSERT INTO signature_checks (key, verdict, checked_at) VALUES (?, ?, ?) "
                     "ON CONFLICT (key) DO UPDATE SET verdict = excluded.verdict");
    for (const auto& [key, verdict] : checks) {
      q.reset();
      q.bind(1, key);
      q.bind(2, verdict);
      q.bind(3, ToMillis(now));
      q.exec();
    }
    return {};
  });
}

}  // namespace broadcastd
