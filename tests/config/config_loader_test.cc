#include "config/config_loader.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

namespace broadcastd {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

// Lines 1-9; the app's keys are at column 5.
constexpr const char* kMinimal =
    "database: /var/lib/broadcastd/queue.db\n"
    "campaigns_dir: /etc/broadcastd/campaigns\n"
    "apps:\n"
    "  main:\n"
    "    host: https://a1.easemob.com\n"
    "    org: acmeorg\n"
    "    app: acmeapp\n"
    "    client_id: YXA6abc\n"
    "    client_secret_file: main.secret\n";

class ConfigLoaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const char* old = std::getenv("STATE_DIRECTORY")) saved_ = old;
    ::unsetenv("STATE_DIRECTORY");
  }
  void TearDown() override {
    if (saved_) {
      ::setenv("STATE_DIRECTORY", saved_->c_str(), 1);
    } else {
      ::unsetenv("STATE_DIRECTORY");
    }
  }

  static Config Ok(const std::string& text,
                   const std::filesystem::path& source = "/etc/broadcastd/broadcastd.yaml") {
    Result<Config> config = ParseConfig(text, source);
    EXPECT_TRUE(config.has_value()) << (config ? "" : config.error().message);
    return config ? *config : Config{};
  }

  // The error message split into its lines.
  static std::vector<std::string> Problems(const std::string& text) {
    Result<Config> config = ParseConfig(text, "broadcastd.yaml");
    EXPECT_FALSE(config.has_value()) << "accepted:\n" << text;
    std::vector<std::string> lines;
    if (config) return lines;
    std::string message = config.error().message;
    size_t start = 0;
    while (start <= message.size()) {
      size_t end = message.find('\n', start);
      if (end == std::string::npos) end = message.size();
      lines.push_back(message.substr(start, end - start));
      start = end + 1;
    }
    return lines;
  }

  static std::string OnlyProblem(const std::string& text) {
    std::vector<std::string> lines = Problems(text);
    EXPECT_EQ(lines.size(), 1u) << ::testing::PrintToString(lines);
    return lines.empty() ? "" : lines.front();
  }

  // kMinimal with one line replaced (1-based) or, with an empty `line`, removed.
  static std::string Edit(int number, const std::string& line) {
    std::string out;
    std::string text = kMinimal;
    size_t start = 0;
    for (int n = 1; start < text.size(); ++n) {
      size_t end = text.find('\n', start);
      std::string current = text.substr(start, end - start + 1);
      if (n != number) {
        out += current;
      } else if (!line.empty()) {
        out += line + "\n";
      }
      start = end + 1;
    }
    return out;
  }

  std::optional<std::string> saved_;
};

