#include "database_uri/database_uri.h"

#include <libpq-fe.h>

#include <cctype>
#include <expected>
#include <utility>
#include <vector>

namespace broadcastd {
namespace {

constexpr std::string_view kPasswordInUri =
    "the URI holds a password; secrets never go in the config: put it in a file named by "
    "database_password_file";

// The parts of a URI as this file reads them, before and whatever libpq says: the user
// information is everything between "://" and the last '@' ahead of the query, so that
// a password holding an unencoded '/' or '@' is still taken for one.
struct UriParts {
  std::string_view scheme;    // "postgresql://"
  std::string_view userinfo;  // "user:password"; empty without '@'
  bool has_userinfo = false;
  std::string_view rest;   // hosts and database
  std::string_view query;  // after '?', without it
  bool has_query = false;
};

UriParts Split(std::string_view uri) {
  UriParts parts;
  const size_t scheme = uri.find("://");
  if (scheme == std::string_view::npos) {
    parts.rest = uri;
    return parts;
  }
  parts.scheme = uri.substr(0, scheme + 3);
  std::string_view body = uri.substr(scheme + 3);
  if (const size_t q = body.find('?'); q != std::string_view::npos) {
    parts.query = body.substr(q + 1);
    parts.has_query = true;
    body = body.substr(0, q);
  }
  if (const size_t at = body.rfind('@'); at != std::string_view::npos) {
    parts.userinfo = body.substr(0, at);
    parts.has_userinfo = true;
    body = body.substr(at + 1);
  }
  parts.rest = body;
  return parts;
}

// A query parameter's key, percent-decoded as libpq decodes it.
std::string KeyOf(std::string_view parameter) {
  const std::string_view key = parameter.substr(0, parameter.find('='));
  std::string out;
  for (size_t i = 0; i < key.size(); ++i) {
    if (key[i] == '%' && i + 2 < key.size() &&
        std::isxdigit(static_cast<unsigned char>(key[i + 1])) != 0 &&
        std::isxdigit(static_cast<unsigned char>(key[i + 2])) != 0) {
      out += static_cast<char>(std::stoi(std::string(key.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += key[i];
    }
  }
  return out;
}

std::vector<std::string_view> Parameters(std::string_view query) {
  std::vector<std::string_view> out;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    out.push_back(query.substr(0, amp));
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return out;
}

bool HoldsPassword(std::string_view uri) {
  const UriParts parts = Split(uri);
  if (parts.userinfo.find(':') != std::string_view::npos) return true;
  for (std::string_view parameter : Parameters(parts.query)) {
    if (KeyOf(parameter) == "password") return true;
  }
  return false;
}

// Text libpq quotes that may stay in a message: a keyword, or one of the characters its
// messages name ("]", ":", "/", "=").
bool MayShow(std::string_view quoted) {
  if (quoted.size() == 1 && std::ispunct(static_cast<unsigned char>(quoted[0]))) return true;
  if (quoted.empty() || quoted.size() > 64) return false;
  for (char c : quoted) {
    if (!std::islower(static_cast<unsigned char>(c)) && c != '_' &&
        !std::isdigit(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  return true;
}

// libpq's reason without what it quotes of the input ("invalid percent-encoded token:
// "<the value>"" becomes "invalid percent-encoded token").
std::string Reason(std::string_view why) {
  std::string out;
  for (size_t i = 0; i < why.size(); ++i) {
    if (why[i] != '"') {
      out += why[i];
      continue;
    }
    const size_t end = why.find('"', i + 1);
    const std::string_view quoted =
        why.substr(i + 1, end == std::string_view::npos ? std::string_view::npos : end - i - 1);
    if (end != std::string_view::npos && MayShow(quoted)) {
      out += std::string("\"") + std::string(quoted) + "\"";
    } else if (out.ends_with(": ")) {
      out.resize(out.size() - 2);
    }
    if (end == std::string_view::npos) break;
    i = end;
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

// A value in a keyword/value connection string: single-quoted, with \ and ' escaped.
std::string Quote(std::string_view value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\\' || c == '\'') out += '\\';
    out += c;
  }
  return out + "'";
}

// The URI's keywords and values as libpq parses them (nothing for a keyword not given),
// or why it cannot, without the input it quotes.
using PgOptions = std::vector<std::pair<std::string, std::string>>;
std::expected<PgOptions, std::string> ParseUri(const std::string& uri) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(uri.c_str(), &error);
  if (options == nullptr) {
    const std::string why = Reason(error != nullptr ? error : "out of memory");
    PQfreemem(error);
    return std::unexpected("not a valid PostgreSQL URI (" + why + ")");
  }
  PgOptions given;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val != nullptr) given.emplace_back(o->keyword, o->val);
  }
  PQconninfoFree(options);
  return given;
}

}  // namespace

bool IsPostgresUri(std::string_view database) {
  return database.starts_with("postgresql://") || database.starts_with("postgres://");
}

std::string PgDisplayName(std::string_view uri) {
  // postgresql://user:secret@host/db?password=x&connect_timeout=5
  //   -> postgresql://user@host/db?connect_timeout=5
  const UriParts parts = Split(uri);
  std::string out(parts.scheme);
  if (parts.has_userinfo)
    out += std::string(parts.userinfo.substr(0, parts.userinfo.find(':'))) + "@";
  out += parts.rest;
  std::string query;
  for (std::string_view parameter : Parameters(parts.query)) {
    if (KeyOf(parameter).find("password") != std::string::npos) continue;
    query += (query.empty() ? "" : "&") + std::string(parameter);
  }
  if (parts.has_query && !query.empty()) out += "?" + query;
  return out;
}

std::optional<std::string> PgUriProblem(const std::string& uri) {
  // Before libpq reads it: its message about a malformed password would quote it.
  if (HoldsPassword(uri)) return std::string(kPasswordInUri);
  auto options = ParseUri(uri);
  if (!options) return options.error();
  return std::nullopt;
}

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

}  // namespace broadcastd
