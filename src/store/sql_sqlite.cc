#include "store/sql_sqlite.h"

#include <SQLiteCpp/Statement.h>
#include <sqlite3.h>

namespace broadcastd::sql {
namespace {

class SqliteStatement final : public StatementImpl {
 public:
  SqliteStatement(SQLite::Database& db, const std::string& sql) : q_(db, sql) {}
  void BindInt(int index, int64_t value) override { q_.bind(index, value); }
  void BindText(int index, std::string_view value) override { q_.bind(index, std::string(value)); }
  void BindNull(int index) override { q_.bind(index); }
  bool Step() override { return q_.executeStep(); }
  int Exec() override { return q_.exec(); }
  bool IsNull(int column) override { return q_.getColumn(column).isNull(); }
  int64_t Int64(int column) override { return q_.getColumn(column).getInt64(); }
  const char* Text(int column) override { return q_.getColumn(column).getText(); }
  int Bytes(int column) override { return q_.getColumn(column).getBytes(); }
  void Reset() override { q_.reset(); }
  void ClearBindings() override { q_.clearBindings(); }

 private:
  SQLite::Statement q_;
};

}  // namespace

std::unique_ptr<StatementImpl> SqliteConnection::Prepare(const std::string& sql) {
  return std::make_unique<SqliteStatement>(*db_, sql);
}

bool SqliteConnection::InTransaction() { return sqlite3_get_autocommit(db_->getHandle()) == 0; }

}  // namespace broadcastd::sql