TEST_F(ConfigLoaderTest, DesignExampleIsRead) {
  Config c = Ok(
      "database: /var/lib/broadcastd/queue.db\n"
      "campaigns_dir: /etc/broadcastd/campaigns\n"
      "apps:\n"
      "  main:\n"
      "    host: https://a1.easemob.com\n"
      "    org: acmeorg\n"
      "    app: acmeapp\n"
      "    client_id: YXA6abc\n"
      "    client_secret_file: main.secret\n"
      "    daily_budget: {users: 5, online_users: 60, chatrooms: 120}\n"
      "  side:\n"
      "    host: http://127.0.0.1:8080\n"
      "    org: o2\n"
      "    app: a2\n"
      "    client_id: id2\n"
      "    token_file: /run/credentials/side.token\n"
      "limits:\n"
      "  users:        {windows: [{count: 1, seconds: 1800}], daily: 3}\n"
      "  online_users: {windows: [{count: 1, seconds: 60}],   daily: 50}\n"
      "  chatrooms:    {windows: [{count: 1, seconds: 1}, {count: 10, seconds: 60}], daily: 100}\n"
      "day_boundary: \"08:30 UTC\"\n");
  EXPECT_EQ(c.source, "/etc/broadcastd/broadcastd.yaml");
  EXPECT_EQ(c.database, "/var/lib/broadcastd/queue.db");
  EXPECT_EQ(c.campaigns_dir, "/etc/broadcastd/campaigns");
  ASSERT_EQ(c.apps.size(), 2u);
  const AppConfig& main = c.apps.at("main");
  EXPECT_EQ(main.name, "main");
  EXPECT_EQ(main.host, "https://a1.easemob.com");
  EXPECT_EQ(main.org, "acmeorg");
  EXPECT_EQ(main.app, "acmeapp");
  EXPECT_EQ(main.client_id, "YXA6abc");
  EXPECT_EQ(main.client_secret_file, std::filesystem::path("main.secret"));  // kept relative
  EXPECT_FALSE(main.token_file.has_value());
  EXPECT_EQ(main.daily_budget,
            (std::map<BroadcastTarget, int>{{BroadcastTarget::kUsers, 5},
                                            {BroadcastTarget::kOnlineUsers, 60},
                                            {BroadcastTarget::kChatrooms, 120}}));
  const AppConfig& side = c.apps.at("side");
  EXPECT_EQ(side.host, "http://127.0.0.1:8080");
  EXPECT_EQ(side.token_file, std::filesystem::path("/run/credentials/side.token"));
  EXPECT_FALSE(side.client_secret_file.has_value());
  EXPECT_TRUE(side.daily_budget.empty());
  for (BroadcastTarget t : kAllTargets) EXPECT_EQ(c.limits.at(t), DefaultLimits(t));
  EXPECT_EQ(c.day_boundary, hours(8) + minutes(30));
}

TEST_F(ConfigLoaderTest, DefaultsForLimitsDayBoundaryAndDatabase) {
  ::setenv("STATE_DIRECTORY", "/var/lib/broadcastd", 1);
  Config c = Ok(Edit(1, ""));
  EXPECT_EQ(c.database, "/var/lib/broadcastd/queue.db");
  ASSERT_EQ(c.limits.size(), 3u);
  EXPECT_EQ(c.limits.at(BroadcastTarget::kUsers), (EndpointLimits{{{1, minutes(30)}}, 3}));
  EXPECT_EQ(c.limits.at(BroadcastTarget::kOnlineUsers), (EndpointLimits{{{1, minutes(1)}}, 50}));
  EXPECT_EQ(c.limits.at(BroadcastTarget::kChatrooms),
            (EndpointLimits{{{1, seconds(1)}, {10, minutes(1)}}, 100}));
  EXPECT_EQ(c.day_boundary, Duration(0));
  EXPECT_EQ(c.max_delay, hours(24));
}

TEST_F(ConfigLoaderTest, MaxDelayIsADurationOrNone) {
  EXPECT_EQ(Ok(std::string("max_delay: 90m\n") + kMinimal).max_delay, minutes(90));
  EXPECT_EQ(Ok(std::string("max_delay: 2d\n") + kMinimal).max_delay, hours(48));
  EXPECT_EQ(Ok(std::string("max_delay: 1m\n") + kMinimal).max_delay, minutes(1));
  EXPECT_EQ(Ok(std::string("max_delay: 366d\n") + kMinimal).max_delay, hours(24 * 366));
  EXPECT_FALSE(Ok(std::string("max_delay: none\n") + kMinimal).max_delay.has_value());

  // Every error names the file, line, column and key.
  EXPECT_EQ(OnlyProblem(std::string(kMinimal) + "max_delay: \"24\"\n"),
            "broadcastd.yaml:10:1: max_delay: \"24\" has no unit (s, m, h or d): give a "
            "duration such as 90m, 24h or 2d (1m to 366d), or none");
  EXPECT_EQ(OnlyProblem(std::string(kMinimal) + "max_delay: 30s\n"),
            "broadcastd.yaml:10:1: max_delay: \"30s\" is out of range: give a duration such "
            "as 90m, 24h or 2d (1m to 366d), or none");
  EXPECT_TRUE(OnlyProblem(std::string(kMinimal) + "max_delay: 367d\n")
                  .starts_with("broadcastd.yaml:10:1: max_delay: \"367d\" is out of range"));
  EXPECT_TRUE(OnlyProblem(std::string(kMinimal) + "max_delay: 1 day\n")
                  .starts_with("broadcastd.yaml:10:1: max_delay: \"1 day\" is not a duration"));
  EXPECT_TRUE(OnlyProblem(std::string(kMinimal) + "max_delay: -5h\n")
                  .starts_with("broadcastd.yaml:10:1: max_delay: \"-5h\" is not a duration"));
  EXPECT_EQ(OnlyProblem(std::string(kMinimal) + "max_delay: 24\n"),
            "broadcastd.yaml:10:1: max_delay: must be a duration such as 90m, 24h or 2d (1m "
            "to 366d), or none");
}

