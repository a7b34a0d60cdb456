#include "store/schema.h"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

namespace broadcastd {

namespace {

// Version 1. Times are INTEGER ms since the epoch; broadcast IDs are TEXT because they
// exceed 2^53 and must be kept exactly.
constexpr std::string_view kSchema1 = R"sql(
CREATE TABLE campaigns (
  id           INTEGER PRIMARY KEY,
  file         TEXT NOT NULL UNIQUE,
  campaign_id  TEXT,
  content_hash TEXT NOT NULL,
  status       TEXT NOT NULL CHECK (status IN ('ok', 'rejected', 'removed')),
  last_error   TEXT,
  priority     INTEGER NOT NULL DEFAULT 0,
  app          TEXT NOT NULL DEFAULT '',
  updated_at   INTEGER NOT NULL
);
CREATE UNIQUE INDEX campaigns_live_id ON campaigns(campaign_id) WHERE status <> 'removed';

CREATE TABLE jobs (
  id           INTEGER PRIMARY KEY,
  campaign_ref INTEGER NOT NULL REFERENCES campaigns(id),
  campaign_id  TEXT NOT NULL,
  broadcast    TEXT NOT NULL,
  occurrence   TEXT NOT NULL,
  app          TEXT NOT NULL,
  target       TEXT NOT NULL CHECK (target IN ('users', 'online_users', 'chatrooms')),
  body         TEXT NOT NULL,
  state        TEXT NOT NULL CHECK (state IN ('scheduled', 'ready', 'sending', 'sent', 'failed',
                                              'unknown', 'expired', 'cancelled')),
  due          INTEGER NOT NULL,
  expires      INTEGER,
  priority     INTEGER NOT NULL DEFAULT 0,
  attempts     INTEGER NOT NULL DEFAULT 0,
  not_before   INTEGER,
  broadcast_id TEXT,
  last_error   TEXT,
  -- 'file' when the campaign file dropped the job or went away (a later version may
  -- bring it back), 'operator' when an operator cancelled it (final).
  cancelled_by TEXT CHECK (cancelled_by IN ('file', 'operator')),
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL,
  UNIQUE (campaign_ref, broadcast, occurrence)
);
CREATE INDEX jobs_state_due ON jobs(state, due);
CREATE INDEX jobs_campaign_id ON jobs(campaign_id);

CREATE TABLE attempts (
  id                INTEGER PRIMARY KEY,
  job_id            INTEGER NOT NULL REFERENCES jobs(id),
  app               TEXT NOT NULL,
  target            TEXT NOT NULL,
  started_at        INTEGER NOT NULL,
  ended_at          INTEGER,
  http_status       INTEGER,
  outcome           TEXT CHECK (outcome IN ('sent', 'retry', 'next_day', 'permanent',
                                            'unopened', 'unknown')),
  vendor_error      TEXT NOT NULL DEFAULT '',
  error_description TEXT NOT NULL DEFAULT '',
  broadcast_id      TEXT,
  response_body     TEXT NOT NULL DEFAULT '',
  detail            TEXT NOT NULL DEFAULT ''
);
CREATE INDEX attempts_job ON attempts(job_id);
CREATE INDEX attempts_started ON attempts(started_at);

CREATE TABLE pauses (
  app    TEXT NOT NULL,
  target TEXT NOT NULL,
  reason TEXT NOT NULL,
  since  INTEGER NOT NULL,
  PRIMARY KEY (app, target)
);

CREATE TABLE operator_actions (
  id     INTEGER PRIMARY KEY,
  at     INTEGER NOT NULL,
  action TEXT NOT NULL,
  job_id INTEGER REFERENCES jobs(id),
  detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX operator_actions_job ON operator_actions(job_id);
)sql";

// A server's Retry-After, kept so that a restart honours it like the live daemon did.
constexpr std::string_view kSchema2 = R"sql(
ALTER TABLE attempts ADD COLUMN retry_after_ms INTEGER;
)sql";

// Version 3: a campaign is its id, not its file (DESIGN.md, "Identity").
//  - campaigns: one row per campaign id; `file` is the file that carries it now (its
//    status ok, rejected or refused), NULL when none does.
//  - campaign_files: one row per file name the folder showed, with its status;
//    campaign_ref is the campaign it carries, or carried last when removed.
//  - jobs.campaign_ref points at the campaign, so UNIQUE (campaign_ref, broadcast,
//    occurrence) is (campaign id, broadcast name, occurrence): renaming a file or
//    moving a campaign to another one updates one row of each table and no job.
// The old per-file campaigns table is rebuilt by MoveToCampaignIdentity.
constexpr std::string_view kSchema3 = R"sql(
CREATE TABLE campaign_files (
  file         TEXT PRIMARY KEY,
  status       TEXT NOT NULL CHECK (status IN ('ok', 'rejected', 'removed', 'refused')),
  campaign_ref INTEGER REFERENCES campaigns(id),
  content_hash TEXT NOT NULL DEFAULT '',
  last_error   TEXT,
  updated_at   INTEGER NOT NULL
);
CREATE INDEX campaign_files_campaign ON campaign_files(campaign_ref);
CREATE TABLE campaigns_by_id (
  id          INTEGER PRIMARY KEY,
  -- NULL only for jobs kept by this migration that another job holding the same
  -- (campaign id, broadcast, occurrence) outranked: history no file can reach.
  campaign_id TEXT UNIQUE,
  file        TEXT UNIQUE,
  app         TEXT NOT NULL DEFAULT '',
  priority    INTEGER NOT NULL DEFAULT 0,
  updated_at  INTEGER NOT NULL
);
)sql";

