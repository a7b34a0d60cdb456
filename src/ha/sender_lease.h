#pragma once
// One sender at a time among daemons sharing a PostgreSQL database (DESIGN.md, "More than
// one host"). The lease is one row: holder, epoch, since, expiry. Every time is the
// database's clock (clock_timestamp()), so the hosts' clocks never have to agree.
//
//   SenderLease lease(conn, "host-a", {.ttl = 15s}, clock);
//   every renew period:  auto tick = lease.Tick();
//     tick->role == kLeader: may claim until tick->valid_until (its own monotonic clock),
//       each claim checked with CheckHeld(tx, node, tick->epoch) in the claim's transaction;
//       tick->acquired: this tick took the lease (a take-over when previous_holder is set).
//     tick->role == kStandby: claims nothing; tick->lease says who holds it.
//   clean stop: lease.Release() lets a standby take over at its next tick.
//
// Fencing: a holder that stalled past its expiry (a pause, a partition) cannot claim once
// another daemon took over: the take-over bumps the epoch, and CheckHeld fails for the old
// epoch. CheckHeld locks the row (FOR SHARE) until the claim's transaction ends, so a
// take-over waits for a claim in progress and then sees its job `sending`.

#include <chrono>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/error.h"

namespace broadcastd {

struct LeaseOptions {
  Duration ttl{std::chrono::seconds(15)};
};

// The lease row as the database saw it.
struct LeaseView {
  std::string holder;  // empty: never held
  int64_t epoch = 0;
  TimePoint since;    // when the holder acquired it (database clock)
  TimePoint expires;  // database clock
  TimePoint db_now;   // the database's clock when it was read
  bool Expired() const { return expires <= db_now; }
};

enum class LeaseRole { kLeader, kStandby };

struct LeaseTick {
  LeaseRole role = LeaseRole::kStandby;
  int64_t epoch = 0;      // the lease's epoch (ours when kLeader)
  bool acquired = false;  // kLeader, and this tick took the lease (not a renewal)
  // When acquired: the holder it took the lease from (empty: the lease was never held).
  std::string previous_holder;
  // kLeader: claim nothing after this on the local monotonic clock (the tick's start plus
  // the TTL: the database's expiry is never earlier).
  MonoTime valid_until;
  LeaseView lease;  // after the tick
};

// A daemon seen by the lease (each one records itself at every tick).
struct NodeSeen {
  std::string node;
  bool holder = false;
  TimePoint last_seen;  // database clock
  Duration ago{0};      // how long before the database's now
};

class SenderLease {
 public:
  // REQUIRES: `conn` and `clock` outlive the lease; the schema exists (CreateSchema).
  SenderLease(pqxx::connection& conn, std::string node, LeaseOptions options, const Clock& clock);

  // Creates the lease and node tables if missing (idempotent, safe to race).
  static Status CreateSchema(pqxx::connection& conn);

  // Renews the lease when this node holds it and it has not expired; takes it when it has
  // expired (whoever held it: the epoch moves on); else records this node as a standby.
  // kUnavailable when the database cannot be reached: the caller must then claim nothing
  // past the last tick's valid_until.
  Result<LeaseTick> Tick();

  // Gives the lease up at once when this node holds it at `epoch` (a clean stop).
  Status Release(int64_t epoch);

  // The lease row, and every node seen, for --status.
  static Result<LeaseView> Current(pqxx::connection& conn);
  static Result<std::vector<NodeSeen>> Nodes(pqxx::connection& conn);

  // In a claim's transaction: kConflict unless `node` holds the lease at `epoch` and it has
  // not expired by the database's clock. Locks the lease row until `tx` ends.
  static Status CheckHeld(pqxx::transaction_base& tx, const std::string& node, int64_t epoch);

  const std::string& node() const { return node_; }

 private:
  pqxx::connection& conn_;
  std::string node_;
  LeaseOptions options_;
  const Clock& clock_;
};

}  // namespace broadcastd
