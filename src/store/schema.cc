#include "store/schema.h"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Transaction.h>

#include <array>
#include <stdexcept>
#include <string>

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

constexpr std::array<Migration, 6> kMigrations = {{
    {1, kSchema1},
    {2, kSchema2},
    {3, ""},
    {4, ""},
    {5, ""},
    {6, kSchema6},
}};

int UserVersion(SQLite::Database& db) { return db.execAndGet("PRAGMA user_version").getInt(); }

}  // namespace

std::span<const Migration> Migrations() { return kMigrations; }

int CurrentSchemaVersion() { return kMigrations.back().version; }

void Migrate(SQLite::Database& db) {
  // The common case, an up-to-date database, takes no write lock.
  if (UserVersion(db) == CurrentSchemaVersion()) return;
  for (const Migration& step : kMigrations) {
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
    db.exec("PRAGMA user_version = " + std::to_string(step.version));
    tx.commit();
  }
}

}  // namespace broadcastd