void BindText(SQLite::Statement& statement, int index, const std::optional<std::string>& value) {
  if (value) {
    statement.bind(index, *value);
  } else {
    statement.bind(index);
  }
}

struct OldCampaign {
  int64_t id = 0;
  std::string file;
  std::optional<std::string> campaign_id;
  bool live = false;  // status not removed: the file holds the id
  std::string app;
  int64_t priority = 0;
  int64_t updated_at = 0;
};

// Version 2 kept one campaigns row per file, and jobs under it. Each campaign id becomes
// one campaigns row, held by the file whose row was not removed; each job moves under
// the campaign id it was made with (jobs.campaign_id). Where a rename made two jobs for
// one (id, broadcast, occurrence), the one the live file drives keeps the identity and
// the other stays, as it was, under a campaign without an id. New campaign rows get ids
// above every old one, so no job is ever moved onto a row it used to share.
void MoveToCampaignIdentity(SQLite::Database& db) {
  std::vector<OldCampaign> old;
  SQLite::Statement rows(db,
                         "SELECT id, file, campaign_id, status <> 'removed', app, priority, "
                         "updated_at FROM campaigns ORDER BY status = 'removed', updated_at DESC, "
                         "id DESC");
  while (rows.executeStep()) {
    OldCampaign c;
    c.id = rows.getColumn(0).getInt64();
    c.file = rows.getColumn(1).getString();
    if (!rows.getColumn(2).isNull()) c.campaign_id = rows.getColumn(2).getString();
    c.live = rows.getColumn(3).getInt() != 0;
    c.app = rows.getColumn(4).getString();
    c.priority = rows.getColumn(5).getInt64();
    c.updated_at = rows.getColumn(6).getInt64();
    old.push_back(std::move(c));
  }
  int64_t next_id = db.execAndGet("SELECT COALESCE(MAX(id), 0) FROM campaigns").getInt64();

  SQLite::Statement insert(db,
                           "INSERT INTO campaigns_by_id (id, campaign_id, file, app, priority, "
                           "updated_at) VALUES (?, ?, ?, ?, ?, ?)");
  auto add = [&](std::optional<std::string> campaign_id, std::optional<std::string> file,
                 const std::string& app, int64_t priority, int64_t updated_at) {
    insert.reset();
    insert.bind(1, ++next_id);
    BindText(insert, 2, campaign_id);
    BindText(insert, 3, file);
    insert.bind(4, app);
    insert.bind(5, priority);
    insert.bind(6, updated_at);
    insert.exec();
    return next_id;
  };

  std::map<std::string, int64_t> by_campaign_id;
  std::map<int64_t, const OldCampaign*> by_old_id;
  for (const OldCampaign& c : old) {
    by_old_id[c.id] = &c;
    if (!c.campaign_id || by_campaign_id.contains(*c.campaign_id)) continue;
    std::optional<std::string> holder;
    if (c.live) holder = c.file;
    by_campaign_id[*c.campaign_id] = add(c.campaign_id, holder, c.app, c.priority, c.updated_at);
  }

  SQLite::Statement file_insert(db,
                                "INSERT INTO campaign_files (file, status, campaign_ref, "
                                "content_hash, last_error, updated_at) SELECT file, status, ?, "
                                "content_hash, last_error, updated_at FROM campaigns WHERE id = ?");
  for (const OldCampaign& c : old) {
    file_insert.reset();
    if (c.campaign_id) {
      file_insert.bind(1, by_campaign_id.at(*c.campaign_id));
    } else {
      file_insert.bind(1);
    }
    file_insert.bind(2, c.id);
    file_insert.exec();
  }

  // The job the live file drives first, then the newest.
  SQLite::Statement jobs(db,
                         "SELECT j.id, j.campaign_ref, j.campaign_id, j.broadcast, j.occurrence, "
                         "j.app, j.priority, j.updated_at FROM jobs j JOIN campaigns c ON "
                         "c.id = j.campaign_ref ORDER BY (c.status <> 'removed' AND "
                         "c.campaign_id IS j.campaign_id) DESC, j.id DESC");
  struct OldJob {
    int64_t id, old_ref;
    std::string campaign_id, broadcast, occurrence, app;
    int64_t priority, updated_at;
  };
  std::vector<OldJob> old_jobs;
  while (jobs.executeStep()) {
    old_jobs.push_back(OldJob{jobs.getColumn(0).getInt64(), jobs.getColumn(1).getInt64(),
                              jobs.getColumn(2).getString(), jobs.getColumn(3).getString(),
                              jobs.getColumn(4).getString(), jobs.getColumn(5).getString(),
                              jobs.getColumn(6).getInt64(), jobs.getColumn(7).getInt64()});
  }
  SQLite::Statement move(db, "UPDATE jobs SET campaign_ref = ? WHERE id = ?");
  std::set<std::tuple<int64_t, std::string, std::string>> taken;
  std::map<int64_t, int64_t> history_by_old_id;
  for (const OldJob& job : old_jobs) {
    auto identity = by_campaign_id.find(job.campaign_id);
    if (identity == by_campaign_id.end()) {
      int64_t id = add(job.campaign_id, std::nullopt, job.app, job.priority, job.updated_at);
      identity = by_campaign_id.emplace(job.campaign_id, id).first;
    }
    int64_t ref = identity->second;
    if (!taken.emplace(ref, job.broadcast, job.occurrence).second) {
      auto history = history_by_old_id.find(job.old_ref);
      if (history == history_by_old_id.end()) {
        const OldCampaign& c = *by_old_id.at(job.old_ref);
        int64_t id = add(std::nullopt, std::nullopt, c.app, c.priority, c.updated_at);
        history = history_by_old_id.emplace(job.old_ref, id).first;
      }
      ref = history->second;
    }
    move.reset();
    move.bind(1, ref);
    move.bind(2, job.id);
    move.exec();
  }

  db.exec("DROP TABLE campaigns");
  db.exec("ALTER TABLE campaigns_by_id RENAME TO campaigns");
}

