// The read-only HTTP listener: metrics that promtool accepts, the status page (also as
// headless Chromium renders it, checked against --status --json), its bounds, and the
// page and the metrics agreeing with --status after a step of the wall clock.

#include "daemon/http_listener.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "cli/commands.h"
#include "cli/status_render.h"
#include "core/time_format.h"
#include "fakes/fake_clock.h"
#include "fakes/temp_dir.h"
#include "fakes/test_config.h"
#include "status/gather_status.h"
#include "store/store.h"

namespace broadcastd {
namespace {

using namespace std::chrono_literals;

TimePoint T(const char* text) { return *ParseRfc3339(text); }

bool HaveTool(const char* name) {
  return std::system((std::string("command -v ") + name + " >/dev/null 2>&1").c_str()) == 0;
}

std::string ReadAll(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class HttpListenerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir_ / "campaigns");
    config_ = TestConfig(dir_.path());
    config_.http_listen = "127.0.0.1:0";
    auto store = Store::Open(config_.database, Store::Mode::kReadWrite);
    ASSERT_TRUE(store.has_value()) << store.error().message;
    std::vector<Store::JobSpec> specs;
    for (int i = 0; i < 4; ++i) {
      Store::JobSpec spec;
      spec.broadcast = "b" + std::to_string(i);
      spec.occurrence = "once";
      spec.app = "main";
      spec.target = BroadcastTarget::kUsers;
      spec.body = "{}";
      spec.due = now_ + std::chrono::hours(i);
      specs.push_back(spec);
    }
    ASSERT_TRUE(store->ApplyCampaign({"a.yaml", "a", "h", "main", 0}, specs, now_, now_));
    ASSERT_TRUE(
        store->RejectCampaign("bad.yaml", "h2", "line 1: <script>alert(1)</script> & \"x\"", now_));
    auto jobs = store->Jobs();
    // The first is sent, the second's answer never came.
    auto sent = store->ClaimForSending((*jobs)[0].id, Instant(now_));
    Store::AttemptOutcome ok;
    ok.outcome = OutcomeClass::kSent;
    ok.http_status = 200;
    ok.broadcast_id = "1";
    ASSERT_TRUE(store->RecordOutcome((*jobs)[0].id, *sent, ok, Instant(now_ + 1s)));
    ASSERT_TRUE(store->PromoteDue(now_ + 1h));
    auto lost = store->ClaimForSending((*jobs)[1].id, Instant(now_ + 1h));
    Store::AttemptOutcome unknown;
    unknown.outcome = OutcomeClass::kUnknown;
    unknown.detail = "timed out <b>";
    ASSERT_TRUE(store->RecordOutcome((*jobs)[1].id, *lost, unknown, Instant(now_ + 1h + 30s)));
    unknown_id_ = (*jobs)[1].id;
  }

  std::unique_ptr<HttpListener> StartListener() {
    auto listener = HttpListener::Start(config_, clock_);
    EXPECT_TRUE(listener.has_value()) << listener.error().message;
    return listener ? std::move(*listener) : nullptr;
  }

  TempDir dir_;
  Config config_;
  const TimePoint now_ = T("2027-03-01T08:00:00Z");
  FakeClock clock_{now_ + 2h};
  int64_t unknown_id_ = 0;
};