// A new queue holds what it finds unless the config says send (issue 18, case 4).
TEST_F(ConfigLoaderTest, OnNewQueueIsHoldUnlessSend) {
  EXPECT_EQ(Ok(kMinimal).on_new_queue, Config::NewQueue::kHold);
  EXPECT_EQ(Ok(std::string("on_new_queue: hold\n") + kMinimal).on_new_queue,
            Config::NewQueue::kHold);
  EXPECT_EQ(Ok(std::string("on_new_queue: send\n") + kMinimal).on_new_queue,
            Config::NewQueue::kSend);
  EXPECT_TRUE(OnlyProblem(std::string(kMinimal) + "on_new_queue: yes\n")
                  .starts_with("broadcastd.yaml:10:1: on_new_queue: must be hold"));
}

TEST_F(ConfigLoaderTest, StateDirectoryListTakesTheFirst) {
  ::setenv("STATE_DIRECTORY", "/var/lib/broadcastd:/var/lib/other", 1);
  EXPECT_EQ(Ok(Edit(1, "")).database, "/var/lib/broadcastd/queue.db");
}

// From an operator's shell (no $STATE_DIRECTORY) the default is the unit's state
// folder, so `broadcastd --status` finds the running service's queue.
TEST_F(ConfigLoaderTest, DatabaseWithoutStateDirectoryIsTheServiceStateFolder) {
  EXPECT_EQ(Ok(Edit(1, "")).database, "/var/lib/broadcastd/queue.db");
  ::setenv("STATE_DIRECTORY", "", 1);
  EXPECT_EQ(Ok(Edit(1, "")).database, "/var/lib/broadcastd/queue.db");
  EXPECT_EQ(DefaultDatabasePath(nullptr), "/var/lib/broadcastd/queue.db");
  EXPECT_EQ(DefaultDatabasePath("/run/state"), "/run/state/queue.db");
}

// A secret pasted where its file's name belongs is refused, and the message
// never repeats it.
TEST_F(ConfigLoaderTest, CredentialValueThatLooksLikeASecretIsRefusedWithoutEchoingIt) {
  const std::string secret = "YXA6Zk3mQ-pasted_Secret9";
  Result<Config> config =
      ParseConfig(Edit(9, "    client_secret_file: " + secret), "broadcastd.yaml");
  ASSERT_FALSE(config.has_value());
  EXPECT_NE(config.error().message.find("apps.main.client_secret_file: looks like a secret"),
            std::string::npos)
      << config.error().message;
  EXPECT_EQ(config.error().message.find("pasted_Secret"), std::string::npos)
      << config.error().message;
  Result<Config> token =
      ParseConfig(Edit(9, "    token_file: " + std::string(120, 'T')), "broadcastd.yaml");
  ASSERT_FALSE(token.has_value());
  EXPECT_EQ(token.error().message.find("TTTTTTTT"), std::string::npos) << token.error().message;
  // Ordinary names pass.
  EXPECT_EQ(Ok(Edit(9, "    client_secret_file: production-app.secret"))
                .apps.at("main")
                .client_secret_file,
            std::filesystem::path("production-app.secret"));
  EXPECT_EQ(Ok(Edit(9, "    client_secret_file: /etc/keys/some-rather-long-name-here"))
                .apps.at("main")
                .client_secret_file,
            std::filesystem::path("/etc/keys/some-rather-long-name-here"));
}

