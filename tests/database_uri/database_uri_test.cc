#include "database_uri/database_uri.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <map>

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
  EXPECT_EQ(PgDisplayName("postgresql://h/db?connect_timeout=5&password=x&sslmode=require"),
            "postgresql://h/db?connect_timeout=5&sslmode=require");
  EXPECT_EQ(PgDisplayName("postgresql://h/db?pass%77ord=x"), "postgresql://h/db");
}

// Whatever libpq makes of it: a password holding '/' or '@', unencoded, or one libpq
// cannot decode, is still left out.
TEST(PgDisplayName, DropsAPasswordLibpqCannotParse) {
  EXPECT_EQ(PgDisplayName("postgresql://u:PASS%ZZword@h/db"), "postgresql://u@h/db");
  EXPECT_EQ(PgDisplayName("postgresql://u:pa/ss@w@rd@h/db"), "postgresql://u@h/db");
  EXPECT_EQ(PgDisplayName("postgresql://u:hunter2@[::1/db"), "postgresql://u@[::1/db");
}

TEST(IsPostgresUri, TellsUrisFromFiles) {
  EXPECT_TRUE(IsPostgresUri("postgresql://broadcastd@db1:5432/broadcastd"));
  EXPECT_TRUE(IsPostgresUri("postgres://db1/broadcastd"));
  EXPECT_FALSE(IsPostgresUri("/var/lib/broadcastd/queue.db"));
  EXPECT_FALSE(IsPostgresUri("postgresql.db"));
}

TEST(PgUriProblem, AGoodUriHasNone) {
  EXPECT_EQ(PgUriProblem("postgresql://broadcastd@db1:5432/broadcastd?connect_timeout=5"),
            std::nullopt);
}

// Every malformed URI holding a password: the problem says so, and never quotes it.
TEST(PgUriProblem, NeverQuotesAPassword) {
  for (const std::string uri : {
           "postgresql://u:PASS%ZZhunter2@host/db",
           "postgresql://u:hunter2@[::1/db",
           "postgresql://u:hunter2@host/db",
           "postgresql://u:se/cret@host/db",
           "postgresql://u@host/db?password=hunter2%ZZ",
           "postgresql://u@host/db?password=hunter2",
       }) {
    auto problem = PgUriProblem(uri);
    ASSERT_TRUE(problem) << uri;
    EXPECT_EQ(problem->find("hunter2"), std::string::npos) << *problem;
    EXPECT_NE(problem->find("database_password_file"), std::string::npos) << *problem;
  }
}

// libpq's reason without the input it quotes.
TEST(PgUriProblem, SaysWhatLibpqFoundWithoutQuotingTheUri) {
  auto encoding = PgUriProblem("postgresql://u@host/db%ZZsecret");
  ASSERT_TRUE(encoding);
  EXPECT_EQ(*encoding, "not a valid PostgreSQL URI (invalid percent-encoded token)");
  auto bracket = PgUriProblem("postgresql://u@[::1/dbsecret");
  ASSERT_TRUE(bracket);
  EXPECT_EQ(bracket->find("secret"), std::string::npos) << *bracket;
  EXPECT_NE(bracket->find("\"]\""), std::string::npos) << *bracket;
  auto option = PgUriProblem("postgresql://h/db?no_such_option=1");
  ASSERT_TRUE(option);
  EXPECT_NE(option->find("\"no_such_option\""), std::string::npos) << *option;
}

}  // namespace
}  // namespace broadcastd
