#include "ha/pg_connection.h"

#include <libpq-fe.h>

#include <pqxx/pqxx>

namespace broadcastd {
namespace {

// A value in a keyword/value connection string: single-quoted, with \ and ' escaped.
std::string Quote(std::string_view value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\\' || c == '\'') out += '\\';
    out += c;
  }
  return out + "'";
}

}  // namespace

bool IsPostgresUri(std::string_view database) {
  return database.starts_with("postgresql://") || database.starts_with("postgres://");
}

Result<std::string> PgConnInfo(const std::string& uri, const std::optional<std::string>& password) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(uri.c_str(), &error);
  if (options == nullptr) {
    std::string why = error != nullptr ? error : "out of memory";
    PQfreemem(error);
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    return Fail(ErrorKind::kInvalid, "database: not a valid PostgreSQL URI: " + why);
  }
  std::string info;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val == nullptr || std::string_view(o->keyword) == "password") continue;
    info += std::string(info.empty() ? "" : " ") + o->keyword + "=" + Quote(o->val);
  }
  PQconninfoFree(options);
  if (password) info += std::string(info.empty() ? "" : " ") + "password=" + Quote(*password);
  return info;
}

std::optional<std::string> PgUriProblem(const std::string& uri) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(uri.c_str(), &error);
  if (options == nullptr) {
    std::string why = error != nullptr ? error : "out of memory";
    PQfreemem(error);
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    return "not a valid PostgreSQL URI: " + why;
  }
  bool password = false;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (std::string_view(o->keyword) == "password" && o->val != nullptr) password = true;
  }
  PQconninfoFree(options);
  if (password) {
    return "the URI holds a password; secrets never go in the config: put it in a file named "
           "by database_password_file";
  }
  return std::nullopt;
}

std::string PgDisplayName(const std::string& uri) {
  // postgresql://user:secret@host/db -> postgresql://user@host/db
  const size_t scheme = uri.find("://");
  if (scheme == std::string::npos) return uri;
  const size_t start = scheme + 3;
  const size_t at = uri.find('@', start);
  const size_t slash = uri.find('/', start);
  if (at == std::string::npos || (slash != std::string::npos && slash < at)) return uri;
  const size_t colon = uri.find(':', start);
  if (colon == std::string::npos || colon > at) return uri;
  return uri.substr(0, colon) + uri.substr(at);
}

Result<std::unique_ptr<pqxx::connection>> PgConnect(const std::string& uri,
                                                    const std::optional<std::string>& password) {
  auto info = PgConnInfo(uri, password);
  if (!info) return std::unexpected(info.error());
  try {
    return std::make_unique<pqxx::connection>(*info);
  } catch (const std::exception& e) {
    std::string why = e.what();
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    return Fail(ErrorKind::kUnavailable,
                "database " + PgDisplayName(uri) + ": cannot connect: " + why);
  }
}

}  // namespace broadcastd