TEST_F(ConfigLoaderTest, RelativePathsResolveAgainstTheConfigFolder) {
  Config c = Ok(Edit(1, "database: state/queue.db") + "", "/etc/broadcastd/broadcastd.yaml");
  EXPECT_EQ(c.database, "/etc/broadcastd/state/queue.db");
  Config d = Ok(Edit(2, "campaigns_dir: ../campaigns"), "/etc/broadcastd/broadcastd.yaml");
  EXPECT_EQ(d.campaigns_dir, "/etc/campaigns");
}

TEST_F(ConfigLoaderTest, LimitsForAppliesThePerAppDailyBudget) {
  Config c = Ok(std::string(kMinimal) +
                "    daily_budget: {users: 7}\n"
                "  other:\n"
                "    host: https://a1.easemob.com\n"
                "    org: o\n"
                "    app: a\n"
                "    client_id: c\n"
                "    token_file: t\n"
                "limits:\n"
                "  users: {windows: [{count: 2, seconds: 0.5}], daily: 4}\n"
                "  chatrooms: {daily: 200}\n");
  EXPECT_EQ(c.LimitsFor("main", BroadcastTarget::kUsers),
            (EndpointLimits{{{2, Duration(500)}}, 7}));
  EXPECT_EQ(c.LimitsFor("other", BroadcastTarget::kUsers),
            (EndpointLimits{{{2, Duration(500)}}, 4}));
  // Only daily given: the default windows stay.
  EXPECT_EQ(c.LimitsFor("main", BroadcastTarget::kChatrooms),
            (EndpointLimits{{{1, seconds(1)}, {10, minutes(1)}}, 200}));
  EXPECT_EQ(c.LimitsFor("main", BroadcastTarget::kOnlineUsers),
            DefaultLimits(BroadcastTarget::kOnlineUsers));
  EXPECT_EQ(c.LimitsFor("no-such-app", BroadcastTarget::kUsers).daily, 4);
}

TEST_F(ConfigLoaderTest, HttpHostOnlyToLoopback) {
  EXPECT_EQ(OnlyProblem(Edit(5, "    host: http://a1.easemob.com")),
            "broadcastd.yaml:5:5: apps.main.host: http:// is allowed only to loopback addresses "
            "(127.0.0.0/8, ::1, localhost); use https://");
  Ok(Edit(5, "    host: http://localhost:8080"));
  Ok(Edit(5, "    host: http://[::1]:8080"));
  Ok(Edit(5, "    host: http://127.0.0.2"));
}

TEST_F(ConfigLoaderTest, SecretsInClearAreRefused) {
  std::string secret = OnlyProblem(std::string(kMinimal) + "    client_secret: s3cr3t\n");
  EXPECT_EQ(secret,
            "broadcastd.yaml:10:5: apps.main.client_secret: secrets never go in the config: put it "
            "in a file readable only by the service and name that file with client_secret_file");
  std::string token = OnlyProblem(std::string(kMinimal) + "    token: abc\n");
  EXPECT_TRUE(
      token.starts_with("broadcastd.yaml:10:5: apps.main.token: secrets never go in the "
                        "config"))
      << token;
  EXPECT_NE(token.find("token_file"), std::string::npos);
  // The message never repeats the secret.
  EXPECT_EQ(secret.find("s3cr3t"), std::string::npos);
}

TEST_F(ConfigLoaderTest, ExactlyOneCredentialFile) {
  EXPECT_EQ(OnlyProblem(std::string(kMinimal) + "    token_file: main.token\n"),
            "broadcastd.yaml:4:3: apps.main: give only one of client_secret_file and token_file");
  EXPECT_EQ(OnlyProblem(Edit(9, "")),
            "broadcastd.yaml:4:3: apps.main: needs client_secret_file or token_file");
  EXPECT_EQ(OnlyProblem(Edit(9, "    client_secret_file: \"\"")),
            "broadcastd.yaml:9:5: apps.main.client_secret_file: must be a non-empty string");
}

