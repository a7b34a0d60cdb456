#include "ha/sender_lease.h"

#include <pqxx/pqxx>

namespace broadcastd {
namespace {

constexpr const char* kLeaseName = "sender";

// Milliseconds since the epoch of a timestamptz expression.
std::string Ms(const std::string& expr) {
  return "(extract(epoch from " + expr + ") * 1000)::bigint";
}

std::string Trimmed(std::string what) {
  while (!what.empty() && (what.back() == '\n' || what.back() == ' ')) what.pop_back();
  return what;
}

// A database failure as an error of the right kind: a lost connection is kUnavailable
// (try later), anything else kIo.
Error DatabaseError(const std::string& doing, const std::exception& e) {
  const bool lost = dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr ||
                    dynamic_cast<const pqxx::in_doubt_error*>(&e) != nullptr;
  return Error{"lease: " + doing + ": " + Trimmed(e.what()),
               lost ? ErrorKind::kUnavailable : ErrorKind::kIo};
}

const std::string& SelectLease() {
  static const std::string sql = "SELECT holder, epoch, " + Ms("since") + ", " + Ms("expires_at") +
                                 ", " + Ms("clock_timestamp()") +
                                 " FROM broadcastd_lease WHERE name = $1";
  return sql;
}

LeaseView ViewOf(const pqxx::row& row) {
  LeaseView view;
  view.holder = row[0].as<std::string>();
  view.epoch = row[1].as<int64_t>();
  view.since = FromMillis(row[2].as<int64_t>());
  view.expires = FromMillis(row[3].as<int64_t>());
  view.db_now = FromMillis(row[4].as<int64_t>());
  return view;
}

}  // namespace

SenderLease::SenderLease(pqxx::connection& conn, std::string node, LeaseOptions options,
                         const Clock& clock)
    : conn_(conn), node_(std::move(node)), options_(options), clock_(clock) {}

Status SenderLease::CreateSchema(pqxx::connection& conn) {
  try {
    pqxx::work tx(conn);
    // Two daemons starting together: one creates, the other waits on the lock and finds it.
    tx.exec("SELECT pg_advisory_xact_lock(hashtext('broadcastd_lease'))");
    tx.exec(
        "CREATE TABLE IF NOT EXISTS broadcastd_lease ("
        " name text PRIMARY KEY,"
        " holder text NOT NULL,"
        " epoch bigint NOT NULL,"
        " since timestamptz NOT NULL,"
        " expires_at timestamptz NOT NULL)");
    tx.exec(
        "CREATE TABLE IF NOT EXISTS broadcastd_nodes ("
        " node text PRIMARY KEY,"
        " last_seen timestamptz NOT NULL)");
    // The row always exists, so that every tick can lock it: never held, long expired.
    tx.exec_params(
        "INSERT INTO broadcastd_lease (name, holder, epoch, since, expires_at)"
        " VALUES ($1, '', 0, 'epoch', 'epoch') ON CONFLICT (name) DO NOTHING",
        kLeaseName);
    tx.commit();
    return {};
  } catch (const std::exception& e) {
    return std::unexpected(DatabaseError("creating its tables", e));
  }
}

Result<LeaseTick> SenderLease::Tick() {
  // Measured before the request leaves: the database sets the expiry later than this.
  const MonoTime started = clock_.Monotonic();
  const auto ttl_ms = static_cast<int64_t>(options_.ttl.count());
  try {
    pqxx::work tx(conn_);
    const pqxx::row row = tx.exec_params1(SelectLease() + " FOR UPDATE", kLeaseName);
    const LeaseView before = ViewOf(row);
    LeaseTick tick;
    tick.epoch = before.epoch;
    const bool mine = before.holder == node_ && !before.Expired();
    if (mine) {
      tx.exec_params(
          "UPDATE broadcastd_lease SET expires_at = clock_timestamp() + $2 * interval '1 ms'"
          " WHERE name = $1",
          kLeaseName, ttl_ms);
      tick.role = LeaseRole::kLeader;
    } else if (before.Expired()) {
      tx.exec_params(
          "UPDATE broadcastd_lease SET holder = $2, epoch = epoch + 1, since = clock_timestamp(),"
          " expires_at = clock_timestamp() + $3 * interval '1 ms' WHERE name = $1",
          kLeaseName, node_, ttl_ms);
      tick.role = LeaseRole::kLeader;
      tick.acquired = true;
      tick.previous_holder = before.holder;
      tick.epoch = before.epoch + 1;
    }
    tx.exec_params(
        "INSERT INTO broadcastd_nodes (node, last_seen) VALUES ($1, clock_timestamp())"
        " ON CONFLICT (node) DO UPDATE SET last_seen = EXCLUDED.last_seen",
        node_);
    tick.lease = ViewOf(tx.exec_params1(SelectLease(), kLeaseName));
    tx.commit();
    tick.valid_until = started + options_.ttl;
    return tick;
  } catch (const std::exception& e) {
    return std::unexpected(DatabaseError("renewing", e));
  }
}

Status SenderLease::Release(int64_t epoch) {
  try {
    pqxx::work tx(conn_);
    tx.exec_params(
        "UPDATE broadcastd_lease SET expires_at = clock_timestamp()"
        " WHERE name = $1 AND holder = $2 AND epoch = $3 AND expires_at > clock_timestamp()",
        kLeaseName, node_, epoch);
    tx.commit();
    return {};
  } catch (const std::exception& e) {
    return std::unexpected(DatabaseError("releasing", e));
  }
}

Result<LeaseView> SenderLease::Current(pqxx::connection& conn) {
  try {
    pqxx::read_transaction tx(conn);
    return ViewOf(tx.exec_params1(SelectLease(), kLeaseName));
  } catch (const std::exception& e) {
    return std::unexpected(DatabaseError("reading", e));
  }
}

Result<std::vector<NodeSeen>> SenderLease::Nodes(pqxx::connection& conn) {
  try {
    pqxx::read_transaction tx(conn);
    const pqxx::result rows = tx.exec_params(
        "SELECT n.node, n.node = l.holder AND l.expires_at > clock_timestamp(), " +
            Ms("n.last_seen") + ", " + Ms("clock_timestamp()") +
            " FROM broadcastd_nodes n CROSS JOIN broadcastd_lease l WHERE l.name = $1"
            " ORDER BY n.node",
        kLeaseName);
    std::vector<NodeSeen> nodes;
    for (const pqxx::row& row : rows) {
      NodeSeen seen;
      seen.node = row[0].as<std::string>();
      seen.holder = row[1].as<bool>();
      seen.last_seen = FromMillis(row[2].as<int64_t>());
      seen.ago = FromMillis(row[3].as<int64_t>()) - seen.last_seen;
      nodes.push_back(std::move(seen));
    }
    return nodes;
  } catch (const std::exception& e) {
    return std::unexpected(DatabaseError("reading the nodes", e));
  }
}

Status SenderLease::CheckHeld(pqxx::transaction_base& tx, const std::string& node, int64_t epoch) {
  try {
    const pqxx::result held = tx.exec_params(
        "SELECT 1 FROM broadcastd_lease WHERE name = $1 AND holder = $2 AND epoch = $3"
        " AND expires_at > clock_timestamp() FOR SHARE",
        kLeaseName, node, epoch);
    if (held.empty()) {
      return Fail(ErrorKind::kConflict, "lease: " + node +
                                            " no longer holds the sender lease at epoch " +
                                            std::to_string(epoch) + "; it claims nothing");
    }
    return {};
  } catch (const std::exception& e) {
    return std::unexpected(DatabaseError("checking", e));
  }
}

}  // namespace broadcastd
