// Guards of the drop folder against a broadcast nobody intended, end to end: the real
// broadcastd binary and the real simulator. A file still open in its writer is never
// read, however long the writer pauses; a file that appears without a writer (a hard
// link) is read at once; a directory with a campaign's name is shown refused at once; a
// folder that goes away is not taken as every campaign removed.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>

#include "core/unique_fd.h"
#include "e2e/folder_fixture.h"

namespace broadcastd {
namespace {

namespace fs = std::filesystem;

class WriteGuardE2ETest : public FolderE2ETest {
 protected:
  // Drops another campaign into the folder and waits for the scan that accepts it: a
  // scan of the daemon's, after this moment, that looked at every file.
  void ScanAfterNow(int i) {
    const std::string name = "other-" + std::to_string(i) + ".yaml";
    dir_.Write("campaigns/" + name, RoomCampaign("other-" + std::to_string(i), "meanwhile"));
    ASSERT_TRUE(WaitFor([&] { return LogHas("campaign.accepted file=" + name); }, 10s)) << Log();
  }
};

// Issue 18, case 1: the writer writes all but the last line (which puts the broadcast
// in 2099), flushes, and pauses well past the settle time (2 s) while the daemon scans
// the folder again and again. Nothing is read before the close; afterwards the job is
// scheduled from the whole file.
TEST_F(WriteGuardE2ETest, WriterPausingPastTheSettleTimeIsWaitedForUntilItCloses) {
  auto daemon = StartDaemon();
  WaitReady();

  UniqueFd writer(
      ::open((Campaigns() / "promo.yaml").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  ASSERT_TRUE(writer);
  auto put = [&](std::string_view text) {
    ASSERT_EQ(::write(writer.get(), text.data(), text.size()), static_cast<ssize_t>(text.size()));
  };
  put("id: promo\nbroadcasts:\n  - name: later\n    target: users\n"
      "    message: {type: txt, msg: \"half written\"}\n");
  ASSERT_EQ(::fsync(writer.get()), 0);
  const auto paused = std::chrono::steady_clock::now();

  // The pause: scans of the daemon's, until two settle times have passed since the
  // last write and one more scan after that (each scan looks at promo.yaml too).
  int i = 0;
  while (std::chrono::steady_clock::now() - paused < 4s) {
    ScanAfterNow(i++);
    std::this_thread::sleep_for(500ms);  // pacing of the other files, not a proof
  }
  ScanAfterNow(i++);
  EXPECT_FALSE(LogHas("file=promo.yaml id=")) << Log();
  EXPECT_EQ(Posted("half written"), 0u) << Log();
  ASSERT_TRUE(WaitFor([&] { return Posted("meanwhile") >= 1; }, 20s)) << Log();
  EXPECT_EQ(Posted("half written"), 0u) << Log();

  put("    send_at: \"2099-01-01T00:00:00Z\"\n");
  writer.reset();  // IN_CLOSE_WRITE: read at once, whole
  ASSERT_TRUE(WaitFor([&] { return LogHas("campaign.accepted file=promo.yaml"); }, 10s)) << Log();
  ASSERT_TRUE(WaitFor([&] { return JobStates()["scheduled"] == 1; }, 10s)) << Status().dump(1);
  bool scheduled_2099 = false;
  for (const auto& job : AllJobs()) {
    if (job.value("campaign", std::string()) == "promo") {
      scheduled_2099 = job.value("state", std::string()) == "scheduled" &&
                       job.dump().find("2099-01-01") != std::string::npos;
    }
  }
  EXPECT_TRUE(scheduled_2099) << AllJobs().dump(1);
  StopDaemon(*daemon);
  EXPECT_EQ(Posted("half written"), 0u);
}

// A file that appears without a writer, as a hard link made in the folder: read at
// once, not at the periodic rescan a minute later.
TEST_F(WriteGuardE2ETest, HardLinkIntoTheFolderIsReadAtOnce) {
  auto daemon = StartDaemon();
  WaitReady();
  fs::path outside = dir_.Write("outside.yaml", RoomCampaign("linked", "linked in"));
  ::chmod(outside.c_str(), 0644);
  ASSERT_EQ(::link(outside.c_str(), (Campaigns() / "linked.yaml").c_str()), 0);
  ASSERT_TRUE(WaitFor([&] { return Posted("linked in") == 1; }, 15s)) << Log();
  StopDaemon(*daemon);
}

// A directory with a campaign's name: shown refused at once, by the log and --status.
TEST_F(WriteGuardE2ETest, DirectoryWithACampaignNameIsShownRefusedAtOnce) {
  auto daemon = StartDaemon();
  WaitReady();
  ASSERT_TRUE(fs::create_directory(Campaigns() / "folder.yaml"));
  ASSERT_TRUE(WaitFor([&] { return LogHas("campaign.refused file=folder.yaml"); }, 15s)) << Log();
  bool shown = false;
  for (const auto& c : Status().value("campaign_problems", nlohmann::json::array())) {
    shown = shown || (c.value("file", std::string()) == "folder.yaml" &&
                      c.dump().find("is a directory") != std::string::npos);
  }
  EXPECT_TRUE(shown) << Status().dump(1);
  StopDaemon(*daemon);
}

// Issue 18, case 6: the folder is moved away and an empty one put in its place (as an
// unmount leaves the mount point). No job is cancelled; the folder is shown unavailable;
// put back, nothing changed and nothing was sent.
TEST_F(WriteGuardE2ETest, FolderReplacedByAnEmptyOneCancelsNothing) {
  for (const char* id : {"a", "b", "c"}) {
    dir_.Write(std::string("campaigns/") + id + ".yaml",
               std::string("id: ") + id +
                   "\nbroadcasts:\n  - name: later\n    target: users\n"
                   "    send_at: \"2099-01-01T00:00:00Z\"\n"
                   "    message: {type: txt, msg: \"later\"}\n");
  }
  auto daemon = StartDaemon();
  WaitReady();
  ASSERT_TRUE(WaitFor([&] { return JobStates()["scheduled"] == 3; }, 20s)) << Log();

  fs::rename(Campaigns(), dir_ / "away");
  fs::create_directory(Campaigns());
  ::chmod(Campaigns().c_str(), 0755);
  dir_.Write("away/notes.txt", "a scan");  // the watched folder, now elsewhere: a scan
  ASSERT_TRUE(WaitFor([&] { return LogHas("campaigns.unavailable") || LogHas("removed="); }, 20s))
      << Log();
  EXPECT_FALSE(LogHas("campaign.removed")) << Log();
  EXPECT_EQ(JobStates()["cancelled"], 0) << Log();
  EXPECT_EQ(JobStates()["scheduled"], 3);
  const nlohmann::json status = Status();
  size_t held = 0;
  for (const auto& c : status.value("campaigns", nlohmann::json::array())) {
    held += c.dump().find("campaigns_dir unavailable") != std::string::npos;
  }
  EXPECT_EQ(held, 3u) << status.dump(1);

  // Put back: the same files, nothing to do.
  fs::remove(Campaigns());
  fs::rename(dir_ / "away", Campaigns());
  dir_.Write("campaigns/notes.txt", "another scan");
  ASSERT_TRUE(WaitFor([&] { return LogHas("campaigns.available"); }, 20s)) << Log();
  ASSERT_TRUE(WaitFor(
      [&] {
        const nlohmann::json now = Status();
        return now.contains("campaign_problems") && now["campaign_problems"].empty();
      },
      20s))
      << Status().dump(1);
  EXPECT_EQ(JobStates()["scheduled"], 3);
  EXPECT_EQ(JobStates()["cancelled"], 0);
  EXPECT_FALSE(LogHas("campaign.removed")) << Log();
  StopDaemon(*daemon);
  EXPECT_TRUE(Broadcasts().empty());
}

// The operator takes the empty folder as it is: the marker touched after the hold began.
TEST_F(WriteGuardE2ETest, EmptyFolderIsTakenOnceAnOperatorConfirmsIt) {
  for (const char* id : {"a", "b"}) {
    dir_.Write(std::string("campaigns/") + id + ".yaml",
               std::string("id: ") + id +
                   "\nbroadcasts:\n  - name: later\n    target: users\n"
                   "    send_at: \"2099-01-01T00:00:00Z\"\n"
                   "    message: {type: txt, msg: \"later\"}\n");
  }
  auto daemon = StartDaemon();
  WaitReady();
  ASSERT_TRUE(WaitFor([&] { return JobStates()["scheduled"] == 2; }, 20s)) << Log();
  fs::rename(Campaigns(), dir_ / "away");
  fs::create_directory(Campaigns());
  ::chmod(Campaigns().c_str(), 0755);
  dir_.Write("away/notes.txt", "a scan");
  ASSERT_TRUE(WaitFor([&] { return LogHas("campaigns.unavailable"); }, 20s)) << Log();
  EXPECT_EQ(JobStates()["cancelled"], 0);

  dir_.Write("campaigns/.broadcastd-confirm", "");
  dir_.Write("away/notes.txt", "another scan");
  ASSERT_TRUE(WaitFor([&] { return LogHas("campaigns.confirmed"); }, 20s)) << Log();
  ASSERT_TRUE(WaitFor([&] { return JobStates()["cancelled"] == 2; }, 20s)) << Log();
  StopDaemon(*daemon);
}

}  // namespace
}  // namespace broadcastd