TEST_F(ConfigLoaderTest, AppFieldsAreRequired) {
  std::vector<std::string> problems = Problems(
      "database: /q.db\n"
      "campaigns_dir: /c\n"
      "apps:\n"
      "  main:\n"
      "    token_file: t\n");
  EXPECT_EQ(problems, (std::vector<std::string>{
                          "broadcastd.yaml:4:3: apps.main.host: is required",
                          "broadcastd.yaml:4:3: apps.main.org: is required",
                          "broadcastd.yaml:4:3: apps.main.app: is required",
                          "broadcastd.yaml:4:3: apps.main.client_id: is required",
                      }));
  EXPECT_EQ(OnlyProblem(Edit(6, "    org: 42")),
            "broadcastd.yaml:6:5: apps.main.org: must be a non-empty string");
}

TEST_F(ConfigLoaderTest, AppsAndCampaignsDirAreRequired) {
  EXPECT_EQ(OnlyProblem("database: /q.db\ncampaigns_dir: /c\n"),
            "broadcastd.yaml: apps: is required: name at least one app");
  EXPECT_EQ(OnlyProblem("database: /q.db\ncampaigns_dir: /c\napps: {}\n"),
            "broadcastd.yaml:3:1: apps: must name at least one app");
  EXPECT_EQ(OnlyProblem("database: /q.db\ncampaigns_dir: /c\napps: [main]\n"),
            "broadcastd.yaml:3:1: apps: must be a mapping");
  EXPECT_EQ(OnlyProblem(Edit(2, "")), "broadcastd.yaml: campaigns_dir: is required");
}

TEST_F(ConfigLoaderTest, HttpListenIsOffUnsetAndLoopbackUnlessMadePublic) {
  EXPECT_FALSE(Ok(kMinimal).http_listen.has_value());
  EXPECT_EQ(Ok(std::string("http_listen: \"127.0.0.1:9464\"\n") + kMinimal).http_listen,
            "127.0.0.1:9464");

  std::vector<std::string> problems =
      Problems(std::string("http_listen: \"0.0.0.0:9464\"\n") + kMinimal);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("not a loopback address"), std::string::npos) << problems[0];
  EXPECT_NE(problems[0].find("http_listen_public: true"), std::string::npos) << problems[0];

  EXPECT_TRUE(
      Ok(std::string("http_listen: \"0.0.0.0:9464\"\nhttp_listen_public: true\n") + kMinimal)
          .http_listen_public);

  EXPECT_EQ(Problems(std::string("http_listen: \"9464\"\n") + kMinimal).size(), 1u);
}

TEST_F(ConfigLoaderTest, UnknownKeysAreErrors) {
  std::vector<std::string> problems =
      Problems(std::string("colour: blue\n") + kMinimal + "    hots: x\n");
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_EQ(
      problems[0],
      "broadcastd.yaml:1:1: colour: unknown key (allowed: apps, campaigns_dir, database, "
      "database_password_file, day_boundary, http_listen, http_listen_public, limits, "
      "max_delay, node_name, on_new_queue, safety_margin_ms, sender_lease_ttl_ms, signatures)");
  EXPECT_TRUE(problems[1].starts_with("broadcastd.yaml:11:5: apps.main.hots: unknown key"))
      << problems[1];
}

TEST_F(ConfigLoaderTest, DailyBudgetOverridesArePositiveIntegersForKnownTargets) {
  std::vector<std::string> problems =
      Problems(std::string(kMinimal) +
               "    daily_budget: {users: 0, online_users: \"5\", everyone: 3, "
               "chatrooms: 2.5}\n");
  EXPECT_EQ(problems,
            (std::vector<std::string>{
                "broadcastd.yaml:10:20: apps.main.daily_budget.users: must be an integer of at "
                "least 1",
                "broadcastd.yaml:10:30: apps.main.daily_budget.online_users: must be an integer "
                "of at least 1",
                "broadcastd.yaml:10:49: apps.main.daily_budget.everyone: unknown target (allowed: "
                "users, online_users, chatrooms)",
                "broadcastd.yaml:10:62: apps.main.daily_budget.chatrooms: must be an integer of "
                "at least 1",
            }));
}

