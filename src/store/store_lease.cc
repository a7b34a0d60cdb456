// Store: the sender lease of a PostgreSQL database (DESIGN.md, "More than one host"): one
// sender at a time among the daemons sharing it. The lease is one row of broadcastd_lease
// (holder, epoch, since, expiry), made with the schema (schema_postgres.cc); each daemon
// records itself in broadcastd_nodes at every renewal. Every time is the database's clock
// (clock_timestamp()), so the hosts' clocks never have to agree. The lease is checked in
// one place, the claim's transaction (ClaimForSending, store_queue.cc).

#include <utility>

#include "store/sql_access.h"

namespace broadcastd {
namespace {

// Milliseconds since the epoch of a timestamptz expression.
std::string Ms(const std::string& expr) {
  return "(extract(epoch FROM " + expr + ") * 1000)::bigint";
}

const std::string& SelectLease() {
  static const std::string sql = "SELECT holder, epoch, " + Ms("since") + ", " + Ms("expires_at") +
                                 ", " + Ms("clock_timestamp()") +
                                 " FROM broadcastd_lease WHERE name = 'sender'";
  return sql;
}

Store::LeaseStatus ReadLease(sql::Statement& q) {
  Store::LeaseStatus lease;
  lease.holder = q.getColumn(0).getString();
  lease.epoch = q.getColumn(1).getInt64();
  lease.since = Time(q.getColumn(2));
  lease.expires = Time(q.getColumn(3));
  lease.db_now = Time(q.getColumn(4));
  return lease;
}

// A transaction of the lease's own, rolled back unless committed. Not the writers' one
// (BeginWrite): a renewal must not wait behind another daemon's ingestion batch for the
// writers' lock, and it changes nothing another daemon's queue shows, so it sends no
// notification. Its row lock (FOR UPDATE) waits for a claim in progress (FOR SHARE).
class LeaseTransaction {
 public:
  explicit LeaseTransaction(sql::Connection& db) : db_(db) {
    db_.exec("BEGIN ISOLATION LEVEL READ COMMITTED");
  }
  ~LeaseTransaction() {
    if (!open_) return;
    try {
      db_.Rollback();
    } catch (...) {  // nothing more to undo
    }
  }
  LeaseTransaction(const LeaseTransaction&) = delete;
  LeaseTransaction& operator=(const LeaseTransaction&) = delete;
  void Commit() {
    open_ = false;
    db_.Commit();
  }

 private:
  sql::Connection& db_;
  bool open_ = true;
};

}  // namespace

Result<Store::LeaseTick> Store::TickSenderLease(const std::string& node, Duration ttl,
                                                MonoTime started) {
  if (!IsPostgres()) return Fail(ErrorKind::kInvalid, "the sender lease is PostgreSQL's");
  return Read("renew the sender lease", [&]() -> Result<LeaseTick> {
    const auto ttl_ms = static_cast<int64_t>(ttl.count());
    LeaseTransaction tx(*db_);
    sql::Statement lock(*db_, SelectLease() + " FOR UPDATE");
    if (!lock.executeStep()) {
      return Fail(ErrorKind::kCorrupt, "the sender lease's row is missing");
    }
    const LeaseStatus before = ReadLease(lock);
    const bool expired = before.expires <= before.db_now;
    LeaseTick tick;
    if (before.holder == node && !expired) {
      sql::Statement renew(*db_,
                           "UPDATE broadcastd_lease SET expires_at = clock_timestamp() + "
                           "? * interval '1 ms' WHERE name = 'sender'");
      renew.bind(1, ttl_ms);
      renew.exec();
      tick.leading = true;
    } else if (expired) {
      // Whoever held it (this node too, after a pause): the epoch moves on.
      sql::Statement take(*db_,
                          "UPDATE broadcastd_lease SET holder = ?, epoch = epoch + 1, "
                          "since = clock_timestamp(), expires_at = clock_timestamp() + "
                          "? * interval '1 ms' WHERE name = 'sender'");
      take.bind(1, node);
      take.bind(2, ttl_ms);
      take.exec();
      tick.leading = true;
      tick.acquired = true;
      tick.previous_holder = before.holder;
    }
    sql::Statement seen(*db_,
                        "INSERT INTO broadcastd_nodes (node, last_seen) VALUES (?, "
                        "clock_timestamp()) ON CONFLICT (node) DO UPDATE SET last_seen = "
                        "EXCLUDED.last_seen");
    seen.bind(1, node);
    seen.exec();
    sql::Statement after(*db_, SelectLease());
    after.executeStep();
    tick.lease = ReadLease(after);
    tx.Commit();
    // Measured by the caller before the renewal left: the database's expiry is later.
    tick.valid_until = started + ttl;
    return tick;
  });
}

Status Store::ReleaseSenderLease(const std::string& node, int64_t epoch) {
  if (!IsPostgres()) return {};
  return Read("release the sender lease", [&]() -> Status {
    sql::Statement release(*db_,
                           "UPDATE broadcastd_lease SET expires_at = clock_timestamp() "
                           "WHERE name = 'sender' AND holder = ? AND epoch = ? "
                           "AND expires_at > clock_timestamp()");
    release.bind(1, node);
    release.bind(2, epoch);
    release.exec();
    return {};
  });
}

Result<std::optional<Store::LeaseStatus>> Store::SenderLeaseStatus() {
  if (!IsPostgres()) return std::optional<LeaseStatus>();
  return Read("read the sender lease", [&]() -> Result<std::optional<LeaseStatus>> {
    sql::Statement lease(*db_, SelectLease());
    if (!lease.executeStep()) return std::optional<LeaseStatus>();
    LeaseStatus status = ReadLease(lease);
    sql::Statement nodes(*db_, "SELECT node, " + Ms("last_seen") +
                                   " FROM broadcastd_nodes ORDER BY node COLLATE \"C\"");
    while (nodes.executeStep()) {
      status.nodes.push_back({nodes.getColumn(0).getString(), Time(nodes.getColumn(1))});
    }
    return std::optional<LeaseStatus>(std::move(status));
  });
}

}  // namespace broadcastd
