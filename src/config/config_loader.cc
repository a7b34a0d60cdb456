#include "config/config_loader.h"

#include <algorithm>
#include <cctype>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "config/app_host.h"
#include "core/time_format.h"
#include "database_uri/database_uri.h"
#include "document/document.h"

namespace broadcastd {
namespace {

using Json = nlohmann::json;
using Pointer = Json::json_pointer;

constexpr const char* kSecretHint = "secrets never go in the config";

// Keys that would put a secret in the config, and where it belongs instead.
const char* SecretFileFor(const std::string& key) {
  if (key == "database_password") return "database_password_file";
  if (key == "client_secret" || key == "secret" || key == "password") return "client_secret_file";
  if (key == "token" || key == "app_token" || key == "access_token") return "token_file";
  return nullptr;
}

std::string Format(const Diagnostic& d) {
  std::string out = d.file;
  if (d.line > 0) {
    out += ':' + std::to_string(d.line);
    if (d.column > 0) out += ':' + std::to_string(d.column);
  }
  return out + ": " + d.message;
}

class ConfigReader {
 public:
  ConfigReader(const Document& doc, const std::filesystem::path& source)
      : doc_(doc), source_(source) {}

  Result<Config> Read() {
    Config config;
    config.source = source_;
    CheckKeys(Pointer(""),
              {"database", "database_password_file", "node_name", "sender_lease_ttl_ms",
               "campaigns_dir", "apps", "limits", "day_boundary", "max_delay", "safety_margin_ms",
               "http_listen", "http_listen_public", "on_new_queue", "signatures"});
    ReadDatabase(config);
    ReadNode(config);
    if (auto dir = RequiredString(Pointer("/campaigns_dir"))) config.campaigns_dir = Resolve(*dir);
    ReadApps(config);
    ReadLimits(config);
    if (const Json* boundary = Node(Pointer("/day_boundary"))) {
      ReadDayBoundary(boundary->is_string() ? boundary->get<std::string>() : "", config);
    }
    ReadMaxDelay(config);
    ReadOnNewQueue(config);
    if (const Json* margin = Node(Pointer("/safety_margin_ms"))) {
      if (!margin->is_number_integer() || margin->get<int64_t>() < 0 ||
          margin->get<int64_t>() > 60000) {
        Problem(Pointer("/safety_margin_ms"), "must be an integer from 0 to 60000 (milliseconds)");
      } else {
        config.safety_margin = Duration(margin->get<int64_t>());
      }
    }
    ReadHttpListen(config);
    ReadSignatures(config);
    if (!problems_.empty()) return Fail(ErrorKind::kInvalid, ProblemsInFileOrder());
    return config;
  }

 private:
  void ReadDatabase(Config& config) {
    if (auto path = OptionalString(Pointer("/database"))) {
      // A PostgreSQL URI is taken as written; a file is relative to the config's folder.
      config.database = IsPostgresUri(*path) ? std::filesystem::path(*path) : Resolve(*path);
      if (IsPostgresUri(*path)) {
        // Never the URI itself in the message: it may hold the password.
        if (auto problem = PgUriProblem(*path)) Problem(Pointer("/database"), *problem);
      }
    } else if (!doc_.json().contains("database")) {
      config.database = DefaultDatabasePath(std::getenv("STATE_DIRECTORY"));
    }
    config.database_password_file = CredentialFileName(Pointer("/database_password_file"));
    if (config.database_password_file && !config.DatabaseIsPostgres()) {
      Problem(Pointer("/database_password_file"),
              "only for a PostgreSQL database (database: \"postgresql://...\")");
    }
  }