TEST_F(ConfigLoaderTest, LimitsAreChecked) {
  std::vector<std::string> problems = Problems(std::string(kMinimal) +
                                               "limits:\n"
                                               "  users:\n"
                                               "    windows: [{count: 0, seconds: 60}]\n"
                                               "    daily: 0\n"
                                               "  chatrooms:\n"
                                               "    windows: [{count: 1, seconds: 0}, {count: 1}]\n"
                                               "  online_users: {windows: []}\n"
                                               "  everyone: {daily: 1}\n");
  EXPECT_EQ(problems,
            (std::vector<std::string>{
                "broadcastd.yaml:12:16: limits.users.windows[0].count: must be an integer of at "
                "least 1",
                "broadcastd.yaml:13:5: limits.users.daily: must be an integer of at least 1",
                "broadcastd.yaml:15:26: limits.chatrooms.windows[0].seconds: must be a number of "
                "seconds above 0 (at most a year)",
                "broadcastd.yaml:15:39: limits.chatrooms.windows[1].seconds: is required",
                "broadcastd.yaml:16:18: limits.online_users.windows: must be a non-empty list of "
                "{count, seconds}",
                "broadcastd.yaml:17:3: limits.everyone: unknown target (allowed: users, "
                "online_users, chatrooms)",
            }));
}

TEST_F(ConfigLoaderTest, DayBoundaryFormat) {
  EXPECT_EQ(Ok(std::string(kMinimal) + "day_boundary: \"16:00 UTC\"\n").day_boundary, hours(16));
  for (const char* bad :
       {"\"24:00 UTC\"", "\"08:60 UTC\"", "\"8:00 UTC\"", "\"08:00\"", "\"08:00 CET\"", "800"}) {
    EXPECT_EQ(OnlyProblem(std::string(kMinimal) + "day_boundary: " + bad + "\n"),
              "broadcastd.yaml:10:1: day_boundary: must be \"HH:MM UTC\", e.g. \"00:00 UTC\"")
        << bad;
  }
}

TEST_F(ConfigLoaderTest, SafetyMarginDefaultAndRange) {
  EXPECT_EQ(Ok(kMinimal).safety_margin, Duration(100));
  EXPECT_EQ(Ok(std::string(kMinimal) + "safety_margin_ms: 0\n").safety_margin, Duration(0));
  EXPECT_EQ(Ok(std::string(kMinimal) + "safety_margin_ms: 2000\n").safety_margin, Duration(2000));
  for (const char* bad : {"-1", "60001", "0.5", "\"500\""}) {
    EXPECT_EQ(OnlyProblem(std::string(kMinimal) + "safety_margin_ms: " + bad + "\n"),
              "broadcastd.yaml:10:1: safety_margin_ms: must be an integer from 0 to 60000 "
              "(milliseconds)")
        << bad;
  }
}

