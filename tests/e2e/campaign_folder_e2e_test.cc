// The drop folder, end to end: the real broadcastd binary and the real
// simulator. Only complete, trusted files are read; nothing blocks on a file;
// names and YAML keys cannot write log lines of their own. The simulator's
// request log is what proves what was POSTed.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/unique_fd.h"
#include "e2e/folder_fixture.h"

namespace broadcastd {
namespace {

namespace fs = std::filesystem;

class CampaignFolderE2ETest : public FolderE2ETest {};

// Case 3: a writer holds the file open with all but its last line written (the
// line that puts it in 2099). Rescans come and go; nothing is sent. Once the
// line is written and the file closed, the job is scheduled, not sent.
TEST_F(CampaignFolderE2ETest, HalfWrittenFileIsNeverReadUntilItsWriterIsDone) {
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

  // A slow writer: a line now and then (the file keeps changing), while other
  // files come and go in the folder, each event a rescan.
  const auto until = std::chrono::steady_clock::now() + 4s;
  auto last_write = std::chrono::steady_clock::now();
  std::chrono::steady_clock::duration longest_pause{};
  for (int i = 0; std::chrono::steady_clock::now() < until; ++i) {
    put("    # line " + std::to_string(i) + "\n");
    const auto wrote = std::chrono::steady_clock::now();
    longest_pause = std::max(longest_pause, wrote - last_write);
    last_write = wrote;
    dir_.Write("campaigns/notes.txt", std::to_string(i));
    if (i == 0) dir_.Write("campaigns/other.yaml", RoomCampaign("other", "meanwhile"));
    std::this_thread::sleep_for(300ms);
  }
  ASSERT_TRUE(WaitFor([&] { return Posted("meanwhile") == 1; }, 20s)) << Log();
  put("    send_at: \"2099-01-01T00:00:00Z\"\n");
  longest_pause = std::max(longest_pause, std::chrono::steady_clock::now() - last_write);
  // The premise: the writer never paused for the settle time (2 s). A machine that
  // stalled this process that long made the file look settled, and reading it was right.
  if (longest_pause >= 2s) {
    GTEST_SKIP() << "the writer was stalled for "
                 << std::chrono::duration_cast<std::chrono::milliseconds>(longest_pause).count()
                 << " ms: the file looked settled";
  }
  EXPECT_EQ(Posted("half written"), 0u) << Log();
  writer.reset();  // IN_CLOSE_WRITE: read at once
  ASSERT_TRUE(WaitFor([&] { return LogHas("campaign.accepted file=promo.yaml"); }, 10s)) << Log();
  ASSERT_TRUE(WaitFor([&] { return JobStates()["scheduled"] == 1; }, 10s)) << Status().dump(1);
  EXPECT_EQ(Posted("half written"), 0u);
  StopDaemon(*daemon);
  EXPECT_EQ(Posted("half written"), 0u);
}

// A writer that stops writing but does not close: the file is not read, however long it
// has been still (issue 18); its close has it read at once, not at the 60 s rescan.
TEST_F(CampaignFolderE2ETest, FileLeftOpenIsReadAtItsCloseNotOnceStill) {
  auto daemon = StartDaemon();
  WaitReady();
  UniqueFd writer(
      ::open((Campaigns() / "open.yaml").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  ASSERT_TRUE(writer);
  const std::string text = RoomCampaign("left-open", "left open");
  ASSERT_EQ(::write(writer.get(), text.data(), text.size()), static_cast<ssize_t>(text.size()));
  // Scans of the daemon's past the settle time (2 s) since the write.
  const auto written = std::chrono::steady_clock::now();
  for (int i = 0; i == 0 || std::chrono::steady_clock::now() - written < 3s; ++i) {
    const std::string name = "note-" + std::to_string(i) + ".yaml";
    dir_.Write("campaigns/" + name, RoomCampaign("note-" + std::to_string(i), "note"));
    ASSERT_TRUE(WaitFor([&] { return LogHas("campaign.accepted file=" + name); }, 10s)) << Log();
    std::this_thread::sleep_for(500ms);  // pacing of the other files, not a proof
  }
  EXPECT_FALSE(LogHas("file=open.yaml id=")) << Log();
  EXPECT_EQ(Posted("left open"), 0u);

  writer.reset();
  ASSERT_TRUE(WaitFor([&] { return Posted("left open") == 1; }, 15s)) << Log();
  StopDaemon(*daemon);
}

// Case 4: a FIFO in the folder or on the command line blocks neither --check
// nor the daemon.
TEST_F(CampaignFolderE2ETest, FifoBlocksNeitherCheckNorTheDaemon) {
  ASSERT_EQ(::mkfifo((Campaigns() / "pipe.yaml").c_str(), 0644), 0);
  dir_.Write("campaigns/first.yaml", RoomCampaign("first", "first one"));
  const std::string config = (dir_ / "broadcastd.yaml").string();

  // A command blocked on the FIFO would not exit: RunCommand gives up on it after its
  // limit and reports exit code -1, which the checks below refuse.
  auto folder = RunCommand({kBinary, "--check", "--config", config}, dir_.path());
  EXPECT_EQ(folder.exit_code, 1) << folder.output;
  EXPECT_NE(folder.output.find("pipe.yaml: refused: is a FIFO"), std::string::npos)
      << folder.output;
  EXPECT_NE(folder.output.find("first.yaml: ok"), std::string::npos) << folder.output;

  auto named = RunCommand(
      {kBinary, "--check", "--config", config, (Campaigns() / "pipe.yaml").string()}, dir_.path());
  EXPECT_EQ(named.exit_code, 1) << named.output;
  EXPECT_NE(named.output.find("pipe.yaml: refused: is a FIFO"), std::string::npos) << named.output;
  fs::remove(Campaigns() / "pipe.yaml");

  auto daemon = StartDaemon();
  ASSERT_TRUE(WaitFor([&] { return Posted("first one") == 1; }, 20s)) << Log();
  // A FIFO renamed in while the daemon runs: refused, and the daemon goes on.
  ASSERT_EQ(::mkfifo((dir_ / "pipe-elsewhere").c_str(), 0644), 0);
  fs::rename(dir_ / "pipe-elsewhere", Campaigns() / "late-pipe.yaml");
  ASSERT_TRUE(WaitFor([&] { return LogHas("campaign.refused file=late-pipe.yaml"); }, 10s))
      << Log();
  dir_.Write("campaigns/second.yaml", RoomCampaign("second", "second one"));
  ASSERT_TRUE(WaitFor([&] { return Posted("second one") == 1; }, 20s)) << Log();
  StopDaemon(*daemon);
}

// Case 5: whoever could write these files could message every user: they are
// refused, never POSTed, and each refusal is logged with its reason.
TEST_F(CampaignFolderE2ETest, UntrustedFilesAreNeverSent) {
  dir_.Write("campaigns/open.yaml", RoomCampaign("open", "world writable"));
  ::chmod((Campaigns() / "open.yaml").c_str(), 0666);
  const bool root = ::geteuid() == 0;
  if (root) {
    dir_.Write("campaigns/theirs.yaml", RoomCampaign("theirs", "another user"));
    ASSERT_EQ(::chown((Campaigns() / "theirs.yaml").c_str(), 65534, 65534), 0);
  }
  dir_.Write("outside/target.yaml", RoomCampaign("linked", "through a symlink"));
  fs::create_symlink(dir_ / "outside/target.yaml", Campaigns() / "link.yaml");
  dir_.Write("campaigns/good.yaml", RoomCampaign("good", "trusted one"));

  auto daemon = StartDaemon();
  ASSERT_TRUE(WaitFor([&] { return Posted("trusted one") == 1; }, 20s)) << Log();
  // The start-up scan read every file before the daemon was ready, and so before this
  // send: a file it had taken would have its job, due at once, in the store by now.
  const nlohmann::json jobs = AllJobs();
  EXPECT_EQ(jobs.size(), 1u) << jobs.dump(1);
  EXPECT_EQ(Broadcasts().size(), 1u) << Log();
  EXPECT_TRUE(WaitFor([&] { return LogHas("campaign.refused file=link.yaml"); }, 10s)) << Log();
  const std::string log = Log();
  // A refusal says what would be accepted: the owner and the mode.
  EXPECT_NE(log.find("campaign.refused file=open.yaml reason=\"is world-writable (mode 0666); "
                     "accepted: a regular file owned by root or the daemon's user (uid " +
                     std::to_string(::geteuid()) + "), not writable by group or others"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("campaign.refused file=link.yaml reason=\"is a symbolic link"),
            std::string::npos)
      << log;
  if (root) {
    EXPECT_NE(log.find("campaign.refused file=theirs.yaml reason=\"is owned by uid 65534"),
              std::string::npos)
        << log;
  }

  // Made trusted by a chmod (inotify IN_ATTRIB): read and sent without a restart.
  ASSERT_EQ(::chmod((Campaigns() / "open.yaml").c_str(), 0644), 0);
  EXPECT_TRUE(WaitFor([&] { return Posted("world writable") == 1; }, 15s)) << Log();
  StopDaemon(*daemon);

  // --check says the same, and refuses a world-writable folder outright.
  const std::string config = (dir_ / "broadcastd.yaml").string();
  auto check = RunCommand({kBinary, "--check", "--config", config}, dir_.path());
  EXPECT_EQ(check.exit_code, 1);
  EXPECT_NE(check.output.find("link.yaml: refused: is a symbolic link"), std::string::npos)
      << check.output;
  ::chmod(Campaigns().c_str(), 0777);
  auto open_folder = RunCommand({kBinary, "--check", "--config", config}, dir_.path());
  EXPECT_EQ(open_folder.exit_code, 1);
  EXPECT_NE(open_folder.output.find(Campaigns().string() + " is world-writable"), std::string::npos)
      << open_folder.output;
  ::chmod(Campaigns().c_str(), 0755);
}

// One `time level event key=value …` line as LogValue writes values: its event
// and its keys in order, or nothing when it does not parse so.
struct LogLine {
  std::string event;
  std::vector<std::pair<std::string, std::string>> values;
};
std::optional<LogLine> ParseLogLine(std::string_view line) {
  LogLine parsed;
  size_t at = 0;
  for (int field = 0; field < 3; ++field) {  // time, level, event
    const size_t end = std::min(line.find(' ', at), line.size());
    if (field == 2) parsed.event = line.substr(at, end - at);
    at = end + 1;
  }
  while (at < line.size()) {
    const size_t eq = line.find('=', at);
    if (eq == std::string_view::npos) return std::nullopt;
    std::string key(line.substr(at, eq - at));
    if (key.empty() || key.find_first_of(" \"") != std::string::npos) return std::nullopt;
    size_t end = eq + 1;
    if (end < line.size() && line[end] == '"') {
      for (++end; end < line.size() && line[end] != '"'; ++end) {
        if (line[end] == '\\') ++end;
      }
      if (end >= line.size()) return std::nullopt;
      ++end;
    } else {
      end = std::min(line.find(' ', end), line.size());
    }
    parsed.values.emplace_back(key, line.substr(eq + 1, end - eq - 1));
    if (end < line.size() && line[end] != ' ') return std::nullopt;
    at = end + 1;
  }
  return parsed;
}

// Case 8: a file name and a YAML key holding a newline and a forged event.
TEST_F(CampaignFolderE2ETest, FileNamesAndYamlKeysCannotForgeLogLines) {
  const std::string forged = "1999-01-01T00:00:00.000Z info broadcast.sent job=77";
  dir_.Write("campaigns/evil\n" + forged + " x=.yaml", RoomCampaign("evil", "evil name"));
  dir_.Write("campaigns/key.yaml", "id: key\n\"bad\\n" + forged +
                                       " x\": 1\nbroadcasts:\n  - name: k\n    target: chatrooms\n"
                                       "    message: {type: txt, msg: \"bad key\"}\n");
  dir_.Write("campaigns/good.yaml", RoomCampaign("good", "trusted one"));

  auto daemon = StartDaemon();
  ASSERT_TRUE(WaitFor([&] { return Posted("trusted one") == 1; }, 20s)) << Log();
  EXPECT_TRUE(WaitFor([&] { return LogHas("campaign.rejected file=key.yaml"); }, 10s)) << Log();
  EXPECT_TRUE(WaitFor([&] { return LogHas("campaign.refused file=\"evil\\\\n"); }, 10s)) << Log();
  StopDaemon(*daemon);
  EXPECT_EQ(Posted("evil name") + Posted("bad key"), 0u);

  std::istringstream in(Log());
  int campaign_lines = 0;
  int sent_lines = 0;
  for (std::string line; std::getline(in, line);) {
    EXPECT_FALSE(line.starts_with("1999-")) << "forged line: " << line;
    auto parsed = ParseLogLine(line);
    if (!parsed) {
      EXPECT_EQ(line.find(" campaign."), std::string::npos) << "does not parse: " << line;
      continue;
    }
    if (!parsed->event.starts_with("campaign.") && parsed->event != "broadcast.sent") continue;
    if (parsed->event == "broadcast.sent") {
      ++sent_lines;
      EXPECT_NE(parsed->values.at(0), std::make_pair(std::string("job"), std::string("77")));
      continue;
    }
    ++campaign_lines;
    for (const auto& [key, value] : parsed->values) {
      EXPECT_TRUE(key == "file" || key == "reason" || key == "id" || key == "jobs")
          << "key " << key << " in: " << line;
    }
  }
  EXPECT_EQ(sent_lines, 1);  // the good one, and only that
  EXPECT_GE(campaign_lines, 3);
}

}  // namespace
}  // namespace broadcastd
