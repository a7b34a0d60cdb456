#include "store/sql_postgres.h"

#include <cctype>
#include <charconv>
#include <cstdlib>
#include <optional>
#include <vector>

namespace broadcastd::sql {
namespace {

constexpr unsigned kInt8Oid = 20;
constexpr unsigned kTextOid = 25;

std::string Trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

class PgStatement final : public StatementImpl {
 public:
  // `cursor`, when not empty, names the server-side cursor the rows are fetched through
  // (PgConnection::PrepareStreamed).
  PgStatement(PgConnection& connection, std::string sql, int parameters, std::string cursor = {})
      : connection_(connection),
        sql_(std::move(sql)),
        parameters_(parameters),
        cursor_(std::move(cursor)) {}
  ~PgStatement() override {
    Clear();
    CloseCursor();
  }

  void BindInt(int index, int64_t value) override {
    Slot(index) = {std::to_string(value), kInt8Oid};
  }
  void BindText(int index, std::string_view value) override {
    Slot(index) = {std::string(value), kTextOid};
  }
  void BindNull(int index) override { Slot(index) = {std::nullopt, 0}; }

  bool Step() override {
    if (!cursor_.empty()) return StepCursor();
    if (result_ == nullptr) {
      Run();
      row_ = -1;
    }
    if (row_ + 1 >= PQntuples(result_)) return false;
    ++row_;
    return true;
  }
  int Exec() override {
    Clear();
    Run();
    const char* tuples = PQcmdTuples(result_);
    const int changed = tuples[0] == '\0' ? 0 : std::atoi(tuples);
    Clear();
    return changed;
  }
  bool IsNull(int column) override { return PQgetisnull(result_, row_, column) != 0; }
  int64_t Int64(int column) override {
    const char* text = PQgetvalue(result_, row_, column);
    const int length = PQgetlength(result_, row_, column);
    if (length == 0) return 0;  // NULL reads as 0, like SQLite
    if (length == 1 && text[0] == 't') return 1;
    if (length == 1 && text[0] == 'f') return 0;
    int64_t value = 0;
    auto [end, ec] = std::from_chars(text, text + length, value);
    if (ec != std::errc() || (end != text + length && *end != '.')) {
      throw Failure(ErrorKind::kCorrupt, "not an integer: '" + std::string(text, length) + "'");
    }
    return value;
  }
  const char* Text(int column) override { return PQgetvalue(result_, row_, column); }
  int Bytes(int column) override { return PQgetlength(result_, row_, column); }
  void Reset() override {
    Clear();
    CloseCursor();
  }
  void ClearBindings() override { params_.clear(); }

 private:
  struct Param {
    std::optional<std::string> value;
    unsigned type = 0;
  };
  Param& Slot(int index) {
    if (params_.size() < static_cast<size_t>(index)) params_.resize(static_cast<size_t>(index));
    return params_[static_cast<size_t>(index - 1)];
  }
  void Run() {
    // A parameter left unbound is NULL, as in SQLite.
    if (params_.size() < static_cast<size_t>(parameters_)) {
      params_.resize(static_cast<size_t>(parameters_));
    }
    std::vector<unsigned> types;
    std::vector<const char*> values;
    for (const Param& p : params_) {
      types.push_back(p.type);
      values.push_back(p.value ? p.value->c_str() : nullptr);
    }
    result_ = connection_.Run(sql_, static_cast<int>(params_.size()), types.data(), values.data());
  }
  void Clear() {
    if (result_ != nullptr) PQclear(result_);
    result_ = nullptr;
  }
  // One batch at a time: at most kCursorBatch rows are held in memory.
  bool StepCursor() {
    if (!declared_) {
      std::string query = std::move(sql_);
      sql_ = "DECLARE " + cursor_ + " NO SCROLL CURSOR FOR " + query;
      Run();
      sql_ = std::move(query);
      Clear();
      declared_ = true;
      exhausted_ = false;
    }
    if (result_ != nullptr && row_ + 1 < PQntuples(result_)) {
      ++row_;
      return true;
    }
    if (exhausted_) return false;
    Clear();
    const std::string fetch =
        "FETCH " + std::to_string(PgConnection::kCursorBatch) + " FROM " + cursor_;
    result_ = connection_.Run(fetch, 0, nullptr, nullptr);
    row_ = -1;
    exhausted_ = PQntuples(result_) < PgConnection::kCursorBatch;
    if (PQntuples(result_) == 0) return false;
    ++row_;
    return true;
  }
  void CloseCursor() {
    if (!declared_) return;
    declared_ = false;
    try {
      // Not on a lost connection (Run would connect again) nor in an aborted transaction.
      if (connection_.InTransaction() && connection_.Socket() >= 0) {
        PQclear(connection_.Run("CLOSE " + cursor_, 0, nullptr, nullptr));
      }
    } catch (const std::exception&) {  // the transaction's end closes it
    }
  }

