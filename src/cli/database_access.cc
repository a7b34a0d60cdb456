#include "cli/database_access.h"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ostream>
#include <string>
#include <string_view>

#include "config/config_loader.h"
#include "config/credential_file.h"
#include "database_uri/database_uri.h"
#include "document/document.h"
#include "store/configured_store.h"

namespace broadcastd {
namespace {

namespace fs = std::filesystem;

std::string Hint() {
  if (::geteuid() == 0) return "";
  return "; the service's state folder is root's: run the command as root (sudo broadcastd …), "
         "see broadcastd(8), OPERATING THE SERVICE";
}

std::string Mode(const struct stat& st) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(st.st_mode & 07777));
  std::string owner = "uid " + std::to_string(st.st_uid);
  if (const passwd* pw = ::getpwuid(st.st_uid)) owner = pw->pw_name;
  return "owner " + owner + ", mode " + text;
}

// What the operator commands need of a config whose file is not valid, read from the
// document as far as it goes; `origin` says where the database path came from.
Result<Config> LenientConfig(const fs::path& config_path, std::string& origin) {
  Config config;
  config.source = config_path;
  config.node_name = HostName();
  for (BroadcastTarget target : kAllTargets) config.limits[target] = DefaultLimits(target);
  auto doc = Document::Load(config_path);
  const nlohmann::json* database = nullptr;
  if (doc) {
    const nlohmann::json& root = doc->json();
    if (auto it = root.find("database"); it != root.end()) database = &*it;
    if (auto it = root.find("database_password_file");
        it != root.end() && it->is_string() && !it->get_ref<const std::string&>().empty()) {
      config.database_password_file = it->get<std::string>();
    }
    if (auto it = root.find("apps"); it != root.end() && it->is_object()) {
      for (const auto& [name, value] : it->items()) config.apps[name].name = name;
    }
  }
  if (database == nullptr) {
    config.database = DefaultDatabasePath(std::getenv("STATE_DIRECTORY"));
    origin = doc ? "the default path (the config does not set `database`)"
                 : "the default path (the config's `database` cannot be read: the file is not "
                   "valid YAML)";
    return config;
  }
  if (!database->is_string() || database->get_ref<const std::string&>().empty()) {
    return Fail(ErrorKind::kInvalid, "is not a path or URI, so the database cannot be found");
  }
  const std::string value = database->get<std::string>();
  // A URI the loader refuses (a password in it, bad encoding) is never used, nor shown.
  if (IsPostgresUri(value) && PgUriProblem(value)) {
    return Fail(ErrorKind::kInvalid, "is refused (above), so the database cannot be found");
  }
  config.database = IsPostgresUri(value) || fs::path(value).is_absolute()
                        ? fs::path(value)
                        : fs::absolute(config_path).parent_path() / value;
  const SourcePos pos = doc->PositionOf(nlohmann::json::json_pointer("/database"));
  origin = "the config's `database` (line " + std::to_string(pos.line) + ")";
  return config;
}

}  // namespace

Result<Config> ConfigForOperatorCommand(const fs::path& config_path, std::ostream& err) {
  auto config = LoadConfig(config_path);
  if (config) return config;
  const ReadAccess access = CheckReadAccess(config_path);
  if (access.kind != ReadAccess::kReadable) {
    return Fail(
        access.kind == ReadAccess::kFileClosed || access.kind == ReadAccess::kFolderClosed
            ? ErrorKind::kPermission
            : ErrorKind::kNotFound,
        "config " + config_path.string() + ": cannot be read: " + DescribeReadAccess(access));
  }
  std::string origin;
  auto lenient = LenientConfig(config_path, origin);
  if (!lenient) {
    return Fail(ErrorKind::kInvalid, config.error().message + "\n" + config_path.string() +
                                         ": `database` " + lenient.error().message);
  }
  std::string problems = config.error().message;
  for (size_t at = 0; (at = problems.find('\n', at)) != std::string::npos; at += 3) {
    problems.replace(at, 1, "\n  ");
  }
  const std::string database = lenient->DatabaseIsPostgres()
                                   ? PgDisplayName(lenient->database.native())
                                   : lenient->database.string();
  err << "warning: " << config_path.string()
      << " is not valid; this command ignores its problems (the running daemon keeps the "
         "config it has until one is valid):\n  "
      << problems << "\nwarning: database " << database << ": from " << origin
      << "; limits are the defaults here, so forecasts may differ from the daemon's\n";
  return lenient;
}

