#include "store/sql.h"

namespace broadcastd::sql {

Statement::Statement(Connection& connection, const std::string& sql)
    : impl_(connection.Prepare(sql)) {}

int64_t Connection::QueryInt64(const std::string& sql) {
  Statement q(*this, sql);
  if (!q.executeStep()) throw Failure(ErrorKind::kIo, "no row from: " + sql);
  return q.getColumn(0).getInt64();
}

std::string Connection::QueryText(const std::string& sql) {
  Statement q(*this, sql);
  if (!q.executeStep()) throw Failure(ErrorKind::kIo, "no row from: " + sql);
  return q.getColumn(0).getString();
}

Statement& Connection::Kept(const char* sql) {
  std::unique_ptr<Statement>& slot = kept_[sql];
  if (!slot) slot = std::make_unique<Statement>(*this, sql);
  return *slot;
}

}  // namespace broadcastd::sql