TEST_F(HttpListenerTest, MetricsAreValidPrometheusTextWithTheQueuesFigures) {
  auto listener = StartListener();
  ASSERT_TRUE(listener);
  httplib::Client client("127.0.0.1", listener->port());
  auto res = client.Get("/metrics");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  const std::string& text = res->body;
  EXPECT_NE(text.find("broadcastd_attempts_total{app=\"main\",target=\"users\",class=\"sent\"} 1"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("class=\"unknown\"} 1"), std::string::npos);
  EXPECT_NE(text.find("broadcastd_jobs{state=\"unknown\"} 1"), std::string::npos);
  EXPECT_NE(text.find("broadcastd_jobs{state=\"scheduled\"} 2"), std::string::npos);
  EXPECT_NE(text.find("broadcastd_unknown_jobs 1"), std::string::npos);
  EXPECT_NE(text.find("broadcastd_campaign_files{status=\"rejected\"} 1"), std::string::npos);
  EXPECT_NE(text.find("broadcastd_daily_budget_used{app=\"main\",target=\"users\"} 2"),
            std::string::npos);
  EXPECT_NE(text.find("broadcastd_daily_budget_remaining{app=\"main\",target=\"users\"} 1"),
            std::string::npos);
  // The last request that sent ended at now_ + 1s.
  EXPECT_NE(text.find("broadcastd_last_successful_send_timestamp_seconds " +
                      std::to_string(ToMillis(now_ + 1s) / 1000)),
            std::string::npos);

  // Kept beside the page's screenshot as a CI artifact.
  const std::filesystem::path artifacts =
      std::filesystem::path(BROADCASTD_BINARY_DIR) / "artifacts";
  std::filesystem::create_directories(artifacts);
  std::ofstream(artifacts / "metrics.txt") << text;

  if (!HaveTool("promtool")) GTEST_SKIP() << "promtool (Debian package prometheus) not installed";
  const auto file = dir_.Write("metrics.txt", text);
  const std::string command = "promtool check metrics < " + file.string() + " > " +
                              (dir_ / "promtool.out").string() + " 2>&1";
  EXPECT_EQ(std::system(command.c_str()), 0) << ReadAll(dir_ / "promtool.out");
}

TEST_F(HttpListenerTest, ThePageEscapesFileContentsAndNamesTheResolveCommands) {
  auto listener = StartListener();
  ASSERT_TRUE(listener);
  httplib::Client client("127.0.0.1", listener->port());
  auto res = client.Get("/");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  const std::string& html = res->body;
  EXPECT_EQ(html.find("<script"), std::string::npos) << "file contents are escaped";
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot;"),
            std::string::npos);
  EXPECT_NE(html.find("broadcastd --resolve-not-sent " + std::to_string(unknown_id_)),
            std::string::npos);
  EXPECT_NE(html.find("<svg id=\"timeline\""), std::string::npos);
  EXPECT_EQ(html.find("src="), std::string::npos) << "no external assets";
}

TEST_F(HttpListenerTest, OversizedRequestsAndWritesAreRefused) {
  auto listener = StartListener();
  ASSERT_TRUE(listener);
  httplib::Client client("127.0.0.1", listener->port());
  auto long_uri = client.Get("/metrics?" + std::string(20000, 'x'));
  ASSERT_TRUE(long_uri);
  EXPECT_EQ(long_uri->status, 414);
  auto big_body = client.Post("/metrics", std::string(kHttpMaxHead * 4, 'x'), "text/plain");
  ASSERT_TRUE(big_body);
  EXPECT_GE(big_body->status, 400);
  auto write = client.Post("/", "x", "text/plain");
  ASSERT_TRUE(write);
  EXPECT_GE(write->status, 400);
  auto still = client.Get("/metrics");
  ASSERT_TRUE(still);
  EXPECT_EQ(still->status, 200);
}

TEST_F(HttpListenerTest, ANonLoopbackAddressNeedsTheExplicitKey) {
  config_.http_listen = "0.0.0.0:0";
  auto refused = HttpListener::Start(config_, clock_);
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.error().message.find("http_listen_public"), std::string::npos);

  for (const char* text : {"127.0.0.1:9464", "127.8.9.1:1", "[::1]:9464", "localhost:80"}) {
    auto a = ParseListenAddress(text);
    ASSERT_TRUE(a.has_value()) << text;
    EXPECT_TRUE(a->loopback) << text;
  }
  for (const char* text : {"0.0.0.0:9464", "192.0.2.7:9464", "[::]:9464"}) {
    auto a = ParseListenAddress(text);
    ASSERT_TRUE(a.has_value()) << text;
    EXPECT_FALSE(a->loopback) << text;
  }
  for (const char* text : {"9464", "127.0.0.1:", "127.0.0.1:70000", "::1:80", "example.com:80"}) {
    EXPECT_FALSE(ParseListenAddress(text).has_value()) << text;
  }

  config_.http_listen.reset();
  auto off = HttpListener::Start(config_, clock_);
  ASSERT_TRUE(off.has_value());
  EXPECT_EQ(off->get(), nullptr) << "off unless set";
}

