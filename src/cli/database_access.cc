#include "cli/database_access.h"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>

#include "database_uri/database_uri.h"

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

}  // namespace

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
      return Fail(ErrorKind::kPermission, name + ": permission denied for user " +
                                              CurrentUserDescription() +
                                              ": a folder on its path cannot be entered" + Hint());
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

}  // namespace broadcastd
