// The daemon's loop in this process, on the seams RunDaemon takes: a transport
// that holds each request until the test lets it go, the real clock (the loop's
// timers are the kernel's). Signals reach the loop through its signalfd, as in
// production: they are blocked in every thread of this test binary.

#include "daemon/daemon.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "fakes/temp_dir.h"
#include "store/store.h"

namespace broadcastd {
namespace {

using namespace std::chrono_literals;

// Holds every request until Release() or Abort(); thread-safe.
class GateTransport final : public HttpTransport {
 public:
  TransportResult Send(const HttpRequest& request) override {
    std::unique_lock lock(mutex_);
    urls_.push_back(request.url);
    changed_.notify_all();
    changed_.wait(lock, [&] { return released_ || aborted_; });
    TransportResult result;
    if (aborted_) {
      result.failure = TransportFailure::kMaybeSent;
      result.detail = "aborted";
    } else {
      result.response.status = 200;
      result.response.body = R"({"data":{"id":77}})";
    }
    ++returned_;
    return result;
  }
  void Abort() override {
    std::lock_guard lock(mutex_);
    aborted_ = true;
    changed_.notify_all();
  }
  void Release() {
    std::lock_guard lock(mutex_);
    released_ = true;
    changed_.notify_all();
  }
  // Waits (bounded) until `n` requests have arrived.
  bool WaitForRequests(size_t n, std::chrono::milliseconds limit) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, limit, [&] { return urls_.size() >= n; });
  }
  bool aborted() {
    std::lock_guard lock(mutex_);
    return aborted_;
  }
  int returned() {
    std::lock_guard lock(mutex_);
    return returned_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> urls_;
  bool released_ = false;
  bool aborted_ = false;
  int returned_ = 0;
};

class DaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    BlockDaemonSignals();
    dir_.Write("credentials/main.token", "the-app-token\n");
    dir_.Write("campaigns/c.yaml", R"(id: c
broadcasts:
  - {name: a, target: users, message: {type: txt, msg: one}}
)");
    dir_.Write("broadcastd.yaml", "database: " + (dir_ / "state/queue.db").string() +
                                      "\ncampaigns_dir: " + (dir_ / "campaigns").string() +
                                      "\non_new_queue: send" +
                                      "\napps:\n  main:\n    host: http://127.0.0.1:9\n"
                                      "    org: org\n    app: app\n    client_id: cid\n"
                                      "    token_file: main.token\n");
    options_.config_path = dir_ / "broadcastd.yaml";
    options_.credentials_dir = dir_ / "credentials";
    options_.shutdown_grace = 200ms;
  }

  // Runs the daemon on its own thread; `finished` is set when RunDaemon returns.
  void Run() {
    daemon_ = std::thread([this] {
      exit_code_ = RunDaemon(options_, clock_, transport_);
      returned_at_exit_ = transport_.returned();
      std::lock_guard lock(mutex_);
      finished_ = true;
      done_.notify_all();
    });
  }

  bool WaitFinished(std::chrono::milliseconds limit) {
    std::unique_lock lock(mutex_);
    return done_.wait_for(lock, limit, [&] { return finished_; });
  }

  void TearDown() override {
    if (daemon_.joinable()) {
      if (!WaitFinished(0ms)) {
        ::kill(::getpid(), SIGTERM);
        transport_.Release();
      }
      daemon_.join();
    }
  }

  TempDir dir_;
  DaemonOptions options_;
  SystemClock clock_;
  GateTransport transport_;
  std::thread daemon_;
  std::mutex mutex_;
  std::condition_variable done_;
  bool finished_ = false;
  int exit_code_ = -1;
  int returned_at_exit_ = -1;
};

// SIGTERM with the request still in flight after the grace: the job is recorded
// unknown, the request is given up, and the worker has ended before RunDaemon
// returns (it is joined, never left writing to a closed descriptor).
TEST_F(DaemonTest, SigtermAfterTheGraceRecordsUnknownAndJoinsTheWorker) {
  Run();
  ASSERT_TRUE(transport_.WaitForRequests(1, 20s));
  ::kill(::getpid(), SIGTERM);
  ASSERT_TRUE(WaitFinished(20s));
  daemon_.join();
  EXPECT_EQ(exit_code_, 0);
  EXPECT_TRUE(transport_.aborted());
  EXPECT_EQ(returned_at_exit_, 1);  // the worker was done before the daemon returned

  auto store = Store::Open(dir_ / "state/queue.db", Store::Mode::kReadOnly);
  ASSERT_TRUE(store.has_value()) << store.error().message;
  auto jobs = store->Jobs().value();
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].state, JobState::kUnknown);
  EXPECT_EQ(store->AttemptsOf(jobs[0].id).value().size(), 1u);
}

// The worker hands the answer back to the loop, which commits it.
TEST_F(DaemonTest, TheAnswerComesBackFromTheWorkerAndIsCommitted) {
  Run();
  ASSERT_TRUE(transport_.WaitForRequests(1, 20s));
  transport_.Release();
  auto sent = [&] {
    auto store = Store::Open(dir_ / "state/queue.db", Store::Mode::kReadOnly);
    if (!store) return false;
    auto jobs = store->Jobs();
    return jobs && jobs->size() == 1 && (*jobs)[0].state == JobState::kSent &&
           (*jobs)[0].broadcast_id == "77";
  };
  // Bounded wait for the commit: the loop runs on its own thread.
  bool done = false;
  for (int i = 0; i < 200 && !done; ++i) {
    done = sent();
    if (!done) WaitFinished(50ms);
  }
  EXPECT_TRUE(done);
  ::kill(::getpid(), SIGTERM);
  ASSERT_TRUE(WaitFinished(20s));
  daemon_.join();
  EXPECT_EQ(exit_code_, 0);
  EXPECT_FALSE(transport_.aborted());
}

}  // namespace
}  // namespace broadcastd
