// The status page shows the sender lease as --status --json tells it (PostgreSQL: a lease
// held by another host), rendered from a report built here.

#include "web/status_page.h"

#include <gtest/gtest.h>

#include "cli/status_render.h"
#include "core/time_format.h"

namespace broadcastd {
namespace {

TEST(StatusPageTest, ALeaseHeldElsewhereShowsAsStatusJsonSays) {
  StatusReport report;
  const TimePoint now = *ParseRfc3339("2027-03-01T08:00:00Z");
  report.now = Instant(now);
  Store::LeaseStatus lease;
  lease.holder = "host-b";
  lease.epoch = 7;
  lease.since = now - std::chrono::minutes(5);
  lease.expires = now + std::chrono::seconds(20);
  lease.db_now = now;
  lease.nodes = {{"host-a", now - std::chrono::seconds(1)}, {"host-b", now}};
  report.lease = lease;
  const nlohmann::json status = RenderStatusJson(report);
  const std::string html = RenderStatusPage(report, {});

  const std::string holder = status["sender_lease"]["holder"].get<std::string>();
  EXPECT_NE(html.find("<p id=\"lease\" data-holder=\"" + holder + "\">"), std::string::npos)
      << html;
  EXPECT_NE(html.find("epoch " + std::to_string(status["sender_lease"]["epoch"].get<int64_t>())),
            std::string::npos);
  EXPECT_NE(html.find(status["sender_lease"]["expires"].get<std::string>()), std::string::npos);
  for (const auto& n : status["sender_lease"]["nodes"]) {
    const std::string node = n["node"].get<std::string>();
    EXPECT_NE(
        html.find("data-node=\"" + node + "\">" + node + " (" + n["role"].get<std::string>() + ")"),
        std::string::npos)
        << html;
  }

  // Expired: no holder, as the JSON's null.
  report.lease->expires = now - std::chrono::seconds(1);
  EXPECT_TRUE(RenderStatusJson(report)["sender_lease"]["holder"].is_null());
  EXPECT_NE(RenderStatusPage(report, {}).find("data-holder=\"\">Sender: none: the lease of host-b"),
            std::string::npos);
}

}  // namespace
}  // namespace broadcastd