std::string CurrentUserDescription() {
  const uid_t uid = ::geteuid();
  std::string name = "uid " + std::to_string(uid);
  if (const passwd* pw = ::getpwuid(uid)) return std::string(pw->pw_name) + " (" + name + ")";
  return name;
}

Status CheckDatabaseAccess(const fs::path& database, DatabaseUse use) {
  // A PostgreSQL server answers for itself when the store connects.
  if (IsPostgresUri(database.native())) return {};
  const std::string name = "database " + database.string();
  struct stat st {};
  if (::stat(database.c_str(), &st) != 0) {
    const int error = errno;
    if (error == ENOENT || error == ENOTDIR) {
      const fs::path folder = database.parent_path();
      std::error_code ec;
      const bool folder_exists = folder.empty() || fs::is_directory(folder, ec);
      return Fail(ErrorKind::kNotFound,
                  name + ": no such file" +
                      (folder_exists ? std::string() : ", nor its folder " + folder.string()) +
                      ". Commands never create it: the daemon does when it first starts. Is "
                      "`database` in the config right, and has the service run yet?");
    }
    if (error == EACCES) {
      const ReadAccess access = CheckReadAccess(database);
      const std::string which = access.kind == ReadAccess::kFolderClosed
                                    ? "the folder " + access.folder.string() + " (" +
                                          access.owner_mode + ") cannot be entered"
                                    : "a folder on its path cannot be entered";
      return Fail(ErrorKind::kPermission, name + ": permission denied for user " +
                                              CurrentUserDescription() + ": " + which + Hint());
    }
    return Fail(ErrorKind::kIo, name + ": " + std::strerror(error));
  }
  if (!S_ISREG(st.st_mode)) {
    return Fail(ErrorKind::kInvalid, name + ": not a regular file");
  }
  if (::access(database.c_str(), R_OK) != 0) {
    return Fail(ErrorKind::kPermission, name + ": not readable by user " +
                                            CurrentUserDescription() + " (" + Mode(st) + ")" +
                                            Hint());
  }
  if (use == DatabaseUse::kWrite && ::access(database.c_str(), W_OK) != 0) {
    return Fail(ErrorKind::kPermission, name + ": not writable by user " +
                                            CurrentUserDescription() + " (" + Mode(st) + ")" +
                                            (errno == EROFS ? ": read-only file system" : Hint()));
  }
  // SQLite's WAL mode keeps -wal and -shm files beside the database: a writer
  // needs both, a reader the -shm; each writable, or creatable in the folder.
  const fs::path folder = database.has_parent_path() ? database.parent_path() : fs::path(".");
  if (::access(folder.c_str(), W_OK | X_OK) != 0) {
    for (const char* suffix : {"-shm", "-wal"}) {
      const fs::path side = database.string() + suffix;
      if (use == DatabaseUse::kRead && std::string_view(suffix) == "-wal") break;
      if (::access(side.c_str(), W_OK) != 0) {
        return Fail(ErrorKind::kPermission, name + ": its folder " + folder.string() +
                                                " is not writable by user " +
                                                CurrentUserDescription() + ", and SQLite needs " +
                                                side.filename().string() + " there" + Hint());
      }
    }
  }
  return {};
}

Result<Store> OpenStoreForOperator(const Config& config, DatabaseUse use) {
  if (Status access = CheckDatabaseAccess(config.database, use); !access) {
    return std::unexpected(access.error());
  }
  return OpenConfiguredStore(
      config, use == DatabaseUse::kRead ? Store::Mode::kReadOnly : Store::Mode::kReadWriteExisting);
}

}  // namespace broadcastd