  PgConnection& connection_;
  std::string sql_;
  int parameters_;
  std::vector<Param> params_;
  PGresult* result_ = nullptr;
  int row_ = -1;
  std::string cursor_;
  bool declared_ = false;
  bool exhausted_ = false;
};

bool IsWordChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; }

}  // namespace

std::string ToPostgres(const std::string& in, int* parameters) {
  std::string out;
  out.reserve(in.size() + 8);
  int next = 0;
  char quote = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (quote != 0) {
      out += c;
      if (c == quote) quote = 0;
      continue;
    }
    if (c == '\'' || c == '"') {
      quote = c;
      out += c;
      continue;
    }
    if (c == '?') {
      size_t j = i + 1;
      while (j < in.size() && std::isdigit(static_cast<unsigned char>(in[j])) != 0) ++j;
      if (j > i + 1) {
        out += '$';
        out.append(in, i + 1, j - i - 1);
        next = std::max(next, std::atoi(in.c_str() + i + 1));
        i = j - 1;
      } else {
        out += '$' + std::to_string(++next);
      }
      continue;
    }
    static constexpr std::string_view kHint = "INDEXED BY ";
    if (c == 'I' && in.compare(i, kHint.size(), kHint) == 0 && (i == 0 || !IsWordChar(in[i - 1]))) {
      size_t j = i + kHint.size();
      while (j < in.size() && IsWordChar(in[j])) ++j;
      while (j < in.size() && in[j] == ' ') ++j;
      i = j - 1;
      continue;
    }
    out += c;
  }
  if (parameters != nullptr) *parameters = next;
  return out;
}

PgConnection::PgConnection(std::string conninfo, std::string display, std::string session)
    : conninfo_(std::move(conninfo)), display_(std::move(display)), session_(std::move(session)) {
  try {
    Connect();
  } catch (...) {
    // No destructor runs for a constructor that throws: the failed PGconn is freed here.
    PQfinish(conn_);
    conn_ = nullptr;
    throw;
  }
}

PgConnection::~PgConnection() {
  ForgetKept();
  if (conn_ != nullptr) PQfinish(conn_);
}

void PgConnection::Connect() {
  if (conn_ != nullptr) PQfinish(conn_);
  conn_ = PQconnectdb(conninfo_.c_str());
  if (PQstatus(conn_) != CONNECTION_OK) {
    const std::string why = Trimmed(PQerrorMessage(conn_));
    throw Failure(ErrorKind::kUnavailable, "cannot connect to " + display_ + ": " + why);
  }
  PGresult* r = PQexec(
      conn_,
      ("SET client_min_messages = warning; " + session_ + "; SELECT current_schema()").c_str());
  if (PQresultStatus(r) != PGRES_TUPLES_OK) Throw("session settings", r);
  schema_ = PQgetisnull(r, 0, 0) != 0 ? "" : PQgetvalue(r, 0, 0);
  PQclear(r);
}

void PgConnection::Throw(const std::string& what, PGresult* result) {
  std::string why = Trimmed(result != nullptr ? PQresultErrorMessage(result) : "");
  if (why.empty()) why = Trimmed(PQerrorMessage(conn_));
  const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  // Class 08 (connection exception, but 08P01, a protocol violation) and 57P (the
  // server shutting down): the server is gone, not the statement wrong.
  const std::string_view code = state != nullptr ? state : "";
  const bool lost = PQstatus(conn_) == CONNECTION_BAD ||
                    (code.starts_with("08") && code != "08P01") || code.starts_with("57P");
  if (result != nullptr) PQclear(result);
  throw Failure(
      lost ? ErrorKind::kUnavailable : ErrorKind::kIo,
      (lost ? "connection lost (" + why + ")" : why) + (what.empty() ? "" : " [" + what + "]"));
}