// What --status --json says now, through the command itself with the listener's clock.
nlohmann::json StatusJson(const Config& config, const TempDir& dir, const Clock& clock) {
  const auto config_file =
      dir.Write("broadcastd.yaml", "database: " + config.database.string() +
                                       "\ncampaigns_dir: " + config.campaigns_dir.string() +
                                       "\napps:\n  main:\n    host: http://127.0.0.1:9\n"
                                       "    org: org\n    app: app\n    client_id: cid\n"
                                       "    token_file: main.token\n");
  std::ostringstream out, err;
  CommandContext ctx{config_file, clock, out, err};
  StatusOptions options;
  options.json = true;
  EXPECT_EQ(RunStatus(ctx, options), 0) << err.str();
  return nlohmann::json::parse(out.str(), nullptr, false);
}

// The value of the sample `name{labels}` in Prometheus text, or NaN.
double Sample(const std::string& text, const std::string& series) {
  const size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) return std::nan("");
  return std::stod(text.substr(at + series.size() + 2));
}

// A send on chatrooms whose window is still closed, then the wall clock steps forward
// and back: the page and /metrics tell what --status tells, because all three read the
// clocks once (wall and monotonic, with the boot id) and rebuild the windows on the
// monotonic part. A view that took the wall clock alone would place the attempt at its
// wall time and show the window open after the forward step.
TEST_F(HttpListenerTest, AfterAWallClockStepThePageAndMetricsAgreeWithStatus) {
  {
    auto store = Store::Open(config_.database, Store::Mode::kReadWrite);
    ASSERT_TRUE(store.has_value()) << store.error().message;
    store->set_boot_id(clock_.BootId());
    Store::JobSpec spec;
    spec.broadcast = "room";
    spec.occurrence = "once";
    spec.app = "main";
    spec.target = BroadcastTarget::kChatrooms;
    spec.body = "{}";
    spec.due = clock_.Now();
    ASSERT_TRUE(
        store->ApplyCampaign({"c.yaml", "c", "h3", "main", 0}, {spec}, clock_.Now(), clock_.Now()));
    ASSERT_TRUE(store->PromoteDue(clock_.Now()));
    const int64_t id = store->Jobs({.campaign_id = "c"}).value().at(0).id;
    auto attempt = store->ClaimForSending(id, clock_.Read());
    ASSERT_TRUE(attempt.has_value()) << attempt.error().message;
    Store::AttemptOutcome ok;
    ok.outcome = OutcomeClass::kSent;
    ok.http_status = 200;
    ok.broadcast_id = "2";
    ASSERT_TRUE(store->RecordOutcome(id, *attempt, ok, clock_.Read()));
  }
  auto listener = StartListener();
  ASSERT_TRUE(listener);
  httplib::Client client("127.0.0.1", listener->port());

  for (const Duration step : {Duration{2h}, Duration{-5h}}) {
    SCOPED_TRACE("step " + std::to_string(step.count()) + " ms");
    clock_.Step(step);
    auto metrics = client.Get("/metrics");
    auto page = client.Get("/");
    ASSERT_TRUE(metrics && page);
    ASSERT_EQ(metrics->status, 200);
    ASSERT_EQ(page->status, 200);
    const nlohmann::json status = StatusJson(config_, dir_, clock_);
    ASSERT_FALSE(status.is_discarded());
    const std::string now = status["now"].get<std::string>();
    EXPECT_EQ(now, FormatDisplayTime(clock_.Now()));
    EXPECT_NE(page->body.find("<time id=\"now\">" + now + "</time>"), std::string::npos);

    for (const auto& e : status["endpoints"]) {
      const std::string target = e["target"].get<std::string>();
      const std::string labels = "{app=\"main\",target=\"" + target + "\"}";
      const std::string next = e["next_send_allowed"].get<std::string>();
      const double wait = std::chrono::duration<double>(T(next.c_str()) - T(now.c_str())).count();
      if (target == "chatrooms") {
        EXPECT_GT(wait, 0) << "the window measured on the monotonic clock is still closed";
      }
      EXPECT_DOUBLE_EQ(Sample(metrics->body, "broadcastd_next_send_allowed_seconds" + labels), wait)
          << target;
      EXPECT_EQ(Sample(metrics->body, "broadcastd_daily_budget_used" + labels),
                static_cast<double>(e["used_today"].get<int>()))
          << target;

      const size_t row = page->body.find("data-endpoint=\"main/" + target + "\"><td>");
      ASSERT_NE(row, std::string::npos) << target;
      const std::string cells = page->body.substr(row, page->body.find("</tr>", row) - row);
      EXPECT_NE(
          cells.find("<td class=\"used\">" + std::to_string(e["used_today"].get<int>()) + "</td>"),
          std::string::npos)
          << cells;
      EXPECT_NE(cells.find(wait > 0 ? "next send " + next : std::string("open")), std::string::npos)
          << cells;
    }
  }
}