  // This daemon's name among those sharing a database, and the sender lease's TTL.
  void ReadNode(Config& config) {
    if (auto node = OptionalString(Pointer("/node_name"))) {
      const bool printable = std::all_of(node->begin(), node->end(),
                                         [](unsigned char c) { return c > 0x20 && c < 0x7f; });
      if (node->empty() || node->size() > 64 || !printable) {
        Problem(Pointer("/node_name"), "must be 1 to 64 printable characters without spaces");
      } else {
        config.node_name = *node;
      }
    }
    if (config.node_name.empty()) config.node_name = HostName();
    if (const Json* ttl = Node(Pointer("/sender_lease_ttl_ms"))) {
      if (!ttl->is_number_integer() || ttl->get<int64_t>() < 1000 || ttl->get<int64_t>() > 600000) {
        Problem(Pointer("/sender_lease_ttl_ms"),
                "must be an integer from 1000 to 600000 (milliseconds)");
      } else {
        config.sender_lease_ttl = Duration(ttl->get<int64_t>());
      }
    }
  }

  // Every problem found, one a line, in file order, as an operator fixes them.
  std::string ProblemsInFileOrder() {
    std::stable_sort(problems_.begin(), problems_.end(),
                     [](const Diagnostic& a, const Diagnostic& b) {
                       return std::tie(a.line, a.column) < std::tie(b.line, b.column);
                     });
    std::string message;
    for (const Diagnostic& d : problems_) {
      if (!message.empty()) message += '\n';
      message += Format(d);
    }
    return message;
  }

  void ReadHttpListen(Config& config) {
    if (const Json* open = Node(Pointer("/http_listen_public"))) {
      if (!open->is_boolean()) {
        Problem(Pointer("/http_listen_public"), "must be true or false");
      } else {
        config.http_listen_public = open->get<bool>();
      }
    }
    auto listen = OptionalString(Pointer("/http_listen"));
    if (!listen) return;
    auto address = ParseListenAddress(*listen);
    if (!address) {
      Problem(Pointer("/http_listen"), address.error().message);
    } else if (!address->loopback && !config.http_listen_public) {
      Problem(Pointer("/http_listen"),
              "\"" + address->host +
                  "\" is not a loopback address; the listener serves the queue's contents "
                  "without authentication: set http_listen_public: true to allow it");
    } else {
      config.http_listen = *listen;
    }
  }

  // A problem with the node at `at`, reported at its key (or at the key of the
  // mapping that lacks it, for a missing key), naming `path`.
  void Problem(const Pointer& at, const std::string& path, const std::string& why) {
    Diagnostic d = doc_.AtKey(at, "config", path + ": " + why);
    if (at.empty()) d.line = d.column = 0;  // a missing top-level key: the whole file
    problems_.push_back(std::move(d));
  }
  void Problem(const Pointer& at, const std::string& why) { Problem(at, doc_.KeyPath(at), why); }

  const Json* Node(const Pointer& at) const {
    return doc_.json().contains(at) ? &doc_.json().at(at) : nullptr;
  }

  void CheckKeys(const Pointer& at, const std::set<std::string>& allowed) {
    const Json* node = Node(at);
    if (!node || !node->is_object()) return;
    for (const auto& [key, value] : node->items()) {
      if (allowed.contains(key)) continue;
      if (const char* file_key = SecretFileFor(key)) {
        Problem(at / key, std::string(kSecretHint) + ": put it in a file readable only by the " +
                              "service and name that file with " + file_key);
      } else {
        std::string list;
        for (const std::string& a : allowed) list += (list.empty() ? "" : ", ") + a;
        Problem(at / key, "unknown key (allowed: " + list + ")");
      }
    }
  }

  std::optional<std::string> OptionalString(const Pointer& at) {
    const Json* node = Node(at);
    if (!node) return std::nullopt;
    if (!node->is_string() || node->get_ref<const std::string&>().empty()) {
      Problem(at, "must be a non-empty string");
      return std::nullopt;
    }
    return node->get<std::string>();
  }

  std::optional<std::string> RequiredString(const Pointer& at) {
    if (!Node(at)) {
      Problem(at.parent_pointer(), doc_.KeyPath(at), "is required");
      return std::nullopt;
    }
    return OptionalString(at);
  }

  // An integer in [min, INT_MAX].
  std::optional<int> Integer(const Pointer& at, int min) {
    const Json* node = Node(at);
    if (!node) return std::nullopt;
    if (!node->is_number_integer() || node->get<int64_t>() < min ||
        node->get<int64_t>() > INT_MAX) {
      Problem(at, "must be an integer of at least " + std::to_string(min));
      return std::nullopt;
    }
    return static_cast<int>(node->get<int64_t>());
  }