TEST_F(ConfigLoaderTest, APostgresDatabaseIsTakenAsWrittenWithItsKeys) {
  const std::string minimal = kMinimal;
  const std::string rest = minimal.substr(minimal.find('\n') + 1);  // without `database:`
  const Config sqlite = Ok("database: state/queue.db\n" + rest);
  EXPECT_FALSE(sqlite.DatabaseIsPostgres());
  EXPECT_TRUE(sqlite.database.is_absolute());  // against the config's folder
  EXPECT_EQ(sqlite.node_name, HostName());
  EXPECT_EQ(sqlite.sender_lease_ttl, Duration(15000));

  const Config pg = Ok("database: \"postgresql://broadcastd@db1:5432/broadcastd\"\n" + rest +
                       "database_password_file: pg-password\nnode_name: host-a\n"
                       "sender_lease_ttl_ms: 3000\n");
  EXPECT_TRUE(pg.DatabaseIsPostgres());
  EXPECT_EQ(pg.database.native(), "postgresql://broadcastd@db1:5432/broadcastd");
  EXPECT_EQ(pg.database_password_file, std::filesystem::path("pg-password"));
  EXPECT_EQ(pg.node_name, "host-a");
  EXPECT_EQ(pg.sender_lease_ttl, Duration(3000));

  EXPECT_EQ(OnlyProblem(std::string(kMinimal) + "database_password_file: pg-password\n"),
            "broadcastd.yaml:10:1: database_password_file: only for a PostgreSQL database "
            "(database: \"postgresql://...\")");
  EXPECT_EQ(OnlyProblem(std::string(kMinimal) + "node_name: \"host a\"\n"),
            "broadcastd.yaml:10:1: node_name: must be 1 to 64 printable characters without "
            "spaces");
  EXPECT_EQ(OnlyProblem(std::string(kMinimal) + "sender_lease_ttl_ms: 500\n"),
            "broadcastd.yaml:10:1: sender_lease_ttl_ms: must be an integer from 1000 to 600000 "
            "(milliseconds)");
  const std::string in_uri =
      OnlyProblem("database: \"postgresql://broadcastd:hunter2@db1/broadcastd\"\n" + rest);
  EXPECT_EQ(in_uri.find("hunter2"), std::string::npos) << in_uri;
  EXPECT_NE(in_uri.find("database_password_file"), std::string::npos) << in_uri;
  EXPECT_NE(OnlyProblem("database: \"postgresql://db1/b?password=hunter2\"\n" + rest)
                .find("holds a password"),
            std::string::npos);
  EXPECT_NE(OnlyProblem("database: \"postgresql://db1/b?nosuchoption=1\"\n" + rest)
                .find("not a valid PostgreSQL URI"),
            std::string::npos);
  // The password itself in the config is refused, pointing at where it belongs.
  EXPECT_NE(Problems(std::string(kMinimal) + "database_password: hunter2\n")
                .at(0)
                .find("database_password_file"),
            std::string::npos);
}

TEST_F(ConfigLoaderTest, YamlProblemsAreReportedWithTheirPosition) {
  EXPECT_EQ(OnlyProblem(std::string(kMinimal) + "    org: again\n"),
            "broadcastd.yaml:10:5: duplicate key 'org' (first given at line 6)");
  EXPECT_EQ(OnlyProblem("- a\n"), "broadcastd.yaml:1:1: the top level must be a mapping of keys");
}

TEST_F(ConfigLoaderTest, LoadsAFile) {
  const std::string dir = BROADCASTD_TEST_DATA "/config";
  Result<Config> config = LoadConfig(dir + "/broadcastd.yaml");
  ASSERT_TRUE(config.has_value()) << config.error().message;
  EXPECT_EQ(config->source, dir + "/broadcastd.yaml");
  EXPECT_EQ(config->database, std::filesystem::path(dir) / "state/queue.db");
  EXPECT_EQ(config->campaigns_dir, std::filesystem::path(BROADCASTD_TEST_DATA) / "campaigns");
  EXPECT_EQ(config->apps.at("main").host, "http://127.0.0.1:18080");

  Result<Config> missing = LoadConfig(dir + "/missing.yaml");
  ASSERT_FALSE(missing.has_value());
  EXPECT_TRUE(missing.error().message.starts_with(dir + "/missing.yaml: cannot read"))
      << missing.error().message;
}

}  // namespace
}  // namespace broadcastd