// A step back of the wall clock moves no attempt to another day. Three users broadcasts
// (the day's budget) go out just after midnight; the clock steps back two hours, so the
// daemon holds them on the day before; once the clock is past midnight again it sends the
// next three. Counting the first three by their stamps would count them on the second
// day too: "used 6/3". By their monotonic readings, the day holds the three sent in it.
TEST_F(HttpListenerTest, AfterAStepBackNoAttemptCountsOnTwoDays) {
  {
    auto store = Store::Open(config_.database, Store::Mode::kReadWrite);
    ASSERT_TRUE(store.has_value()) << store.error().message;
    store->set_boot_id(clock_.BootId());
    clock_.Set(T("2027-03-05T00:05:00Z"));
    std::vector<Store::JobSpec> specs;
    for (int i = 0; i < 6; ++i) {
      Store::JobSpec spec;
      spec.broadcast = "u" + std::to_string(i);
      spec.occurrence = "once";
      spec.app = "main";
      spec.target = BroadcastTarget::kUsers;
      spec.body = "{}";
      spec.due = clock_.Now();
      specs.push_back(spec);
    }
    ASSERT_TRUE(
        store->ApplyCampaign({"u.yaml", "u", "h4", "main", 0}, specs, clock_.Now(), clock_.Now()));
    ASSERT_TRUE(store->PromoteDue(clock_.Now()));
    const auto jobs = store->Jobs({.campaign_id = "u"}).value();
    ASSERT_EQ(jobs.size(), 6u);
    auto send = [&](int64_t id) {
      auto attempt = store->ClaimForSending(id, clock_.Read());
      ASSERT_TRUE(attempt.has_value()) << attempt.error().message;
      Store::AttemptOutcome ok;
      ok.outcome = OutcomeClass::kSent;
      ok.http_status = 200;
      ok.broadcast_id = std::to_string(id);
      ASSERT_TRUE(store->RecordOutcome(id, *attempt, ok, clock_.Read()));
      clock_.Advance(35min);
    };
    for (int i = 0; i < 3; ++i) send(jobs[i].id);
    clock_.Step(-2h);       // 2027-03-04T23:50
    clock_.Advance(20min);  // past midnight again: a new budget day on the wall clock
    for (int i = 3; i < 6; ++i) send(jobs[i].id);
  }
  auto listener = StartListener();
  ASSERT_TRUE(listener);
  const nlohmann::json status = StatusJson(config_, dir_, clock_);
  ASSERT_FALSE(status.is_discarded());
  for (const auto& e : status["endpoints"]) {
    if (e["target"] != "users") continue;
    EXPECT_EQ(e["used_today"].get<int>(), 3) << e.dump();
    EXPECT_EQ(e["left_today"].get<int>(), 0) << e.dump();
  }
  httplib::Client client("127.0.0.1", listener->port());
  auto page = client.Get("/");
  ASSERT_TRUE(page);
  const size_t row = page->body.find("data-endpoint=\"main/users\"><td>");
  ASSERT_NE(row, std::string::npos);
  EXPECT_NE(page->body.find("<td class=\"used\">3</td>", row), std::string::npos);
}

