#pragma once
// The daemon on a folder of campaign files, for the end-to-end tests of the folder's
// rules (tests/e2e/campaign_folder_e2e_test.cc, write_guard_e2e_test.cc).

#include <filesystem>
#include <string>
#include <string_view>

#include "e2e/daemon_fixture.h"

namespace broadcastd {

class FolderE2ETest : public DaemonE2ETest {
 protected:
  std::filesystem::path Campaigns() const { return dir_ / "campaigns"; }
  std::string Log(const std::string& name = "daemon.log") { return ReadFile(dir_ / name); }

  bool LogHas(std::string_view text, const std::string& name = "daemon.log") {
    return Log(name).find(text) != std::string::npos;
  }

  void WaitReady() {
    ASSERT_TRUE(WaitFor([&] { return LogHas("daemon.ready"); }, 20s)) << Log();
  }

  // POSTs whose body holds `text`.
  size_t Posted(std::string_view text) {
    size_t n = 0;
    for (const auto& b : Broadcasts()) {
      n += b.value("body", std::string()).find(text) != std::string::npos;
    }
    return n;
  }

  // A campaign with one chatroom broadcast due now.
  static std::string RoomCampaign(const std::string& id, const std::string& text) {
    return "id: " + id + "\nbroadcasts:\n  - name: " + id +
           "\n    target: chatrooms\n    message: {type: txt, msg: \"" + text + "\"}\n";
  }

  void StopDaemon(ChildProcess& daemon) {
    daemon.Signal(SIGTERM);
    auto code = daemon.Wait(20s);
    ASSERT_TRUE(code.has_value()) << "SIGTERM not honoured\n" << Log();
    EXPECT_EQ(*code, 0);
  }
};

}  // namespace broadcastd