// Version 4. The audit keeps both clocks (core/clock.h): the wall times above answer
// calendar questions (the budget day); the monotonic readings, with the boot they
// belong to, let a restart rebuild the windows whatever the wall clock did meanwhile.
constexpr std::string_view kSchema4 = R"sql(
ALTER TABLE attempts ADD COLUMN boot_id TEXT;
ALTER TABLE attempts ADD COLUMN started_mono INTEGER;
ALTER TABLE attempts ADD COLUMN ended_mono INTEGER;
)sql";

// What keeps an app from sending that is not a job's state: the daemon writes it so that
// --status can say why (today: no app token). `kind` names the problem; one row per
// (app, kind) while it lasts.
constexpr std::string_view kSchema5 = R"sql(
CREATE TABLE app_notices (
  app     TEXT NOT NULL,
  kind    TEXT NOT NULL CHECK (kind IN ('token')),
  message TEXT NOT NULL,
  since   INTEGER NOT NULL,
  PRIMARY KEY (app, kind)
);
)sql";

// Version 6. The reads of --status, --history and the metrics at a million jobs: per
// endpoint and state by due (queue heads, the oldest ready job), the attempt counters, and the job
// counts kept by triggers (counting a million rows takes longer than --status may).
constexpr std::string_view kSchema6 = R"sql(
CREATE INDEX jobs_endpoint_state_due ON jobs(app, target, state, due);
CREATE INDEX attempts_endpoint_outcome ON attempts(app, target, outcome);
CREATE INDEX attempts_outcome_ended ON attempts(outcome, ended_at);

