#include "ingest/job_planner.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/time_format.h"

namespace broadcastd {
namespace {

TimePoint T(const char* text) {
  auto t = ParseRfc3339(text);
  EXPECT_TRUE(t.has_value()) << text;
  return *t;
}

Broadcast Txt(std::string name, BroadcastTarget target) {
  Broadcast b;
  b.name = std::move(name);
  b.target = target;
  b.message = {{"type", "txt"}, {"msg", "hello"}};
  return b;
}

TEST(PlanJobs, OnceJobTakesSendAtOrTheDefault) {
  Campaign c;
  c.id = "c";
  c.priority = 7;
  Broadcast at = Txt("at", BroadcastTarget::kUsers);
  at.send_at = T("2027-03-01T09:00:00+08:00");
  at.expires_at = T("2027-03-01T12:00:00+08:00");
  c.broadcasts = {at, Txt("asap", BroadcastTarget::kChatrooms)};

  const TimePoint now = T("2027-02-01T00:00:00Z");
  const TimePoint mtime = T("2027-01-31T23:00:00Z");
  auto plan = PlanJobs(c, "main", mtime, std::nullopt, now, {}, now + std::chrono::hours(48), 100);
  ASSERT_TRUE(plan.has_value()) << plan.error().message;
  ASSERT_EQ(plan->jobs.size(), 2u);

  const auto& first = plan->jobs[0];
  EXPECT_EQ(first.broadcast, "at");
  EXPECT_EQ(first.occurrence, "once");
  EXPECT_EQ(first.app, "main");
  EXPECT_EQ(first.priority, 7);
  EXPECT_EQ(first.target, BroadcastTarget::kUsers);
  EXPECT_EQ(first.due, T("2027-03-01T01:00:00Z"));  // beyond the horizon: once-jobs always exist
  ASSERT_TRUE(first.expires.has_value());
  EXPECT_EQ(*first.expires, T("2027-03-01T04:00:00Z"));
  auto body = nlohmann::json::parse(first.body);
  EXPECT_EQ(body["target_type"], "users");
  EXPECT_EQ(body["msg"]["msg"], "hello");

  EXPECT_EQ(plan->jobs[1].due, mtime);
  EXPECT_FALSE(plan->jobs[1].expires.has_value());
  EXPECT_FALSE(nlohmann::json::parse(plan->jobs[1].body).contains("target_type"));
}

TEST(PlanJobs, RepeatBecomesOccurrencesWithinTheHorizonEachExpiringAtTheNext) {
  Campaign c;
  c.id = "nightly";
  Broadcast b = Txt("promo", BroadcastTarget::kChatrooms);
  b.repeat = Repeat{"0 20 * * *", "Asia/Shanghai", T("2027-03-04T23:59:59+08:00")};
  c.broadcasts = {b};

  const TimePoint now = T("2027-03-01T13:00:00Z");  // 21:00 in Shanghai: today's has passed
  auto plan = PlanJobs(c, "main", now, std::nullopt, now, {}, now + std::chrono::hours(48), 100);
  ASSERT_TRUE(plan.has_value()) << plan.error().message;
  ASSERT_EQ(plan->jobs.size(), 2u);  // 2 and 3 March, 20:00 +08:00
  EXPECT_EQ(plan->jobs[0].due, T("2027-03-02T12:00:00Z"));
  EXPECT_EQ(plan->jobs[0].occurrence, "2027-03-02T12:00:00Z");
  EXPECT_EQ(*plan->jobs[0].expires, T("2027-03-03T12:00:00Z"));
  EXPECT_EQ(plan->jobs[1].due, T("2027-03-03T12:00:00Z"));
  EXPECT_EQ(plan->covered_from, now);

  // Further ahead, `until` stops the series after 4 March.
  auto later =
      PlanJobs(c, "main", now, std::nullopt, now, {}, now + std::chrono::hours(24 * 10), 100);
  ASSERT_TRUE(later.has_value());
  ASSERT_EQ(later->jobs.size(), 3u);
  EXPECT_EQ(later->jobs.back().due, T("2027-03-04T12:00:00Z"));
}

TEST(PlanJobs, RepeatRespectsSendAtCapAndEarlierPendingOccurrences) {
  Campaign c;
  c.id = "every-minute";
  Broadcast b = Txt("tick", BroadcastTarget::kChatrooms);
  b.repeat = Repeat{"* * * * *", "UTC", std::nullopt};
  b.send_at = T("2027-03-01T00:10:00Z");
  c.broadcasts = {b};

  const TimePoint now = T("2027-03-01T00:00:00Z");
  auto plan = PlanJobs(c, "main", now, std::nullopt, now, {}, now + std::chrono::hours(48), 5);
  ASSERT_TRUE(plan.has_value());
  ASSERT_EQ(plan->jobs.size(), 5u);
  EXPECT_EQ(plan->jobs.front().due, T("2027-03-01T00:10:00Z"));
  EXPECT_EQ(plan->jobs.back().due, T("2027-03-01T00:14:00Z"));

  // A pending occurrence from before `now` is described again (so it is updated,
  // not cancelled), and the plan says it covers from there.
  const TimePoint later = T("2027-03-01T01:00:00Z");
  std::map<std::string, TimePoint> pending{{"tick", T("2027-03-01T00:58:00Z")}};
  auto again = PlanJobs(c, "main", later, std::nullopt, later, pending,
                        later + std::chrono::minutes(1), 100);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->covered_from, T("2027-03-01T00:58:00Z"));
  ASSERT_EQ(again->jobs.size(), 4u);  // 00:58, 00:59, 01:00, 01:01
  EXPECT_EQ(again->jobs.front().due, T("2027-03-01T00:58:00Z"));
}

// The lateness guard: a one-shot job expires at the earlier of its expires_at and due +
// max_delay (the broadcast's own, else the config's).
TEST(PlanJobs, OnceJobExpiresAtDuePlusMaxDelay) {
  Campaign c;
  c.id = "c";
  Broadcast at = Txt("at", BroadcastTarget::kUsers);
  at.send_at = T("2027-03-01T00:00:00Z");
  Broadcast asap = Txt("asap", BroadcastTarget::kUsers);
  c.broadcasts = {at, asap};

  const TimePoint now = T("2027-02-01T00:00:00Z");
  const TimePoint mtime = T("2027-01-31T23:00:00Z");
  auto plan = PlanJobs(c, "main", mtime, std::chrono::hours(24), now, {}, now, 100);
  ASSERT_TRUE(plan.has_value()) << plan.error().message;
  ASSERT_EQ(plan->jobs.size(), 2u);
  EXPECT_EQ(plan->jobs[0].expires, T("2027-03-02T00:00:00Z"));
  // Without send_at, due is when the file was written: the guard counts from there.
  EXPECT_EQ(plan->jobs[1].due, mtime);
  EXPECT_EQ(plan->jobs[1].expires, T("2027-02-01T23:00:00Z"));
}

TEST(PlanJobs, TheEarlierOfExpiresAtAndTheGuardIsTheDeadline) {
  Campaign c;
  c.id = "c";
  Broadcast soon = Txt("soon", BroadcastTarget::kUsers);
  soon.send_at = T("2027-03-01T00:00:00Z");
  soon.expires_at = T("2027-03-01T03:00:00Z");  // before send_at + 24h
  Broadcast late = Txt("late", BroadcastTarget::kUsers);
  late.send_at = T("2027-03-01T00:00:00Z");
  late.expires_at = T("2027-03-05T00:00:00Z");  // after send_at + 24h
  c.broadcasts = {soon, late};

  const TimePoint now = T("2027-02-01T00:00:00Z");
  auto plan = PlanJobs(c, "main", now, std::chrono::hours(24), now, {}, now, 100);
  ASSERT_TRUE(plan.has_value()) << plan.error().message;
  ASSERT_EQ(plan->jobs.size(), 2u);
  EXPECT_EQ(plan->jobs[0].expires, T("2027-03-01T03:00:00Z"));
  EXPECT_EQ(plan->jobs[1].expires, T("2027-03-02T00:00:00Z"));

  // No guard in the config: expires_at alone, as before max_delay existed.
  auto unguarded = PlanJobs(c, "main", now, std::nullopt, now, {}, now, 100);
  ASSERT_TRUE(unguarded.has_value());
  EXPECT_EQ(unguarded->jobs[1].expires, T("2027-03-05T00:00:00Z"));
}

TEST(PlanJobs, ABroadcastsOwnMaxDelayWinsOverTheConfigs) {
  Campaign c;
  c.id = "c";
  Broadcast never = Txt("never-late", BroadcastTarget::kUsers);
  never.send_at = T("2027-03-01T00:00:00Z");
  never.max_delay = MaxDelay{std::nullopt};  // max_delay: none
  Broadcast tight = Txt("tight", BroadcastTarget::kUsers);
  tight.send_at = T("2027-03-01T00:00:00Z");
  tight.max_delay = MaxDelay{std::chrono::minutes(90)};
  Broadcast both = Txt("both", BroadcastTarget::kUsers);
  both.send_at = T("2027-03-01T00:00:00Z");
  both.expires_at = T("2027-03-01T12:00:00Z");
  both.max_delay = MaxDelay{std::nullopt};  // none: expires_at still holds
  c.broadcasts = {never, tight, both};

  const TimePoint now = T("2027-02-01T00:00:00Z");
  auto plan = PlanJobs(c, "main", now, std::chrono::hours(24), now, {}, now, 100);
  ASSERT_TRUE(plan.has_value()) << plan.error().message;
  ASSERT_EQ(plan->jobs.size(), 3u);
  EXPECT_FALSE(plan->jobs[0].expires.has_value());
  EXPECT_EQ(plan->jobs[1].expires, T("2027-03-01T01:30:00Z"));
  EXPECT_EQ(plan->jobs[2].expires, T("2027-03-01T12:00:00Z"));

  // The config's none gives way to a broadcast's own limit too.
  auto config_none = PlanJobs(c, "main", now, std::nullopt, now, {}, now, 100);
  ASSERT_TRUE(config_none.has_value());
  EXPECT_EQ(config_none->jobs[1].expires, T("2027-03-01T01:30:00Z"));
}

// A stale send_at: the job's deadline is already past when it is planned, so the
// scheduler expires it instead of sending it.
TEST(PlanJobs, ASendAtTwoDaysAgoIsPlannedAlreadyExpired) {
  Campaign c;
  c.id = "c";
  Broadcast stale = Txt("stale", BroadcastTarget::kUsers);
  const TimePoint now = T("2027-03-03T00:00:00Z");
  stale.send_at = now - std::chrono::hours(48);
  Broadcast recent = Txt("recent", BroadcastTarget::kUsers);
  recent.send_at = now - std::chrono::hours(1);
  c.broadcasts = {stale, recent};

  auto plan = PlanJobs(c, "main", now, std::chrono::hours(24), now, {}, now, 100);
  ASSERT_TRUE(plan.has_value()) << plan.error().message;
  ASSERT_EQ(plan->jobs.size(), 2u);
  ASSERT_TRUE(plan->jobs[0].expires.has_value());
  EXPECT_LE(*plan->jobs[0].expires, now);
  EXPECT_EQ(*plan->jobs[0].expires, now - std::chrono::hours(24));
  ASSERT_TRUE(plan->jobs[1].expires.has_value());
  EXPECT_GT(*plan->jobs[1].expires, now);
}

// Repeating broadcasts keep their rule whatever the config's max_delay: an occurrence
// expires when the next one is due.
TEST(PlanJobs, RepeatOccurrencesIgnoreTheConfigsMaxDelay) {
  Campaign c;
  c.id = "nightly";
  Broadcast b = Txt("promo", BroadcastTarget::kChatrooms);
  b.repeat = Repeat{"0 20 * * *", "Asia/Shanghai", std::nullopt};
  c.broadcasts = {b};

  const TimePoint now = T("2027-03-01T13:00:00Z");
  auto plan =
      PlanJobs(c, "main", now, std::chrono::minutes(1), now, {}, now + std::chrono::hours(48), 100);
  ASSERT_TRUE(plan.has_value()) << plan.error().message;
  ASSERT_EQ(plan->jobs.size(), 2u);
  EXPECT_EQ(plan->jobs[0].expires, T("2027-03-03T12:00:00Z"));
}

}  // namespace
}  // namespace broadcastd