// Text as Chromium serializes it in --dump-dom: only &, < and > escaped.
std::string DomText(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '&') {
      out += "&amp;";
    } else if (c == '<') {
      out += "&lt;";
    } else if (c == '>') {
      out += "&gt;";
    } else {
      out += c;
    }
  }
  return out;
}

// The page as headless Chromium renders it, for the listener on `port`.
std::string ChromiumDom(const TempDir& dir, int port) {
  const auto dom = dir / "dom.html";
  const std::string command = "chromium --headless --no-sandbox --disable-gpu --user-data-dir=" +
                              (dir / "profile").string() +
                              " --dump-dom http://127.0.0.1:" + std::to_string(port) + "/ > " +
                              dom.string() + " 2>/dev/null";
  EXPECT_EQ(std::system(command.c_str()), 0);
  return ReadAll(dom);
}

// Every state and warning --status --json carries shows on the page as Chromium renders it:
// an app without a token (its endpoints "no token"), an endpoint paused with a reason, a
// day's budget spent, a file with problems, an unknown job, and each warning's text.
TEST_F(HttpListenerTest, ChromiumShowsEveryStateAndWarningOfStatusJson) {
  if (!HaveTool("chromium")) GTEST_SKIP() << "chromium not installed";
  {
    auto store = Store::Open(config_.database, Store::Mode::kReadWrite);
    ASSERT_TRUE(store.has_value()) << store.error().message;
    ASSERT_TRUE(store->SetAppNotice({"main", "token", "401 <invalid_client> & more", now_}));
    ASSERT_TRUE(store->Pause("main", BroadcastTarget::kChatrooms, "403 unopened \"rooms\"", now_));
    // The users endpoint's third request today: its budget (3) is spent.
    ASSERT_TRUE(store->PromoteDue(now_ + 2h));
    const auto jobs = store->Jobs({.campaign_id = "a"}).value();
    auto attempt = store->ClaimForSending(jobs.at(2).id, Instant(now_ + 2h));
    ASSERT_TRUE(attempt.has_value()) << attempt.error().message;
    Store::AttemptOutcome ok;
    ok.outcome = OutcomeClass::kSent;
    ok.http_status = 200;
    ok.broadcast_id = "3";
    ASSERT_TRUE(store->RecordOutcome(jobs.at(2).id, *attempt, ok, Instant(now_ + 2h)));
  }
  auto listener = StartListener();
  ASSERT_TRUE(listener);
  const std::string html = ChromiumDom(dir_, listener->port());
  const nlohmann::json status = StatusJson(config_, dir_, clock_);
  ASSERT_FALSE(status.is_discarded());

  bool paused = false, no_token = false, spent = false;
  for (const auto& e : status["endpoints"]) {
    const std::string name = e["app"].get<std::string>() + "/" + e["target"].get<std::string>();
    const size_t row = html.find("data-endpoint=\"" + name + "\"><td>");
    ASSERT_NE(row, std::string::npos) << name << "\n" << html;
    const std::string cells = html.substr(row, html.find("</tr>", row) - row);
    if (e["paused"].get<bool>()) {
      paused = true;
      EXPECT_NE(cells.find("data-state=\"paused\">paused: " +
                           DomText(e["pause_reason"].get<std::string>())),
                std::string::npos)
          << cells;
    } else if (!e["no_token"].is_null()) {
      no_token = true;
      EXPECT_NE(cells.find("data-state=\"no_token\">no token: " +
                           DomText(e["no_token"].get<std::string>())),
                std::string::npos)
          << cells;
    } else {
      EXPECT_NE(cells.find("data-state=\"active\""), std::string::npos) << cells;
    }
    const bool budget_spent = e["left_today"].get<int>() == 0;
    spent = spent || budget_spent;
    EXPECT_EQ(cells.find("data-state=\"budget_spent\"") != std::string::npos, budget_spent)
        << cells;
  }
  EXPECT_TRUE(paused && no_token && spent) << "each state was set up";

  ASSERT_FALSE(status["warnings"].empty());
  const size_t list = html.find("<ul id=\"warnings\">");
  ASSERT_NE(list, std::string::npos) << html;
  for (const auto& w : status["warnings"]) {
    EXPECT_NE(html.find("<li class=\"bad\">" + DomText(w.get<std::string>()) + "</li>", list),
              std::string::npos)
        << w;
  }
  for (const auto& c : status["campaign_problems"]) {
    EXPECT_NE(html.find("data-file=\"" + c["file"].get<std::string>() + "\""), std::string::npos);
  }
  ASSERT_GT(status["unknown_jobs"].get<int64_t>(), 0);
  for (const auto& j : status["jobs"]) {
    if (j["state"] == "unknown") {
      EXPECT_NE(html.find("data-job=\"" + std::to_string(j["id"].get<int64_t>()) + "\""),
                std::string::npos);
    }
  }
}

