// The command line's rules, without running anything: one action, modifiers
// only with theirs, arguments checked for shape, exit codes 0/1/2.

#include "cli/command_line.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

namespace broadcastd {
namespace {

struct Parsed {
  std::optional<int> exit_code;
  Invocation inv;
  std::string out, err;
};

Parsed Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "broadcastd");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  Parsed p;
  std::ostringstream out, err;
  p.exit_code = ParseCommandLine(static_cast<int>(argv.size()), argv.data(), p.inv, out, err);
  p.out = out.str();
  p.err = err.str();
  return p;
}

TEST(CommandLineTest, NoActionRunsTheDaemon) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {}, {"--config", "/x.yaml"}, {"-v"}, {"-c", "/x.yaml", "--verbose"}}) {
    Parsed p = Parse(args);
    EXPECT_FALSE(p.exit_code.has_value()) << p.err;
    EXPECT_EQ(p.inv.command, Command::kDaemon);
  }
  EXPECT_EQ(Parse({}).inv.config, "/etc/broadcastd/broadcastd.yaml");
}

// A modifier alone must never fall through to running the daemon.
TEST(CommandLineTest, ModifierWithoutItsActionIsAUsageError) {
  for (const auto& args : std::vector<std::vector<std::string>>{{"--json"},
                                                                {"--reason", "maintenance"},
                                                                {"--broadcast-id", "5"},
                                                                {"--json", "--config", "/x.yaml"},
                                                                {"campaign.yaml"}}) {
    Parsed p = Parse(args);
    EXPECT_EQ(p.exit_code, kExitUsage) << args.front();
    EXPECT_NE(p.err.find("only"), std::string::npos) << p.err;
  }
  EXPECT_NE(Parse({"--json"}).err.find("--json only goes with --status"), std::string::npos);
}

TEST(CommandLineTest, ModifierWithAnotherActionIsAUsageError) {
  EXPECT_EQ(Parse({"--check", "--json"}).exit_code, kExitUsage);
  EXPECT_EQ(Parse({"--resume", "main/users", "--reason", "x"}).exit_code, kExitUsage);
  EXPECT_EQ(Parse({"--resolve-not-sent", "4", "--broadcast-id", "5"}).exit_code, kExitUsage);
  EXPECT_EQ(Parse({"--status", "-v"}).exit_code, kExitUsage);
  EXPECT_EQ(Parse({"--status", "a.yaml"}).exit_code, kExitUsage);
  EXPECT_EQ(Parse({"--check-config", "a.yaml"}).exit_code, kExitUsage);
}

TEST(CommandLineTest, ExactlyOneAction) {
  Parsed p = Parse({"--status", "--cancel-job", "3"});
  EXPECT_EQ(p.exit_code, kExitUsage);
  EXPECT_NE(p.err.find("--status, --cancel-job"), std::string::npos) << p.err;
  EXPECT_EQ(Parse({"--check", "--check-config"}).exit_code, kExitUsage);
  EXPECT_EQ(Parse({"--cancel-job", "1", "--cancel-job", "2"}).exit_code, kExitUsage);
}

TEST(CommandLineTest, ActionsAndTheirModifiers) {
  Parsed status = Parse({"--status", "--json", "-c", "/x.yaml"});
  ASSERT_FALSE(status.exit_code.has_value()) << status.err;
  EXPECT_EQ(status.inv.command, Command::kStatus);
  EXPECT_TRUE(status.inv.json);
  EXPECT_EQ(status.inv.config, "/x.yaml");

  Parsed pause = Parse({"--pause", "main/online_users", "--reason", "vendor incident"});
  ASSERT_FALSE(pause.exit_code.has_value()) << pause.err;
  EXPECT_EQ(pause.inv.command, Command::kPause);
  EXPECT_EQ(pause.inv.argument, "main/online_users");
  EXPECT_EQ(pause.inv.reason, "vendor incident");

  Parsed resolved = Parse({"--resolve-sent", "12", "--broadcast-id", "1365344904091349007"});
  ASSERT_FALSE(resolved.exit_code.has_value()) << resolved.err;
  EXPECT_EQ(resolved.inv.command, Command::kResolveSent);
  EXPECT_EQ(resolved.inv.broadcast_id, "1365344904091349007");

  Parsed check = Parse({"--check", "a.yaml", "b.yml"});
  ASSERT_FALSE(check.exit_code.has_value()) << check.err;
  EXPECT_EQ(check.inv.files.size(), 2u);
  EXPECT_EQ(Parse({"--check-config"}).inv.command, Command::kCheckConfig);
  EXPECT_EQ(Parse({"--cancel-campaign", "new-year.2030"}).inv.command, Command::kCancelCampaign);
}

// An empty shell variable, a typo or a sign: refused before anything is opened.
TEST(CommandLineTest, MalformedArgumentsAreUsageErrors) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"--cancel-job", ""},
           {"--cancel-job", "0"},
           {"--cancel-job", "-3"},
           {"--cancel-job", "+3"},
           {"--cancel-job", " 3"},
           {"--cancel-job", "3x"},
           {"--cancel-job", "99999999999999999999"},
           {"--resolve-sent", ""},
           {"--resolve-not-sent", "abc"},
           {"--cancel-campaign", ""},
           {"--cancel-campaign", "has space"},
           {"--pause", ""},
           {"--pause", "main"},
           {"--pause", "main/"},
           {"--pause", "/users"},
           {"--pause", "main/user"},
           {"--resume", "main/Users"},
           {"--pause", "main/users", "--reason", ""},
           {"--resolve-sent", "4", "--broadcast-id", ""},
           {"--resolve-sent", "4", "--broadcast-id", "12a"},
           {"--config", ""},
       }) {
    Parsed p = Parse(args);
    EXPECT_EQ(p.exit_code, kExitUsage) << args[0] << " " << args[1];
    EXPECT_FALSE(p.err.empty());
  }
}

TEST(CommandLineTest, HelpVersionAndUnknownFlags) {
  Parsed help = Parse({"--help"});
  EXPECT_EQ(help.exit_code, kExitOk);
  EXPECT_NE(help.out.find("--check-config"), std::string::npos);
  Parsed version = Parse({"--version"});
  EXPECT_EQ(version.exit_code, kExitOk);
  EXPECT_EQ(version.out, std::string("broadcastd ") + BROADCASTD_VERSION + "\n");
  EXPECT_EQ(Parse({"--bogus"}).exit_code, kExitUsage);
  EXPECT_EQ(Parse({"--cancel-job"}).exit_code, kExitUsage);
}

TEST(CommandLineTest, JobIds) {
  EXPECT_EQ(ParseJobId("12"), 12);
  EXPECT_EQ(ParseJobId("9223372036854775807"), 9223372036854775807);
  for (const char* bad : {"", "0", "-1", "+1", "1 ", "0x1", "9223372036854775808"}) {
    EXPECT_FALSE(ParseJobId(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace broadcastd
