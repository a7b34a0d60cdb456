#pragma once
// The daemon's configuration (DESIGN.md, "Daemon configuration").

#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "core/clock.h"
#include "core/error.h"
#include "core/limits.h"
#include "core/target.h"

namespace broadcastd {

struct AppConfig {
  std::string name;  // the key under `apps`, used by campaigns
  std::string host;  // "https://a1.easemob.com"; http:// only to loopback
  std::string org;
  std::string app;
  std::string client_id;
  // Exactly one of these two is set. Relative paths are resolved under
  // $CREDENTIALS_DIRECTORY at use, not at load (the file holds a secret).
  std::optional<std::filesystem::path> client_secret_file;
  std::optional<std::filesystem::path> token_file;
  std::map<BroadcastTarget, int> daily_budget;  // per-app overrides of limits.daily
};

// Signed campaigns (off when absent): a campaign is sent only once enough distinct people
// named in allowed_signers signed its file's bytes (src/signature/).
struct SignatureConfig {
  std::filesystem::path allowed_signers;  // OpenSSH's format (ssh-keygen(1), ALLOWED SIGNERS)
  std::optional<std::filesystem::path> revoked;  // a KRL or a list of keys (ssh-keygen -r)
  // Distinct signers a campaign needs per target it broadcasts to; a target not named: 0.
  std::map<BroadcastTarget, int> required;
  // How long one ssh-keygen run may take before it is ended and the signature not counted.
  Duration verify_timeout{5000};
};

struct Config {
  std::filesystem::path source;  // the file it was read from
  // A SQLite file (default: $STATE_DIRECTORY/queue.db), or a PostgreSQL database shared by
  // several daemons, named by a libpq URI ("postgresql://user@host:5432/dbname").
  std::filesystem::path database;
  // PostgreSQL: the credential file holding the password (like client_secret_file, never
  // the password itself); none: libpq's own means (~/.pgpass, peer or certificate).
  std::optional<std::filesystem::path> database_password_file;
  // This daemon's name among those sharing a PostgreSQL database: default the host name.
  std::string node_name;
  // PostgreSQL: how long the sender lease lasts unless renewed (renewed every third of
  // it). A standby takes over at most this plus one renewal period after the sender died.
  Duration sender_lease_ttl{15000};
  std::filesystem::path campaigns_dir;  // relative paths: against the config's folder
  std::map<std::string, AppConfig> apps;
  std::map<BroadcastTarget, EndpointLimits> limits;  // all three present after loading
  Duration day_boundary{0};  // offset of the budget day's start from 00:00 UTC
  // The lateness guard: a one-shot job not sent by its due time plus this expires (a
  // broadcast's own max_delay wins); nullopt: "none", however late.
  std::optional<Duration> max_delay{std::chrono::hours(24)};
  // What a queue created at this start (a new database: a first installation, a purge and
  // reinstall, a lost queue.db) does with the campaigns its first scan finds: kHold
  // adopts them, held until an operator confirms (--confirm); kSend sends them as new.
  enum class NewQueue { kHold, kSend };
  NewQueue on_new_queue = NewQueue::kHold;
  // Added to every rate window so that clock and latency differences with the
  // server never turn an exact-to-the-millisecond send into a 429.
  Duration safety_margin{100};
  // "HOST:PORT" of the read-only HTTP listener (metrics at /metrics, the status page at
  // /); none when unset. A loopback host unless http_listen_public is true.
  std::optional<std::string> http_listen;
  bool http_listen_public = false;
  std::optional<SignatureConfig> signatures;

  // The limits of one app's endpoint, with its daily_budget override applied.
  EndpointLimits LimitsFor(const std::string& app, BroadcastTarget target) const;
  // Whether `database` names a PostgreSQL database rather than a SQLite file.
  bool DatabaseIsPostgres() const;
};

// Where relative credential names are looked up: $CREDENTIALS_DIRECTORY under systemd;
// from a shell, the folder the unit loads them from, "credentials" beside the config
// (/etc/broadcastd/credentials).
std::filesystem::path CredentialsDirectory(const Config& config);

// This host's name (node_name's default).
std::string HostName();

// http_listen split: "127.0.0.1:9464", "[::1]:9464", "localhost:9464". Fails for a
// missing or bad port, or a host that is empty.
struct ListenAddress {
  std::string host;       // without brackets
  int port = 0;           // 0: any free port
  bool loopback = false;  // 127.0.0.0/8, ::1 or localhost
};
Result<ListenAddress> ParseListenAddress(const std::string& text);

}  // namespace broadcastd