  bool IsMapping(const Pointer& at) {
    const Json* node = Node(at);
    if (node && node->is_object()) return true;
    if (node) Problem(at, "must be a mapping");
    return false;
  }

  std::filesystem::path Resolve(const std::string& text) const {
    std::filesystem::path path(text);
    if (path.is_absolute()) return path.lexically_normal();
    std::error_code ec;
    std::filesystem::path base = std::filesystem::absolute(source_, ec).parent_path();
    if (ec) base = source_.parent_path();
    return (base / path).lexically_normal();
  }

  void ReadApps(Config& config) {
    Pointer apps("/apps");
    if (!Node(apps)) {
      Problem(Pointer(""), "apps", "is required: name at least one app");
      return;
    }
    if (!IsMapping(apps)) return;
    if (Node(apps)->empty()) {
      Problem(apps, "must name at least one app");
      return;
    }
    for (const auto& [name, value] : Node(apps)->items()) {
      Pointer at = apps / name;
      if (name.empty()) Problem(at, "apps", "an app name must not be empty");
      if (!IsMapping(at)) continue;
      CheckKeys(at, {"host", "org", "app", "client_id", "client_secret_file", "token_file",
                     "daily_budget"});
      AppConfig app;
      app.name = name;
      if (auto host = RequiredString(at / "host")) {
        if (Result<std::string> checked = CheckAppHost(*host); checked) {
          app.host = *checked;
        } else {
          Problem(at / "host", checked.error().message);
        }
      }
      app.org = RequiredString(at / "org").value_or("");
      app.app = RequiredString(at / "app").value_or("");
      app.client_id = RequiredString(at / "client_id").value_or("");
      CheckNotPlaceholder(at / "org", app.org);
      CheckNotPlaceholder(at / "app", app.app);
      CheckNotPlaceholder(at / "client_id", app.client_id);
      bool has_secret = Node(at / "client_secret_file") != nullptr;
      bool has_token = Node(at / "token_file") != nullptr;
      if (has_secret == has_token) {
        Problem(at, has_secret ? "give only one of client_secret_file and token_file"
                               : "needs client_secret_file or token_file");
      }
      app.client_secret_file = CredentialFileName(at / "client_secret_file");
      app.token_file = CredentialFileName(at / "token_file");
      ReadDailyBudget(at / "daily_budget", app);
      CheckVendorAppUnique(config, at, app);
      config.apps.emplace(name, std::move(app));
    }
  }

  // The values the example config ships with (config/broadcastd.example.yaml, installed
  // as /etc/broadcastd/broadcastd.yaml): a daemon started on them would fail every
  // request, or reach someone else's app. An error, so that the unit does not start.
  void CheckNotPlaceholder(const Pointer& at, const std::string& value) {
    std::string lower = value;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (lower == "myorg" || lower == "myapp" || lower.find("replace-me") != std::string::npos) {
      Problem(at, "\"" + value +
                      "\" is the example config's placeholder: set the value from the Easemob "
                      "console before the daemon may start");
    }
  }