namespace broadcastd {
namespace {

// The example config's placeholders are errors naming line and key: a unit started on
// the config as installed would fail every request, or reach someone else's app.
TEST_F(ConfigLoaderTest, TheShippedPlaceholdersAreErrorsNamingLineAndKey) {
  EXPECT_EQ(OnlyProblem(Edit(6, "    org: myorg")),
            "broadcastd.yaml:6:5: apps.main.org: \"myorg\" is the example config's placeholder: "
            "set the value from the Easemob console before the daemon may start");
  EXPECT_NE(OnlyProblem(Edit(7, "    app: MyApp")).find("broadcastd.yaml:7:5: apps.main.app:"),
            std::string::npos);
  EXPECT_NE(OnlyProblem(Edit(8, "    client_id: YXA6-replace-me"))
                .find("broadcastd.yaml:8:5: apps.main.client_id: \"YXA6-replace-me\""),
            std::string::npos);
  // The example file itself, as the package installs it.
  Result<Config> shipped =
      LoadConfig(std::filesystem::path(BROADCASTD_SOURCE_DIR) / "config/broadcastd.example.yaml");
  ASSERT_FALSE(shipped.has_value());
  for (const char* key : {"apps.main.org", "apps.main.app", "apps.main.client_id"}) {
    EXPECT_NE(shipped.error().message.find(key), std::string::npos) << shipped.error().message;
  }
}

// The vendor counts windows and budgets per org/app: two config names for one vendor
// app would each spend the whole budget.
TEST_F(ConfigLoaderTest, TwoAppsNamingOneVendorAppAreRefused) {
  const std::string second =
      "  second:\n"
      "    host: https://a1.easemob.com\n"
      "    org: AcmeOrg\n"
      "    app: acmeapp\n"
      "    client_id: YXA6def\n"
      "    client_secret_file: second.secret\n";
  std::string problem = OnlyProblem(std::string(kMinimal) + second);
  EXPECT_NE(problem.find("apps \"main\" and \"second\" both name"), std::string::npos) << problem;
  EXPECT_NE(problem.find("acmeapp"), std::string::npos) << problem;

  // Another app of the same org, or the same names on another host, are fine.
  std::string other_app = second;
  other_app.replace(other_app.find("app: acmeapp"), 12, "app: other");
  Ok(std::string(kMinimal) + other_app);
  std::string other_host = second;
  other_host.replace(other_host.find("a1.easemob.com"), 14, "a61.easemob.com");
  Ok(std::string(kMinimal) + other_host);
}

}  // namespace
}  // namespace broadcastd

namespace broadcastd {
namespace {

TEST(SignatureConfigTest, OffUnlessTheConfigSaysSo) {
  auto config = ParseConfig(kMinimal, "/etc/broadcastd/broadcastd.yaml");
  ASSERT_TRUE(config.has_value()) << config.error().message;
  EXPECT_FALSE(config->signatures);
}

TEST(SignatureConfigTest, SignersFilesAndTheSignersEachTargetNeeds) {
  auto config = ParseConfig(std::string(kMinimal) +
                                "signatures:\n"
                                "  allowed_signers: allowed_signers\n"
                                "  revoked: /etc/broadcastd/revoked_keys\n"
                                "  required: {users: 2, online_users: 1, chatrooms: 0}\n"
                                "  verify_timeout_ms: 2000\n",
                            "/etc/broadcastd/broadcastd.yaml");
  ASSERT_TRUE(config.has_value()) << config.error().message;
  ASSERT_TRUE(config->signatures);
  EXPECT_EQ(config->signatures->allowed_signers, "/etc/broadcastd/allowed_signers");
  EXPECT_EQ(config->signatures->revoked, std::filesystem::path("/etc/broadcastd/revoked_keys"));
  EXPECT_EQ(config->signatures->required.at(BroadcastTarget::kUsers), 2);
  EXPECT_EQ(config->signatures->required.at(BroadcastTarget::kOnlineUsers), 1);
  EXPECT_EQ(config->signatures->required.at(BroadcastTarget::kChatrooms), 0);
  EXPECT_EQ(config->signatures->verify_timeout, Duration(2000));
}

TEST(SignatureConfigTest, EveryProblemIsNamed) {
  auto config = ParseConfig(std::string(kMinimal) +
                                "signatures:\n"
                                "  required: {users: -1, everyone: 1}\n"
                                "  keyring: x\n",
                            "/etc/broadcastd/broadcastd.yaml");
  ASSERT_FALSE(config.has_value());
  const std::string& m = config.error().message;
  EXPECT_NE(m.find("signatures.allowed_signers: is required"), std::string::npos) << m;
  EXPECT_NE(m.find("signatures.required.users: must be a number of signers"), std::string::npos)
      << m;
  EXPECT_NE(m.find("signatures.required.everyone: not a target"), std::string::npos) << m;
  EXPECT_NE(m.find("signatures.keyring: unknown key"), std::string::npos) << m;
}

}  // namespace
}  // namespace broadcastd
