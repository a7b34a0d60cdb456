#include "ha/pg_connection.h"

#include <libpq-fe.h>

#include <expected>
#include <pqxx/pqxx>
#include <utility>
#include <vector>

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

namespace {

// The URI's keywords and values as libpq parses them (nothing for a keyword not given),
// or libpq's reason why it cannot.
using PgOptions = std::vector<std::pair<std::string, std::string>>;
std::expected<PgOptions, std::string> ParseUri(const std::string& uri) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(uri.c_str(), &error);
  if (options == nullptr) {
    std::string why = error != nullptr ? error : "out of memory";
    PQfreemem(error);
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    return std::unexpected("not a valid PostgreSQL URI: " + why);
  }
  PgOptions given;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val != nullptr) given.emplace_back(o->keyword, o->val);
  }
  PQconninfoFree(options);
  return given;
}

}  // namespace

Result<std::string> PgConnInfo(const std::string& uri, const std::optional<std::string>& password) {
  auto options = ParseUri(uri);
  if (!options) return Fail(ErrorKind::kInvalid, "database: " + options.error());
  std::string info;
  for (const auto& [keyword, value] : *options) {
    if (keyword == "password") continue;
    info += (info.empty() ? "" : " ") + keyword + "=" + Quote(value);
  }
  if (password) info += std::string(info.empty() ? "" : " ") + "password=" + Quote(*password);
  return info;
}

std::optional<std::string> PgUriProblem(const std::string& uri) {
  auto options = ParseUri(uri);
  if (!options) return options.error();
  for (const auto& [keyword, value] : *options) {
    if (keyword == "password") {
      return "the URI holds a password; secrets never go in the config: put it in a file named "
             "by database_password_file";
    }
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