PGresult* PgConnection::Run(const std::string& sql, int count, const unsigned* types,
                            const char* const* values) {
  if (PQstatus(conn_) == CONNECTION_BAD) {
    // Inside a write transaction the server rolled everything back: a statement on a
    // new connection would commit on its own what was meant as part of it.
    if (InTransaction()) {
      throw Failure(ErrorKind::kUnavailable, "connection to " + display_ + " lost");
    }
    Connect();
    ++reconnects_;
  }
  PGresult* r = PQexecParams(conn_, sql.c_str(), count, types, values, nullptr, nullptr, 0);
  const ExecStatusType status = PQresultStatus(r);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) Throw({}, r);
  return r;
}

std::unique_ptr<StatementImpl> PgConnection::Prepare(const std::string& sql) {
  int parameters = 0;
  std::string text = ToPostgres(sql, &parameters);
  return std::make_unique<PgStatement>(*this, std::move(text), parameters);
}

std::unique_ptr<StatementImpl> PgConnection::PrepareStreamed(const std::string& sql) {
  int parameters = 0;
  std::string text = ToPostgres(sql, &parameters);
  return std::make_unique<PgStatement>(*this, std::move(text), parameters,
                                       "broadcastd_cursor_" + std::to_string(++cursors_));
}

void PgConnection::exec(const std::string& sql) {
  if (PQstatus(conn_) == CONNECTION_BAD && !InTransaction()) {
    Connect();
    ++reconnects_;
  }
  PGresult* r = PQexec(conn_, sql.c_str());
  const ExecStatusType status = PQresultStatus(r);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) Throw({}, r);
  PQclear(r);
}

void PgConnection::BeginWrite() {
  try {
    exec("BEGIN ISOLATION LEVEL READ COMMITTED; SELECT pg_advisory_xact_lock(" +
         std::to_string(kWriterLock) + ")");
  } catch (...) {
    // BEGIN may have run and the lock failed (a timeout, a cancel): nobody owns that
    // transaction, so it ends here rather than block every later statement.
    if (PQstatus(conn_) == CONNECTION_OK && PQtransactionStatus(conn_) != PQTRANS_IDLE) {
      PQclear(PQexec(conn_, "ROLLBACK"));
    }
    throw;
  }
  writing_ = true;
}

void PgConnection::BeginSnapshot() { exec("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"); }

void PgConnection::Commit() {
  // Delivered to the listeners when, and only if, the transaction commits.
  const bool wrote = writing_;
  writing_ = false;
  if (PQstatus(conn_) == CONNECTION_BAD) {
    // Never a COMMIT on a new connection: the transaction died with the old one.
    throw Failure(ErrorKind::kUnavailable,
                  "connection to " + display_ + " lost; the transaction was rolled back");
  }
  // The payload names the schema: the channel is the database's, and a database may hold
  // the tables of several deployments (one schema each).
  exec(wrote ? "SELECT pg_notify('broadcastd', current_schema()); COMMIT" : "COMMIT");
}

void PgConnection::Rollback() {
  writing_ = false;
  if (PQstatus(conn_) == CONNECTION_BAD) return;  // the server rolled it back
  exec("ROLLBACK");
}

bool PgConnection::InTransaction() {
  // A write transaction whose connection was lost is open until its owner rolls it back
  // (Rollback): until then nothing reconnects under it.
  if (writing_) return true;
  const PGTransactionStatusType status = PQtransactionStatus(conn_);
  return status == PQTRANS_INTRANS || status == PQTRANS_INERROR || status == PQTRANS_ACTIVE;
}

int64_t PgConnection::TakeNotifications() {
  int64_t count = 0;
  if (PQstatus(conn_) == CONNECTION_BAD) {
    if (InTransaction()) return 0;
    Connect();
    ++reconnects_;
  }
  if (reconnects_ > 0) {
    count += reconnects_;
    reconnects_ = 0;
  }
  PQconsumeInput(conn_);
  const int self = PQbackendPID(conn_);
  while (PGnotify* n = PQnotifies(conn_)) {
    if (n->be_pid != self && schema_ == n->extra) ++count;
    PQfreemem(n);
  }
  return count;
}

int PgConnection::Socket() const {
  // A lost connection's descriptor would wake a poll at once, and forever: none until the
  // next statement connects again.
  if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) return -1;
  return PQsocket(conn_);
}

}  // namespace broadcastd::sql
