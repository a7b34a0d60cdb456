#pragma once
// Internal to the store: one SQL connection, SQLite or PostgreSQL, behind the calls the
// store makes (prepare, bind, step, read columns, transactions). The store's SQL is
// written once, in the subset both engines share; the PostgreSQL connection turns SQLite's
// `?`/`?N` parameters into `$N` and drops SQLite's index hints (INDEXED BY).
//
// Every failure throws (sql::Failure, or the SQLite library's own exceptions); the Store
// turns them into Error values (Store::Read/Write). A connection is used from one thread
// at a time.

#include <concepts>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/error.h"

namespace broadcastd::sql {

// A failure with its kind: kUnavailable when the server cannot be reached (the next
// statement reconnects), kIo otherwise.
class Failure : public std::runtime_error {
 public:
  Failure(ErrorKind kind, const std::string& what) : std::runtime_error(what), kind_(kind) {}
  ErrorKind kind() const { return kind_; }

 private:
  ErrorKind kind_;
};

// What one engine does for a statement. Indexes: parameters from 1, columns from 0.
class StatementImpl {
 public:
  virtual ~StatementImpl() = default;
  virtual void BindInt(int index, int64_t value) = 0;
  virtual void BindText(int index, std::string_view value) = 0;
  virtual void BindNull(int index) = 0;
  virtual bool Step() = 0;  // the next row; false when there is none
  virtual int Exec() = 0;   // runs it whole; the rows it changed
  virtual bool IsNull(int column) = 0;
  virtual int64_t Int64(int column) = 0;
  virtual const char* Text(int column) = 0;  // NUL-terminated, valid until the next step
  virtual int Bytes(int column) = 0;
  virtual void Reset() = 0;  // to run again, bindings kept
  virtual void ClearBindings() = 0;
};

// A column of the current row.
class Column {
 public:
  Column(StatementImpl& statement, int index) : statement_(statement), index_(index) {}
  bool isNull() const { return statement_.IsNull(index_); }
  int64_t getInt64() const { return statement_.Int64(index_); }
  int getInt() const { return static_cast<int>(statement_.Int64(index_)); }
  const char* getText() const { return statement_.Text(index_); }
  int getBytes() const { return statement_.Bytes(index_); }
  std::string getString() const {
    return std::string(statement_.Text(index_), static_cast<size_t>(statement_.Bytes(index_)));
  }

 private:
  StatementImpl& statement_;
  int index_;
};

class Connection;

class Statement {
 public:
  Statement(Connection& connection, const std::string& sql);
  explicit Statement(std::unique_ptr<StatementImpl> impl) : impl_(std::move(impl)) {}
  template <std::integral T>
  void bind(int index, T value) {
    impl_->BindInt(index, static_cast<int64_t>(value));
  }
  void bind(int index, const std::string& value) { impl_->BindText(index, value); }
  void bind(int index, std::string_view value) { impl_->BindText(index, value); }
  void bind(int index, const char* value) { impl_->BindText(index, value); }
  void bind(int index) { impl_->BindNull(index); }
  bool executeStep() { return impl_->Step(); }
  int exec() { return impl_->Exec(); }
  Column getColumn(int index) { return Column(*impl_, index); }
  void reset() { impl_->Reset(); }
  void clearBindings() { impl_->ClearBindings(); }

 private:
  std::unique_ptr<StatementImpl> impl_;
};

class Connection {
 public:
  enum class Dialect { kSqlite, kPostgres };
  virtual ~Connection() = default;
  virtual Dialect dialect() const = 0;
  virtual std::unique_ptr<StatementImpl> Prepare(const std::string& sql) = 0;
  // A query whose rows are read as they are stepped through, however many there are, in
  // constant memory (SQLite: every statement is; PostgreSQL: a server-side cursor, fetched
  // in batches). REQUIRES: a transaction open (BeginSnapshot) until it is destroyed.
  virtual std::unique_ptr<StatementImpl> PrepareStreamed(const std::string& sql) {
    return Prepare(sql);
  }
  // Runs statements without parameters or rows.
  virtual void exec(const std::string& sql) = 0;
  // A write transaction that no other writer runs alongside (SQLite: BEGIN IMMEDIATE;
  // PostgreSQL: BEGIN and a transaction-scoped advisory lock all the store's writers take).
  virtual void BeginWrite() = 0;
  // A read-only transaction that sees one snapshot.
  virtual void BeginSnapshot() = 0;
  // COMMIT (PostgreSQL: with a notification to the other connections, Store::DataVersion).
  virtual void Commit() = 0;
  virtual void Rollback() = 0;
  virtual bool InTransaction() = 0;

  // The first column of the first row of `sql`, which must return one.
  int64_t QueryInt64(const std::string& sql);
  std::string QueryText(const std::string& sql);

  // A statement prepared once per connection and kept, by its text's address.
  Statement& Kept(const char* sql);
  void ForgetKept() { kept_.clear(); }

 private:
  std::unordered_map<const char*, std::unique_ptr<Statement>> kept_;
};

// BeginWrite now; Rollback when it goes out of scope without commit().
class WriteTransaction {
 public:
  explicit WriteTransaction(Connection& connection) : connection_(connection) {
    connection_.BeginWrite();
  }
  ~WriteTransaction() {
    if (open_) {
      try {
        connection_.Rollback();
      } catch (...) {  // nothing more to undo
      }
    }
  }
  WriteTransaction(const WriteTransaction&) = delete;
  WriteTransaction& operator=(const WriteTransaction&) = delete;
  void commit() {
    connection_.Commit();
    open_ = false;
  }

 private:
  Connection& connection_;
  bool open_ = true;
};

}  // namespace broadcastd::sql