CREATE TABLE job_counts (
  app    TEXT NOT NULL,
  target TEXT NOT NULL,
  state  TEXT NOT NULL,
  n      INTEGER NOT NULL,
  PRIMARY KEY (app, target, state)
);
INSERT INTO job_counts (app, target, state, n)
  SELECT app, target, state, count(*) FROM jobs GROUP BY app, target, state;

CREATE TRIGGER job_counts_insert AFTER INSERT ON jobs BEGIN
  INSERT INTO job_counts (app, target, state, n) VALUES (NEW.app, NEW.target, NEW.state, 1)
    ON CONFLICT (app, target, state) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER job_counts_delete AFTER DELETE ON jobs BEGIN
  UPDATE job_counts SET n = n - 1
    WHERE app = OLD.app AND target = OLD.target AND state = OLD.state;
END;
CREATE TRIGGER job_counts_update AFTER UPDATE OF app, target, state ON jobs
  WHEN OLD.app IS NOT NEW.app OR OLD.target IS NOT NEW.target OR OLD.state IS NOT NEW.state
BEGIN
  UPDATE job_counts SET n = n - 1
    WHERE app = OLD.app AND target = OLD.target AND state = OLD.state;
  INSERT INTO job_counts (app, target, state, n) VALUES (NEW.app, NEW.target, NEW.state, 1)
    ON CONFLICT (app, target, state) DO UPDATE SET n = n + 1;
END;
)sql";

// Version 7. What the daemon needs to know a campaign file unchanged without reading it,
// and what it must do with it every scan:
//  - stat_*: the file as fstat saw it when its content was read (device, inode, size,
//    mtime and ctime in ns). A file that still shows the same is not read again. NULL:
//    unknown (rows from before, refused and removed files, a file read within the
//    timestamps' granularity of a write): the file is read at the next scan.
//  - repeats: its campaign (status ok) has repeating broadcasts, whose horizon moves
//    every scan: only those files are read again after a restart.
//  - recheck: rejected only because another file holds its id: checked again every scan.
//  - ingest_state 'checked_under': what of the config the stored verdicts depend on
//    (campaigns_dir, the app names), as they were made: when it differs at start-up,
//    every file is checked again.
constexpr std::string_view kSchema7 = R"sql(
ALTER TABLE campaign_files ADD COLUMN stat_dev INTEGER;
ALTER TABLE campaign_files ADD COLUMN stat_ino INTEGER;
ALTER TABLE campaign_files ADD COLUMN stat_size INTEGER;
ALTER TABLE campaign_files ADD COLUMN stat_mtime_ns INTEGER;
ALTER TABLE campaign_files ADD COLUMN stat_ctime_ns INTEGER;
ALTER TABLE campaign_files ADD COLUMN repeats INTEGER NOT NULL DEFAULT 0;
ALTER TABLE campaign_files ADD COLUMN recheck INTEGER NOT NULL DEFAULT 0;
CREATE TABLE ingest_state (
  name  TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
)sql";

// Version 8. The job change log: every insert, delete and change of a job's scheduling
// columns (state, due, expires, not_before, priority, app, target), by whatever process,
// appends the job's id, so that the daemon brings its scheduler in line with the store
// by re-reading only the jobs changed since the last change it saw (Store::
// ForEachJobChangedSince), then prunes what it consumed (AUTOINCREMENT: a pruned seq is
// never handed out again). jobs_queued covers the queued
// jobs' scheduling columns in id order: the daemon's start-up reads the whole queue from
// it without touching the table (and its bodies). scheduled -> ready alone (the
// promotion of due jobs) changes nothing the scheduler keeps and is not logged.
constexpr std::string_view kSchema8 = R"sql(
CREATE INDEX jobs_queued ON jobs(id, app, target, state, priority, due, expires, not_before)
  WHERE state IN ('scheduled', 'ready');
