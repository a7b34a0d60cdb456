#include "ha/pg_connection.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <map>
#include <pqxx/pqxx>

#include "pg_test_db.h"

namespace broadcastd {
namespace {

std::map<std::string, std::string> Parsed(const std::string& info) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(info.c_str(), &error);
  EXPECT_NE(options, nullptr) << (error != nullptr ? error : "");
  std::map<std::string, std::string> values;
  for (PQconninfoOption* o = options; o != nullptr && o->keyword != nullptr; ++o) {
    if (o->val != nullptr) values[o->keyword] = o->val;
  }
  PQconninfoFree(options);
  return values;
}

TEST(PgConnInfo, KeepsTheUriAndAddsThePasswordQuoted) {
  auto info = PgConnInfo("postgresql://broadcastd@db1:5433/queue?connect_timeout=5",
                         std::string("it's a \\ secret"));
  ASSERT_TRUE(info) << info.error().message;
  auto values = Parsed(*info);
  EXPECT_EQ(values["host"], "db1");
  EXPECT_EQ(values["port"], "5433");
  EXPECT_EQ(values["user"], "broadcastd");
  EXPECT_EQ(values["dbname"], "queue");
  EXPECT_EQ(values["connect_timeout"], "5");
  EXPECT_EQ(values["password"], "it's a \\ secret");
}

TEST(PgConnInfo, ThePasswordFileWinsOverOneInTheUri) {
  auto info = PgConnInfo("postgresql://u:inline@h/db", std::string("from-file"));
  ASSERT_TRUE(info);
  EXPECT_EQ(Parsed(*info)["password"], "from-file");
}

TEST(PgConnInfo, ABadUriIsInvalidAndSaysWhy) {
  auto info = PgConnInfo("postgresql://h/db?no_such_option=1", std::nullopt);
  ASSERT_FALSE(info);
  EXPECT_TRUE(info.error().Is(ErrorKind::kInvalid));
  EXPECT_NE(info.error().message.find("no_such_option"), std::string::npos) << info.error().message;
}

TEST(PgDisplayName, DropsThePasswordOnly) {
  EXPECT_EQ(PgDisplayName("postgresql://u:secret@h:5432/db"), "postgresql://u@h:5432/db");
  EXPECT_EQ(PgDisplayName("postgresql://u@h/db"), "postgresql://u@h/db");
  EXPECT_EQ(PgDisplayName("postgresql://h/db"), "postgresql://h/db");
}

TEST(IsPostgresUri, TellsUrisFromFiles) {
  EXPECT_TRUE(IsPostgresUri("postgresql://broadcastd@db1:5432/broadcastd"));
  EXPECT_TRUE(IsPostgresUri("postgres://db1/broadcastd"));
  EXPECT_FALSE(IsPostgresUri("/var/lib/broadcastd/queue.db"));
  EXPECT_FALSE(IsPostgresUri("postgresql.db"));
}

TEST(PgConnect, ReachesTheServer) {
  PgTestDb db;
  auto conn = PgConnect(db.uri(), std::nullopt);
  ASSERT_TRUE(conn) << conn.error().message;
  pqxx::work tx(**conn);
  EXPECT_EQ(tx.exec1("SELECT current_schema()")[0].as<std::string>(),
            "t_pgconnect_reachestheserver");
}

TEST(PgConnect, ARefusedConnectionIsUnavailableAndNeverShowsThePassword) {
  // Port 1 on loopback: nothing listens there.
  auto conn =
      PgConnect("postgresql://u:hunter2@127.0.0.1:1/db?connect_timeout=2", std::string("sesame"));
  ASSERT_FALSE(conn);
  EXPECT_TRUE(conn.error().Is(ErrorKind::kUnavailable));
  EXPECT_NE(conn.error().message.find("postgresql://u@127.0.0.1:1/db"), std::string::npos)
      << conn.error().message;
  EXPECT_EQ(conn.error().message.find("hunter2"), std::string::npos);
  EXPECT_EQ(conn.error().message.find("sesame"), std::string::npos);
}

}  // namespace
}  // namespace broadcastd
