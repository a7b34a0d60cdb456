// The real broadcastd binary with a PostgreSQL URI that holds a password, malformed so
// that libpq cannot parse it (its own messages quote what they could not parse), and
// with a password file: no output of --check-config, --status or the daemon's start
// (its log) shows the password.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>
#include <vector>

#include "e2e/child_process.h"
#include "fakes/temp_dir.h"

namespace broadcastd {
namespace {

namespace fs = std::filesystem;

const std::string kBinary = std::string(BROADCASTD_BINARY_DIR) + "/broadcastd";
constexpr const char* kPassword = "hunter2Xq";

class DatabaseSecretTest : public ::testing::Test {
 protected:
  void SetUp() override { fs::create_directories(dir_ / "campaigns"); }

  void WriteConfig(const std::string& database, const std::string& extra = {}) {
    dir_.Write("broadcastd.yaml", "database: \"" + database + "\"\n" + extra +
                                      "campaigns_dir: " + (dir_ / "campaigns").string() +
                                      "\napps:\n  main:\n    host: http://127.0.0.1:9\n"
                                      "    org: org\n    app: app\n    client_id: cid\n"
                                      "    token_file: " +
                                      (dir_ / "main.token").string() + "\n");
  }

  // --check-config, --status, --status --json and the daemon's start: each output.
  std::vector<std::pair<std::string, CommandResult>> RunAll() {
    std::vector<std::pair<std::string, CommandResult>> out;
    for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
             {"--check-config"}, {"--status"}, {"--status", "--json"}, {}}) {
      std::vector<std::string> argv = {kBinary, "--config", (dir_ / "broadcastd.yaml").string()};
      argv.insert(argv.end(), args.begin(), args.end());
      out.emplace_back(
          args.empty() ? "the daemon" : args.front() + (args.size() > 1 ? " --json" : ""),
          RunCommand(argv, dir_.path()));
    }
    return out;
  }

  TempDir dir_;
};

TEST_F(DatabaseSecretTest, AMalformedUriNeverShowsItsPassword) {
  const std::string p = kPassword;
  for (const std::string& uri : {
           "postgresql://u:" + p + "%ZZ@127.0.0.1:1/db",  // a bad percent-encoding
           "postgresql://u:" + p + "@[::1/db",            // an unclosed '['
           "postgresql://u:" + p + "/x@127.0.0.1:1/db",   // an unencoded '/'
           "postgresql://u@127.0.0.1:1/db?password=" + p + "%ZZ",
           "postgresql://u@[::1/db?password=" + p,
       }) {
    WriteConfig(uri);
    for (const auto& [what, result] : RunAll()) {
      EXPECT_NE(result.exit_code, 0) << what << " " << uri << ": " << result.output;
      EXPECT_NE(result.output.find("database"), std::string::npos) << what << ": " << result.output;
      EXPECT_EQ(result.output.find(p), std::string::npos) << what << ": " << result.output;
    }
  }
}

// libpq's own messages, where no password can be: still none from the URI.
TEST_F(DatabaseSecretTest, AMalformedUriWithoutAPasswordSaysWhatIsWrong) {
  WriteConfig("postgresql://u@127.0.0.1:1/db%ZZ");
  for (const auto& [what, result] : RunAll()) {
    EXPECT_NE(result.exit_code, 0) << what;
    EXPECT_NE(result.output.find("invalid percent-encoded token"), std::string::npos)
        << what << ": " << result.output;
    EXPECT_EQ(result.output.find("%ZZ"), std::string::npos) << what << ": " << result.output;
  }
}

// The password from database_password_file, on a server that refuses the connection or
// in a file that cannot be used: never shown.
TEST_F(DatabaseSecretTest, ThePasswordFileIsNeverShown) {
  const fs::path file = dir_.Write("pg-password", std::string(kPassword) + "\n");
  fs::permissions(file, fs::perms(0600));
  WriteConfig("postgresql://u@127.0.0.1:1/db?connect_timeout=2",
              "database_password_file: " + file.string() + "\n");
  for (const auto& [what, result] : RunAll()) {
    if (what != "--check-config") {
      EXPECT_NE(result.exit_code, 0) << what << ": " << result.output;
      EXPECT_NE(result.output.find("127.0.0.1"), std::string::npos)
          << what << ": " << result.output;
    }
    EXPECT_EQ(result.output.find(kPassword), std::string::npos) << what << ": " << result.output;
  }
  // A line break inside it: refused when it is read (--check-config does not read it),
  // without the content.
  dir_.Write("pg-password", std::string(kPassword) + "\nsecond line\n");
  for (const auto& [what, result] : RunAll()) {
    if (what == "--check-config") continue;
    EXPECT_NE(result.exit_code, 0) << what << ": " << result.output;
    EXPECT_NE(result.output.find("database_password_file"), std::string::npos)
        << what << ": " << result.output;
    EXPECT_EQ(result.output.find(kPassword), std::string::npos) << what << ": " << result.output;
  }
}

}  // namespace
}  // namespace broadcastd
