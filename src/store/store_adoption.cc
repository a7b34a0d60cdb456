// Store: adoption (schema 10). A new queue holds the campaigns its first scan finds until
// an operator confirms them: they may have gone out from a queue that was lost.

#include <utility>

#include "store/sql_access.h"

namespace broadcastd {

namespace {

constexpr char kHeldJobs[] =
    "SELECT j.id FROM adopted_campaigns a JOIN jobs j ON j.campaign_ref = a.campaign_ref "
    "WHERE j.state IN ('scheduled', 'ready') ORDER BY j.id";

std::vector<Store::AdoptedCampaign> ReadAdopted(sql::Connection& db) {
  sql::Statement q(db,
                   "SELECT c.campaign_id, c.file, a.since, "
                   "(SELECT COUNT(*) FROM jobs j WHERE j.campaign_ref = a.campaign_ref "
                   "AND j.state IN ('scheduled', 'ready')) "
                   "FROM adopted_campaigns a JOIN campaigns c ON c.id = a.campaign_ref "
                   "ORDER BY c.campaign_id");
  std::vector<Store::AdoptedCampaign> rows;
  while (q.executeStep()) {
    rows.push_back(Store::AdoptedCampaign{TextOrEmpty(q.getColumn(0)), TextOrEmpty(q.getColumn(1)),
                                          Time(q.getColumn(2)), q.getColumn(3).getInt64()});
  }
  return rows;
}

// Deletes the hold of `ref` (campaign `campaign_id`) and audits it; returns its queued jobs.
int64_t Confirm(sql::Connection& db, int64_t ref, const std::string& campaign_id, TimePoint now) {
  sql::Statement release(db, "DELETE FROM adopted_campaigns WHERE campaign_ref = ?");
  release.bind(1, ref);
  release.exec();
  sql::Statement queued(db,
                        "SELECT COUNT(*) FROM jobs WHERE campaign_ref = ? "
                        "AND state IN ('scheduled', 'ready')");
  queued.bind(1, ref);
  queued.executeStep();
  const int64_t jobs = queued.getColumn(0).getInt64();
  RecordAction(
      db, now, "confirm", std::nullopt,
      "campaign " + campaign_id + ": adopted, confirmed; " + std::to_string(jobs) + " jobs queued",
      CampaignScope(campaign_id));
  return jobs;
}

}  // namespace

void AdoptIfAdopting(sql::Connection& db, int64_t ref, TimePoint now) {
  sql::Statement adopt(db,
                       "INSERT INTO adopted_campaigns (campaign_ref, since) "
                       "SELECT ?1, ?2 WHERE EXISTS (SELECT 1 FROM queue_adoption) "
                       "ON CONFLICT (campaign_ref) DO NOTHING");
  adopt.bind(1, ref);
  adopt.bind(2, ToMillis(now));
  adopt.exec();
}

Status CheckNotAdopted(sql::Connection& db, int64_t job_id) {
  sql::Statement held(db,
                      "SELECT j.campaign_id FROM jobs j JOIN adopted_campaigns a "
                      "ON a.campaign_ref = j.campaign_ref WHERE j.id = ?");
  held.bind(1, job_id);
  if (held.executeStep()) {
    return Fail(ErrorKind::kConflict, "job " + std::to_string(job_id) + ": campaign " +
                                          held.getColumn(0).getString() +
                                          " is held (adopted by a new queue; not confirmed)");
  }
  return {};
}

Result<bool> Store::Adopting() {
  return Read("read the adoption", [&]() -> Result<bool> {
    return db_->QueryInt64("SELECT COUNT(*) FROM queue_adoption") != 0;
  });
}

Result<std::vector<Store::AdoptedCampaign>> Store::EndAdoption() {
  return Write("end the adoption", [&]() -> Result<std::vector<AdoptedCampaign>> {
    sql::Statement end(*db_, "DELETE FROM queue_adoption");
    if (end.exec() == 0) return std::vector<AdoptedCampaign>{};
    return ReadAdopted(*db_);
  });
}

Result<std::vector<Store::AdoptedCampaign>> Store::AdoptedCampaigns() {
  return Read("list adopted campaigns",
              [&]() -> Result<std::vector<AdoptedCampaign>> { return ReadAdopted(*db_); });
}

Result<std::vector<int64_t>> Store::HeldJobIds() {
  return Read("list held jobs", [&]() -> Result<std::vector<int64_t>> {
    sql::Statement q(*db_, kHeldJobs);
    std::vector<int64_t> ids;
    while (q.executeStep()) ids.push_back(q.getColumn(0).getInt64());
    return ids;
  });
}

Result<int64_t> Store::ConfirmAdopted(const std::string& campaign_id, TimePoint now) {
  return Write("confirm campaign " + campaign_id, [&]() -> Result<int64_t> {
    sql::Statement find(*db_,
                        "SELECT a.campaign_ref FROM adopted_campaigns a "
                        "JOIN campaigns c ON c.id = a.campaign_ref WHERE c.campaign_id = ?");
    find.bind(1, campaign_id);
    if (!find.executeStep()) {
      return Fail(ErrorKind::kNotFound,
                  "no campaign with the id '" + campaign_id + "' is held for confirmation");
    }
    const int64_t ref = find.getColumn(0).getInt64();
    return Confirm(*db_, ref, campaign_id, now);
  });
}

Result<std::vector<std::string>> Store::ConfirmAllAdopted(TimePoint now) {
  return Write("confirm every adopted campaign", [&]() -> Result<std::vector<std::string>> {
    std::vector<std::pair<int64_t, std::string>> held;
    {
      sql::Statement q(*db_,
                       "SELECT a.campaign_ref, c.campaign_id FROM adopted_campaigns a "
                       "JOIN campaigns c ON c.id = a.campaign_ref ORDER BY c.campaign_id");
      while (q.executeStep()) {
        held.emplace_back(q.getColumn(0).getInt64(), TextOrEmpty(q.getColumn(1)));
      }
    }
    std::vector<std::string> ids;
    for (const auto& [ref, campaign_id] : held) {
      Confirm(*db_, ref, campaign_id, now);
      ids.push_back(campaign_id);
    }
    return ids;
  });
}

}  // namespace broadcastd
