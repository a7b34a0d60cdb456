#pragma once
// A schema of its own, in the test cluster (tests/ha/CMakeLists.txt starts it), for each
// test: tests run in parallel processes against one server.

#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <pqxx/pqxx>
#include <string>

#include "ha/pg_connection.h"

namespace broadcastd {

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
    auto admin = Connect(base_uri_);
    pqxx::work tx(*admin);
    tx.exec("DROP SCHEMA IF EXISTS " + schema_ + " CASCADE");
    tx.exec("CREATE SCHEMA " + schema_);
    tx.commit();
  }

  // The URI of the test's schema (its search_path).
  std::string uri() const { return base_uri_ + "?options=-csearch_path%3D" + schema_; }
  const std::string& base_uri() const { return base_uri_; }

  std::unique_ptr<pqxx::connection> Connect() const { return Connect(uri()); }

 private:
  static std::unique_ptr<pqxx::connection> Connect(const std::string& uri) {
    auto conn = PgConnect(uri, std::nullopt);
    if (!conn) throw std::runtime_error(conn.error().message);
    return std::move(*conn);
  }

  std::string base_uri_;
  std::string schema_;
};

}  // namespace broadcastd