CREATE TABLE job_changes (
  seq    INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused once pruned
  job_id INTEGER NOT NULL
);
CREATE TRIGGER job_changes_insert AFTER INSERT ON jobs BEGIN
  INSERT INTO job_changes (job_id) VALUES (NEW.id);
END;
CREATE TRIGGER job_changes_delete AFTER DELETE ON jobs BEGIN
  INSERT INTO job_changes (job_id) VALUES (OLD.id);
END;
CREATE TRIGGER job_changes_update
  AFTER UPDATE OF state, due, expires, not_before, priority, app, target ON jobs
  WHEN (OLD.state IS NOT NEW.state
        AND NOT (OLD.state = 'scheduled' AND NEW.state = 'ready'))
    OR OLD.due IS NOT NEW.due OR OLD.expires IS NOT NEW.expires
    OR OLD.not_before IS NOT NEW.not_before OR OLD.priority IS NOT NEW.priority
    OR OLD.app IS NOT NEW.app OR OLD.target IS NOT NEW.target
BEGIN
  INSERT INTO job_changes (job_id) VALUES (NEW.id);
END;
)sql";

// Version 9. What each operator action applied to, in a column (OperatorActionRow::scope:
// "job", "campaign ID", "endpoint APP TARGET") rather than read out of its detail. Rows
// from before are filled in from what their detail says ("campaign ID: N jobs
// cancelled", "APP TARGET[: reason]"), as --history read them until now.
constexpr std::string_view kSchema9 = R"sql(
ALTER TABLE operator_actions ADD COLUMN scope TEXT NOT NULL DEFAULT '';
UPDATE operator_actions SET scope = 'job' WHERE job_id IS NOT NULL;
UPDATE operator_actions SET scope = 'campaign ' || substr(detail, 10, instr(detail, ':') - 10)
  WHERE job_id IS NULL AND action = 'cancel_campaign' AND detail LIKE 'campaign %:%';
UPDATE operator_actions
  SET scope = 'endpoint ' || CASE WHEN instr(detail, ':') > 0
                                  THEN substr(detail, 1, instr(detail, ':') - 1) ELSE detail END
  WHERE job_id IS NULL AND action IN ('pause', 'resume');
)sql";

// Version 10. Adoption: a queue created at this start does not send the campaigns it
// finds already in the folder (they may have gone out from a queue that was lost: a
// purge, a deleted database). queue_adoption has its one row from the creation of the
// database until the first scan is over (Store::EndAdoption): every campaign created
// meanwhile is adopted, a row of adopted_campaigns, and its queued jobs are held until an
// operator confirms it (Store::ConfirmAdopted). A database migrated from version 9 is no
// new queue: it gets the tables and no row.
constexpr std::string_view kSchema10 = R"sql(
CREATE TABLE IF NOT EXISTS queue_adoption (
  id INTEGER PRIMARY KEY CHECK (id = 1)
);
CREATE TABLE IF NOT EXISTS adopted_campaigns (
  campaign_ref INTEGER PRIMARY KEY REFERENCES campaigns(id),
  since        INTEGER NOT NULL
);
)sql";
// Run with kSchema10 when the database was created by this migration (version 0).
constexpr std::string_view kNewQueue = "INSERT INTO queue_adoption (id) VALUES (1)";
constexpr int kAdoptionVersion = 10;