  // The vendor counts windows and budgets per org/app on a host: two names for one
  // vendor app would each get the whole budget, and together break it.
  void CheckVendorAppUnique(const Config& config, const Pointer& at, const AppConfig& app) {
    if (app.host.empty() || app.org.empty() || app.app.empty()) return;
    auto folded = [](std::string text) {
      std::transform(text.begin(), text.end(), text.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      return text;
    };
    for (const auto& [other_name, other] : config.apps) {
      if (folded(other.host) == folded(app.host) && folded(other.org) == folded(app.org) &&
          folded(other.app) == folded(app.app)) {
        Problem(at, "apps \"" + other_name + "\" and \"" + app.name + "\" both name " + app.host +
                        "/" + app.org + "/" + app.app +
                        ": the vendor counts one budget for it; keep one of them");
      }
    }
  }

  // The name of a credential file. A value that looks like the credential itself
  // (a long token with no '/' and no '.', or a very long one) is refused, and no
  // message repeats a credential key's value: it may be the secret.
  std::optional<std::filesystem::path> CredentialFileName(const Pointer& at) {
    std::optional<std::string> name = OptionalString(at);
    if (!name) return std::nullopt;
    const bool plain = name->find('/') == std::string::npos;
    if (plain &&
        ((name->find('.') == std::string::npos && name->size() >= 20) || name->size() > 80)) {
      Problem(at,
              "looks like a secret, not a file name: put the secret in a file (in "
              "/etc/broadcastd/credentials, readable by root only) and name that file here");
      return std::nullopt;
    }
    return std::filesystem::path(*name);
  }

  void ReadDailyBudget(const Pointer& at, AppConfig& app) {
    if (!IsMapping(at)) return;
    for (const auto& [key, value] : Node(at)->items()) {
      std::optional<BroadcastTarget> target = ParseTarget(key);
      if (!target) {
        Problem(at / key, "unknown target (allowed: users, online_users, chatrooms)");
        continue;
      }
      if (auto daily = Integer(at / key, 1)) app.daily_budget[*target] = *daily;
    }
  }

  void ReadLimits(Config& config) {
    for (BroadcastTarget target : kAllTargets) config.limits[target] = DefaultLimits(target);
    Pointer limits("/limits");
    if (!IsMapping(limits)) return;
    for (const auto& [key, value] : Node(limits)->items()) {
      Pointer at = limits / key;
      std::optional<BroadcastTarget> target = ParseTarget(key);
      if (!target) {
        Problem(at, "unknown target (allowed: users, online_users, chatrooms)");
        continue;
      }
      if (!IsMapping(at)) continue;
      CheckKeys(at, {"windows", "daily"});
      EndpointLimits& limit = config.limits[*target];
      if (auto daily = Integer(at / "daily", 1)) limit.daily = *daily;
      if (const Json* windows = Node(at / "windows")) {
        if (!windows->is_array() || windows->empty()) {
          Problem(at / "windows", "must be a non-empty list of {count, seconds}");
          continue;
        }
        limit.windows.clear();
        for (size_t i = 0; i < windows->size(); ++i) {
          if (auto window = ReadWindow(at / "windows" / i)) limit.windows.push_back(*window);
        }
      }
    }
  }

  std::optional<RateWindow> ReadWindow(const Pointer& at) {
    if (!Node(at)->is_object()) {
      Problem(at, "must be a mapping {count, seconds}");
      return std::nullopt;
    }
    CheckKeys(at, {"count", "seconds"});
    if (!Node(at / "count")) Problem(at, doc_.KeyPath(at / "count"), "is required");
    if (!Node(at / "seconds")) Problem(at, doc_.KeyPath(at / "seconds"), "is required");
    std::optional<int> count = Integer(at / "count", 1);
    std::optional<Duration> length;
    if (const Json* seconds = Node(at / "seconds")) {
      // Up to a year; fractions are kept to the millisecond.
      double value = seconds->is_number() ? seconds->get<double>() : 0;
      if (!seconds->is_number() || !(value * 1000 >= 1) || value > 366.0 * 86400) {
        Problem(at / "seconds", "must be a number of seconds above 0 (at most a year)");
      } else {
        length = Duration(std::llround(value * 1000));
      }
    }
    if (!count || !length) return std::nullopt;
    return RateWindow{*count, *length};
  }

  void ReadDayBoundary(const std::string& text, Config& config) {
    auto digit = [&](size_t i) { return text[i] >= '0' && text[i] <= '9'; };
    bool shaped = text.size() == 9 && digit(0) && digit(1) && text[2] == ':' && digit(3) &&
                  digit(4) && text.substr(5) == " UTC";
    int hours = shaped ? (text[0] - '0') * 10 + (text[1] - '0') : -1;
    int minutes = shaped ? (text[3] - '0') * 10 + (text[4] - '0') : -1;
    if (!shaped || hours > 23 || minutes > 59) {
      Problem(Pointer("/day_boundary"), "must be \"HH:MM UTC\", e.g. \"00:00 UTC\"");
      return;
    }
    config.day_boundary = std::chrono::hours(hours) + std::chrono::minutes(minutes);
  }

  // signatures: {allowed_signers, revoked, required: {TARGET: N}, verify_timeout_ms}. The
  // files are only named here; --check-config reads and parses them (ssh-keygen).
  void ReadSignatures(Config& config) {
    const Pointer at("/signatures");
    if (!Node(at) || !IsMapping(at)) return;
    CheckKeys(at, {"allowed_signers", "revoked", "required", "verify_timeout_ms"});
    SignatureConfig signatures;
    if (auto file = RequiredString(at / "allowed_signers")) {
      signatures.allowed_signers = Resolve(*file);
    }
    if (auto file = OptionalString(at / "revoked")) signatures.revoked = Resolve(*file);
    if (IsMapping(at / "required")) {
      for (const auto& [name, value] : Node(at / "required")->items()) {
        auto target = ParseTarget(name);
        if (!target) {
          Problem(at / "required" / name, "not a target (users, online_users, chatrooms)");
          continue;
        }
        if (!value.is_number_integer() || value.get<int64_t>() < 0 || value.get<int64_t>() > 16) {
          Problem(at / "required" / name, "must be a number of signers from 0 to 16");
          continue;
        }
        signatures.required[*target] = static_cast<int>(value.get<int64_t>());
      }
    } else if (!Node(at / "required")) {
      Problem(at, doc_.KeyPath(at / "required"),
              "is required: the signers each target needs, e.g. {users: 2, online_users: 1}");
    }
    if (const Json* timeout = Node(at / "verify_timeout_ms")) {
      if (!timeout->is_number_integer() || timeout->get<int64_t>() < 100 ||
          timeout->get<int64_t>() > 60000) {
        Problem(at / "verify_timeout_ms", "must be an integer from 100 to 60000 (milliseconds)");
      } else {
        signatures.verify_timeout = Duration(timeout->get<int64_t>());
      }
    }
    config.signatures = std::move(signatures);
  }

  void ReadMaxDelay(Config& config) {
    const Json* node = Node(Pointer("/max_delay"));
    if (!node) return;
    Result<std::optional<Duration>> parsed =
        node->is_string() ? ParseMaxDelay(node->get<std::string>())
                          : Fail(ErrorKind::kInvalid,
                                 "must be a duration such as 90m, 24h or 2d (1m to 366d), or none");
    if (!parsed) {
      Problem(Pointer("/max_delay"), parsed.error().message);
    } else {
      config.max_delay = *parsed;
    }
  }

  void ReadOnNewQueue(Config& config) {
    const Json* node = Node(Pointer("/on_new_queue"));
    if (!node) return;
    const std::string value = node->is_string() ? node->get<std::string>() : "";
    if (value == "hold") {
      config.on_new_queue = Config::NewQueue::kHold;
    } else if (value == "send") {
      config.on_new_queue = Config::NewQueue::kSend;
    } else {
      Problem(Pointer("/on_new_queue"),
              "must be hold (a new queue holds the campaigns it finds until --confirm) or send");
    }
  }

  const Document& doc_;
  const std::filesystem::path& source_;
  std::vector<Diagnostic> problems_;
};

Result<Config> FromDocument(std::expected<Document, Diagnostic> doc,
                            const std::filesystem::path& source) {
  if (!doc) return Fail(ErrorKind::kInvalid, Format(doc.error()));
  return ConfigReader(*doc, source).Read();
}

}  // namespace

std::filesystem::path DefaultDatabasePath(const char* state_directory) {
  std::string dir = state_directory ? std::string(state_directory) : "";
  dir = dir.substr(0, dir.find(':'));  // systemd separates several directories with ':'
  if (dir.empty()) return kServiceDatabasePath;
  return std::filesystem::path(dir) / "queue.db";
}

Result<Config> LoadConfig(const std::filesystem::path& path) {
  return FromDocument(Document::Load(path), path);
}

Result<Config> ParseConfig(std::string_view text, const std::filesystem::path& source) {
  return FromDocument(Document::Parse(text, source.string()), source);
}

}  // namespace broadcastd