// The page as a browser shows it agrees with --status --json for the same database; the
// screenshot is kept under the build folder (a CI artifact).
TEST_F(HttpListenerTest, ChromiumShowsWhatStatusJsonSays) {
  if (!HaveTool("chromium")) GTEST_SKIP() << "chromium not installed";
  auto listener = StartListener();
  ASSERT_TRUE(listener);
  const std::string url = "http://127.0.0.1:" + std::to_string(listener->port()) + "/";
  const auto dom = dir_ / "dom.html";
  const std::string flags = "chromium --headless --no-sandbox --disable-gpu --user-data-dir=" +
                            (dir_ / "profile").string() + " ";
  ASSERT_EQ(
      std::system((flags + "--dump-dom " + url + " > " + dom.string() + " 2>/dev/null").c_str()),
      0);
  const std::string html = ReadAll(dom);

  auto store = Store::Open(config_.database, Store::Mode::kReadOnly);
  ASSERT_TRUE(store.has_value());
  auto report = GatherStatus(config_, *store, clock_.Read(), {}, clock_.BootId());
  ASSERT_TRUE(report.has_value());
  nlohmann::json status = RenderStatusJson(*report);
  for (const auto& e : status["endpoints"]) {
    const std::string name = e["app"].get<std::string>() + "/" + e["target"].get<std::string>();
    size_t row = html.find("data-endpoint=\"" + name + "\"><td>");
    ASSERT_NE(row, std::string::npos) << name << "\n" << html;
    const std::string tail = html.substr(row, html.find("</tr>", row) - row);
    EXPECT_NE(tail.find("<td class=\"left\">" + std::to_string(e["left_today"].get<int>())),
              std::string::npos)
        << tail;
    EXPECT_NE(tail.find("<td class=\"queued\">" + std::to_string(e["queued"].get<int>())),
              std::string::npos)
        << tail;
  }
  for (const auto& j : status["jobs"]) {
    if (j["state"] == "unknown") {
      EXPECT_NE(html.find("data-job=\"" + std::to_string(j["id"].get<int64_t>()) + "\""),
                std::string::npos);
    }
  }
  for (const auto& c : status["campaigns"]) {
    if (c["status"] != "ok" && c["status"] != "removed") {
      EXPECT_NE(html.find("data-file=\"" + c["file"].get<std::string>() + "\""), std::string::npos);
    }
  }
  EXPECT_NE(html.find("unknown <b>" + std::to_string(status["unknown_jobs"].get<int64_t>())),
            std::string::npos);

  const std::filesystem::path shot =
      std::filesystem::path(BROADCASTD_BINARY_DIR) / "artifacts" / "status-page.png";
  std::filesystem::create_directories(shot.parent_path());
  std::filesystem::remove(shot);
  ASSERT_EQ(std::system((flags + "--hide-scrollbars --window-size=1100,900 --screenshot=" +
                         shot.string() + " " + url + " >/dev/null 2>&1")
                            .c_str()),
            0);
  EXPECT_GT(std::filesystem::file_size(shot), 10000u);
}

}  // namespace
}  // namespace broadcastd
