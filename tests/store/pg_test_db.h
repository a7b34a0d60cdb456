#pragma once
// A schema of its own, in the test cluster (tests/CMakeLists.txt starts it), for each
// test: tests run in parallel processes against one server. PgAdmin is the tests' own
// connection (libpq), to look at and change the database behind the store's back.

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <cctype>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace broadcastd {

class PgAdmin {
 public:
  using Row = std::vector<std::optional<std::string>>;

  explicit PgAdmin(const std::string& uri) : conn_(PQconnectdb(uri.c_str())) {
    if (PQstatus(conn_) != CONNECTION_OK) {
      const std::string why = PQerrorMessage(conn_);
      PQfinish(conn_);
      throw std::runtime_error("cannot connect to the test cluster: " + why);
    }
  }
  ~PgAdmin() { PQfinish(conn_); }
  PgAdmin(const PgAdmin&) = delete;
  PgAdmin& operator=(const PgAdmin&) = delete;

  // Runs `sql` (one or more statements, each committed unless inside BEGIN ... COMMIT);
  // the rows of the last one. Throws on failure.
  std::vector<Row> Exec(const std::string& sql) {
    PGresult* r = PQexec(conn_, sql.c_str());
    const ExecStatusType status = PQresultStatus(r);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      const std::string why = PQresultErrorMessage(r);
      PQclear(r);
      throw std::runtime_error(sql + ": " + why);
    }
    std::vector<Row> rows;
    for (int i = 0; i < PQntuples(r); ++i) {
      Row row;
      for (int j = 0; j < PQnfields(r); ++j) {
        row.push_back(PQgetisnull(r, i, j) != 0 ? std::nullopt
                                                : std::optional<std::string>(PQgetvalue(r, i, j)));
      }
      rows.push_back(std::move(row));
    }
    PQclear(r);
    return rows;
  }
  // The first column of the one row `sql` returns.
  std::string Value(const std::string& sql) {
    auto rows = Exec(sql);
    if (rows.size() != 1 || rows[0].empty() || !rows[0][0]) {
      throw std::runtime_error(sql + ": not one value");
    }
    return *rows[0][0];
  }

 private:
  PGconn* conn_;
};

class PgTestDb {
 public:
  // `suffix` tells apart several databases of one test.
  explicit PgTestDb(const std::string& suffix = {}) {
    std::ifstream in(std::string(BROADCASTD_PG_DIR) + "/uri");
    std::getline(in, base_uri_);
    if (base_uri_.empty()) {
      throw std::runtime_error("no test cluster: " BROADCASTD_PG_DIR "/uri is missing");
    }
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    schema_ = "t_" + std::string(info->test_suite_name()) + "_" + info->name() + suffix;
    for (char& c : schema_) {
      c = std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::tolower(c)) : '_';
    }
    // PostgreSQL cuts names at 63 bytes: a long test name must still be one schema.
    if (schema_.size() > 63) schema_.resize(63);
    PgAdmin admin(base_uri_);
    admin.Exec("DROP SCHEMA IF EXISTS " + schema_ + " CASCADE; CREATE SCHEMA " + schema_);
  }

  // The URI of the test's schema (its search_path); its connections carry the schema's
  // name as their application_name, so that a test finds them in pg_stat_activity.
  std::string uri() const {
    return base_uri_ + "?options=-csearch_path%3D" + schema_ + "&application_name=" + schema_;
  }
  const std::string& base_uri() const { return base_uri_; }
  const std::string& schema() const { return schema_; }

  std::unique_ptr<PgAdmin> Connect() const { return std::make_unique<PgAdmin>(uri()); }

 private:
  std::string base_uri_;
  std::string schema_;
};

}  // namespace broadcastd