// Version 11. Signed campaigns (src/signature/):
//  - campaign_signatures: per campaign, the signers of the version the store has (one
//    line, "alice@example.com, bob@example.com"), the signatures that did not count, and
//    `held`, why its jobs wait (NULL: they do not): "unsigned: users needs 2 signers, has 1
//    (alice@example.com)". A claim of a job of a held campaign is refused, and the
//    scheduler leaves them out; a change of `held` logs the campaign's queued jobs in
//    job_changes so that the daemon's scheduler reads them again.
//  - attempts.signers: the signers of the campaign version a request carried, kept in the
//    audit with it (copied at the claim); NULL when signatures were off.
//  - signature_checks: ssh-keygen's verdicts by (file bytes, signature bytes, signers
//    files) digest, so that a restart does not run it again for unchanged bytes.
constexpr std::string_view kSchema11 = R"sql(
CREATE TABLE campaign_signatures (
  campaign_ref INTEGER PRIMARY KEY REFERENCES campaigns(id),
  signers      TEXT NOT NULL DEFAULT '',
  problems     TEXT NOT NULL DEFAULT '',
  held         TEXT,
  since        INTEGER NOT NULL
);
ALTER TABLE attempts ADD COLUMN signers TEXT;
CREATE TABLE signature_checks (
  key        TEXT PRIMARY KEY,
  verdict    TEXT NOT NULL,
  checked_at INTEGER NOT NULL
);
)sql";

constexpr std::array<Migration, 11> kMigrations = {{
    {1, kSchema1},
    {2, kSchema2},
    {3, kSchema3, MoveToCampaignIdentity},
    {4, kSchema4},
    {5, kSchema5},
    {6, kSchema6},
    {7, kSchema7},
    {8, kSchema8},
    {9, kSchema9},
    {kAdoptionVersion, kSchema10},
    {11, kSchema11},
}};

int UserVersion(SQLite::Database& db) { return db.execAndGet("PRAGMA user_version").getInt(); }

// Turns foreign keys off for one migration step (when `wanted`) and back on after it.
// PRAGMA foreign_keys is a no-op inside a transaction, so this wraps the transaction.
class ForeignKeysOff {
 public:
  ForeignKeysOff(SQLite::Database& db, bool wanted) : db_(db) {
    if (wanted && db_.execAndGet("PRAGMA foreign_keys").getInt() != 0) {
      db_.exec("PRAGMA foreign_keys = OFF");
      turned_off_ = true;
    }
  }
  ~ForeignKeysOff() {
    if (!turned_off_) return;
    try {
      db_.exec("PRAGMA foreign_keys = ON");
    } catch (...) {  // a destructor must not throw; the next Open sets it again
    }
  }
  ForeignKeysOff(const ForeignKeysOff&) = delete;
  ForeignKeysOff& operator=(const ForeignKeysOff&) = delete;

 private:
  SQLite::Database& db_;
  bool turned_off_ = false;
};

}  // namespace

std::span<const Migration> Migrations() { return kMigrations; }

int CurrentSchemaVersion() { return kMigrations.back().version; }

void Migrate(SQLite::Database& db) {
  // The common case, an up-to-date database, takes no write lock.
  if (UserVersion(db) == CurrentSchemaVersion()) return;
  // A database this call creates is a new queue (kSchema10).
  const bool created = UserVersion(db) == 0;
  for (const Migration& step : kMigrations) {
    ForeignKeysOff keys_off(db, step.apply != nullptr && UserVersion(db) < step.version);
    SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
    // Read inside the transaction: another process may have migrated meanwhile.
    int version = UserVersion(db);
    if (version > CurrentSchemaVersion()) {
      throw std::runtime_error("schema version " + std::to_string(version) +
                               " is newer than this broadcastd supports (" +
                               std::to_string(CurrentSchemaVersion()) +
                               "); run a newer broadcastd");
    }
    if (version >= step.version) continue;
    if (version != step.version - 1) {
      throw std::runtime_error("schema version " + std::to_string(version) +
                               " has no migration to " + std::to_string(step.version));
    }
    db.exec(std::string(step.sql));
    if (step.version == kAdoptionVersion && created) db.exec(std::string(kNewQueue));
    if (step.apply) {
      step.apply(db);
      if (SQLite::Statement check(db, "PRAGMA foreign_key_check"); check.executeStep()) {
        throw std::runtime_error("migration " + std::to_string(step.version) +
                                 " left a dangling reference in table " +
                                 check.getColumn(0).getString());
      }
    }
    db.exec("PRAGMA user_version = " + std::to_string(step.version));
    tx.commit();
  }
}

}  // namespace broadcastd
