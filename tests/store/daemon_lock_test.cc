#include "store/daemon_lock.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "store_test_support.h"

namespace broadcastd::testing_store {
namespace {

using ::testing::HasSubstr;

std::string InUseBy(const std::filesystem::path& db, int pid) {
  return "database " + db.string() + " is in use by another broadcastd (pid " +
         std::to_string(pid) + ")";
}

TEST(DaemonLock, ASecondAcquireInTheSameProcessFails) {
  TempDir dir;
  auto db = dir.path() / "queue.db";
  EXPECT_EQ(LockHolderPid(db), std::nullopt);
  {
    auto first = DaemonLock::Acquire(db);
    ASSERT_TRUE(first.has_value()) << first.error().message;
    EXPECT_EQ(LockHolderPid(db), getpid());

    auto second = DaemonLock::Acquire(db);
    ASSERT_FALSE(second.has_value());
    EXPECT_EQ(second.error().message, InUseBy(db, getpid()));

    DaemonLock moved = std::move(*first);  // moving keeps it held
    EXPECT_FALSE(DaemonLock::Acquire(db).has_value());
  }
  EXPECT_EQ(LockHolderPid(db), std::nullopt);
  EXPECT_TRUE(DaemonLock::Acquire(db).has_value());
}

TEST(DaemonLock, AnotherProcessCannotTakeIt) {
  TempDir dir;
  auto db = dir.path() / "queue.db";
  auto held = DaemonLock::Acquire(db);
  ASSERT_TRUE(held.has_value());
  std::string expected = InUseBy(db, getpid());

  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto attempt = DaemonLock::Acquire(db);
    bool refused_with_pid = !attempt.has_value() && attempt.error().message == expected;
    bool sees_holder = LockHolderPid(db) == getppid();
    _exit(refused_with_pid && sees_holder ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(DaemonLock, TheKernelReleasesItWhenTheHolderDies) {
  TempDir dir;
  auto db = dir.path() / "queue.db";
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(ready[0]);
    auto lock = DaemonLock::Acquire(db);
    char byte = lock.has_value() ? 'y' : 'n';
    (void)write(ready[1], &byte, 1);
    pause();  // until killed; the lock is never released by the code
    _exit(0);
  }
  close(ready[1]);
  char byte = 0;
  ASSERT_EQ(read(ready[0], &byte, 1), 1);
  close(ready[0]);
  ASSERT_EQ(byte, 'y');

  auto refused = DaemonLock::Acquire(db);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().message, InUseBy(db, child));
  EXPECT_EQ(LockHolderPid(db), child);

  kill(child, SIGKILL);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);

  // The file still names the dead process, but nobody holds the lock.
  EXPECT_EQ(LockHolderPid(db), std::nullopt);
  auto taken = DaemonLock::Acquire(db);
  ASSERT_TRUE(taken.has_value()) << taken.error().message;
  EXPECT_EQ(LockHolderPid(db), getpid());
}

TEST(DaemonLock, FailsClearlyWhenTheFolderIsMissing) {
  TempDir dir;
  auto db = dir.path() / "missing" / "queue.db";
  auto lock = DaemonLock::Acquire(db);
  ASSERT_FALSE(lock.has_value());
  EXPECT_THAT(lock.error().message, HasSubstr(db.string()));
  EXPECT_THAT(lock.error().message, HasSubstr("cannot open it to take the daemon lock"));
}

// The lock is on the database file: removing the pid file frees nothing.
TEST(DaemonLock, RemovingThePidFileDoesNotFreeTheLock) {
  TempDir dir;
  auto db = dir.path() / "queue.db";
  auto held = DaemonLock::Acquire(db);
  ASSERT_TRUE(held.has_value());
  ASSERT_TRUE(std::filesystem::remove(LockPathFor(db)));
  auto second = DaemonLock::Acquire(db);
  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.error().message, InUseBy(db, getpid()));
  EXPECT_EQ(LockHolderPid(db), getpid());
}

// flock and SQLite's POSIX locks are separate tables on Linux: under the daemon lock,
// SQLite reads and writes from this process and from another one.
TEST(DaemonLock, SqliteWorksUnderTheLockHereAndInAnotherProcess) {
  TempDir dir;
  auto db = dir.path() / "queue.db";
  auto held = DaemonLock::Acquire(db);
  ASSERT_TRUE(held.has_value());
  {
    auto store = Store::Open(db, Store::Mode::kReadWrite);
    ASSERT_TRUE(store.has_value()) << store.error().message;
    ASSERT_TRUE(store->Pause("main", BroadcastTarget::kUsers, "here", kT0).has_value());

    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      auto other = Store::Open(db, Store::Mode::kReadWrite);
      bool ok = other.has_value() &&
                other->Pause("main", BroadcastTarget::kChatrooms, "there", kT0).has_value() &&
                other->Pauses().value().size() == 2;
      _exit(ok ? 0 : 1);
    }
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
    EXPECT_EQ(store->Pauses().value().size(), 2u);
  }  // the connection closes before the lock is released
}

}  // namespace
}  // namespace broadcastd::testing_store
