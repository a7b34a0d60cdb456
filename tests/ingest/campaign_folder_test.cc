// CampaignFolder on real temporary folders: what is read, what is refused and
// why, what waits until it has settled. Nothing here may block: every look at
// the folder runs under a deadline.

#include "ingest/campaign_folder.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <future>

#include "core/unique_fd.h"
#include "fakes/temp_dir.h"
#include "ingest/file_name_rules.h"

namespace broadcastd {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr const char* kCampaign = "id: c\nbroadcasts: []\n";
constexpr uid_t kNobody = 65534;

class CampaignFolderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(dir_ / "campaigns");
    ::chmod(folder().c_str(), 0755);
  }

  fs::path folder() const { return dir_ / "campaigns"; }

  fs::path Write(const std::string& name, std::string_view content = kCampaign,
                 mode_t mode = 0644) {
    fs::path p = dir_.Write("campaigns/" + name, content);
    ::chmod(p.c_str(), mode);
    return p;
  }

  // Runs `look` on another thread; should it block (on a FIFO), the FIFOs in
  // the folder get a writer so that it returns, and the test fails.
  template <class F>
  auto WithinDeadline(F look) -> decltype(look()) {
    auto result = std::async(std::launch::async, look);
    if (result.wait_for(5s) != std::future_status::ready) {
      ADD_FAILURE() << "the look at the folder blocked";
      for (const auto& entry : fs::directory_iterator(folder())) {
        if (entry.is_fifo()) ::close(::open(entry.path().c_str(), O_WRONLY | O_NONBLOCK));
      }
    }
    return result.get();
  }

  // The folder as the daemon sees it, at `now` (by default long after every
  // file's mtime: anything trusted has settled).
  FolderListing Scan(CampaignFolder& campaigns, TimePoint now = FromMillis(0) + 100 * 365 * 24h) {
    auto listing = WithinDeadline([&] { return campaigns.Scan(now); });
    EXPECT_TRUE(listing.has_value()) << listing.error().message;
    return listing.value_or(FolderListing{});
  }
  // Two looks at the same instant: the first only records what it saw, the
  // second finds trusted files unchanged and old enough.
  FolderListing Settled(CampaignFolder& campaigns,
                        TimePoint now = FromMillis(0) + 100 * 365 * 24h) {
    Scan(campaigns, now);
    return Scan(campaigns, now);
  }
  FolderListing Scan() {
    CampaignFolder campaigns(folder());
    return Settled(campaigns);
  }

  // The one refusal in a listing that holds only that.
  static RefusedFile OnlyRefusal(const FolderListing& listing) {
    EXPECT_TRUE(listing.ready.empty());
    EXPECT_TRUE(listing.unsettled.empty());
    EXPECT_EQ(listing.refused.size(), 1u);
    return listing.refused.empty() ? RefusedFile{} : listing.refused[0];
  }

  static TimePoint MtimeOf(const fs::path& p) {
    struct stat st {};
    EXPECT_EQ(::stat(p.c_str(), &st), 0);
    return ModificationTime(IdentityOf(st));
  }

  TempDir dir_;
};

TEST_F(CampaignFolderTest, TrustedSettledFilesAreReadWithTheirIdentity) {
  Write("a.yaml");
  Write("b.yml", "id: b\n");
  FolderListing listing = Scan();
  ASSERT_EQ(listing.ready.size(), 2u);
  EXPECT_EQ(listing.ready[0].name, "a.yaml");
  EXPECT_EQ(listing.ready[0].bytes, kCampaign);
  EXPECT_EQ(listing.ready[0].identity.size, static_cast<int64_t>(std::string(kCampaign).size()));
  EXPECT_EQ(listing.ready[1].name, "b.yml");
  EXPECT_TRUE(listing.refused.empty());
  EXPECT_FALSE(listing.NextLook().has_value());
}

TEST_F(CampaignFolderTest, FifoIsRefusedAndNothingBlocks) {
  ASSERT_EQ(::mkfifo((folder() / "pipe.yaml").c_str(), 0644), 0);
  Write("ok.yaml");
  FolderListing listing = Scan();
  ASSERT_EQ(listing.refused.size(), 1u);
  EXPECT_EQ(listing.refused[0].name, "pipe.yaml");
  EXPECT_NE(listing.refused[0].reason.find("FIFO"), std::string::npos) << listing.refused[0].reason;
  ASSERT_EQ(listing.ready.size(), 1u);  // the others are read all the same

  auto all = WithinDeadline([&] { return CampaignFolder(folder()).ReadAll(); });
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(all->refused.size(), 1u);

  // Named on --check's command line.
  auto named = WithinDeadline([&] { return ReadTrustedFile(folder() / "pipe.yaml"); });
  ASSERT_FALSE(named.has_value());
  EXPECT_EQ(named.error().kind, ErrorKind::kPermission);
  EXPECT_NE(named.error().message.find("pipe.yaml: refused: is a FIFO"), std::string::npos)
      << named.error().message;
}

TEST_F(CampaignFolderTest, SymlinkToAFileOutsideIsRefused) {
  fs::path outside = dir_.Write("elsewhere/target.yaml", kCampaign);
  fs::create_symlink(outside, folder() / "link.yaml");
  RefusedFile r = OnlyRefusal(Scan());
  EXPECT_EQ(r.name, "link.yaml");
  EXPECT_NE(r.reason.find("symbolic link"), std::string::npos) << r.reason;

  auto named = ReadTrustedFile(folder() / "link.yaml");
  ASSERT_FALSE(named.has_value());
  EXPECT_NE(named.error().message.find("symbolic link"), std::string::npos);
}

TEST_F(CampaignFolderTest, DanglingSymlinkIsRefused) {
  fs::create_symlink(dir_ / "nowhere.yaml", folder() / "dangling.yaml");
  RefusedFile r = OnlyRefusal(Scan());
  EXPECT_EQ(r.name, "dangling.yaml");
  EXPECT_NE(r.reason.find("symbolic link"), std::string::npos) << r.reason;
}

TEST_F(CampaignFolderTest, SymlinkLoopIsRefused) {
  fs::create_symlink(folder() / "loop-b.yaml", folder() / "loop-a.yaml");
  fs::create_symlink(folder() / "loop-a.yaml", folder() / "loop-b.yaml");
  FolderListing listing = Scan();
  ASSERT_EQ(listing.refused.size(), 2u);
  for (const auto& r : listing.refused) {
    EXPECT_NE(r.reason.find("symbolic link"), std::string::npos) << r.reason;
  }
}

TEST_F(CampaignFolderTest, DirectoryNamedLikeACampaignIsRefused) {
  fs::create_directories(folder() / "x.yaml");
  RefusedFile r = OnlyRefusal(Scan());
  EXPECT_EQ(r.name, "x.yaml");
  EXPECT_NE(r.reason.find("directory"), std::string::npos) << r.reason;
}

TEST_F(CampaignFolderTest, SocketIsRefused) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string path = (folder() / "s.yaml").string();
  if (path.size() >= sizeof addr.sun_path) GTEST_SKIP() << "temporary path too long for a socket";
  std::copy(path.begin(), path.end(), addr.sun_path);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  RefusedFile r = OnlyRefusal(Scan());
  ::close(fd);
  EXPECT_NE(r.reason.find("socket"), std::string::npos) << r.reason;
}

TEST_F(CampaignFolderTest, UnreadableFileIsRefused) {
  if (::geteuid() == 0) {
    GTEST_SKIP() << "root reads it anyway (FileOwnedByAnotherUserIsRefused covers root)";
  }
  Write("secret.yaml", kCampaign, 0000);
  RefusedFile r = OnlyRefusal(Scan());
  EXPECT_EQ(r.name, "secret.yaml");
  EXPECT_NE(r.reason.find("permission denied"), std::string::npos) << r.reason;
}

TEST_F(CampaignFolderTest, WorldWritableFileIsRefused) {
  Write("open.yaml", kCampaign, 0666);
  RefusedFile r = OnlyRefusal(Scan());
  EXPECT_EQ(r.name, "open.yaml");
  EXPECT_NE(r.reason.find("world-writable (mode 0666)"), std::string::npos) << r.reason;
}

TEST_F(CampaignFolderTest, GroupWritableFileIsRefused) {
  Write("group.yaml", kCampaign, 0664);
  RefusedFile r = OnlyRefusal(Scan());
  EXPECT_NE(r.reason.find("group-writable (mode 0664)"), std::string::npos) << r.reason;
}

TEST_F(CampaignFolderTest, FileOwnedByAnotherUserIsRefused) {
  fs::path p = Write("theirs.yaml");
  FolderOptions options;
  if (::geteuid() == 0) {
    ASSERT_EQ(::chown(p.c_str(), kNobody, static_cast<gid_t>(-1)), 0);
  } else {
    options.trusted_user = ::geteuid() + 1;  // our own files are then another user's
  }
  CampaignFolder campaigns(folder(), options);
  RefusedFile r = OnlyRefusal(Scan(campaigns));
  EXPECT_EQ(r.name, "theirs.yaml");
  EXPECT_NE(r.reason.find("is owned by uid"), std::string::npos) << r.reason;
  EXPECT_FALSE(ReadTrustedFile(p, options).has_value());
}

TEST_F(CampaignFolderTest, WorldWritableFolderIsNotReadAtAll) {
  Write("a.yaml");
  ASSERT_EQ(::chmod(folder().c_str(), 01777), 0);
  auto listing = CampaignFolder(folder()).Scan(FromMillis(0) + 100 * 365 * 24h);
  ASSERT_FALSE(listing.has_value());
  EXPECT_EQ(listing.error().kind, ErrorKind::kPermission);
  EXPECT_NE(listing.error().message.find(folder().string()), std::string::npos);
  EXPECT_NE(listing.error().message.find("world-writable"), std::string::npos);
  EXPECT_FALSE(CampaignFolder(folder()).ReadAll().has_value());
}

TEST_F(CampaignFolderTest, NonUtf8NameIsRefusedAndShownEscaped) {
  Write("caf\xff.yaml");
  RefusedFile r = OnlyRefusal(Scan());
  EXPECT_EQ(r.name, "caf\\xff.yaml");
  EXPECT_NE(r.reason.find("not valid UTF-8"), std::string::npos) << r.reason;
}

TEST_F(CampaignFolderTest, NameWithANewlineIsRefusedAndShownEscaped) {
  Write("evil\ninfo broadcast.sent job=77.yaml");
  RefusedFile r = OnlyRefusal(Scan());
  EXPECT_EQ(r.name, "evil\\ninfo broadcast.sent job=77.yaml");
  EXPECT_EQ(r.name.find('\n'), std::string::npos);
  EXPECT_NE(r.reason.find("control character"), std::string::npos) << r.reason;
  EXPECT_FALSE(ReadTrustedFile(folder() / "evil\ninfo broadcast.sent job=77.yaml").has_value());
}

TEST_F(CampaignFolderTest, TemporariesOfEditorsAndToolsAreIgnoredSilently) {
  for (const char* name :
       {".hidden.yaml", ".a.yaml.swp", "a.yaml~", "a.yaml.swp", "a.yaml.tmp", "a.yaml.dpkg-new",
        "a.yaml.dpkg-old", "a.yaml.dpkg-dist", "a.yaml.dpkg-tmp", "a.yaml.rpmnew", "a.yaml.rpmsave",
        "notes.txt", "README"}) {
    Write(name, "not: [a campaign");
  }
  Write("tmp.yaml~\n", "x");  // ignored before its name is looked at
  Write("a.yaml");
  FolderListing listing = Scan();
  ASSERT_EQ(listing.ready.size(), 1u);
  EXPECT_EQ(listing.ready[0].name, "a.yaml");
  EXPECT_TRUE(listing.refused.empty());
  EXPECT_TRUE(listing.unsettled.empty());
  EXPECT_EQ(ClassifyFileName("a.yaml.dpkg-new"), NameVerdict::kIgnored);
  EXPECT_EQ(ClassifyFileName("a.yml"), NameVerdict::kCampaign);
}

TEST_F(CampaignFolderTest, ReadsAtMostTheLimitPlusOneByte) {
  Write("big.yaml", std::string(100000, '#'));
  FolderOptions options;
  options.max_bytes = 1000;
  CampaignFolder campaigns(folder(), options);
  FolderListing listing = Settled(campaigns);
  ASSERT_EQ(listing.ready.size(), 1u);
  EXPECT_EQ(listing.ready[0].bytes.size(), 1001u);
}

// The buffer is sized from the file's own size, not the limit: files around the first
// buffer's size, and over the limit, are read exactly.
TEST_F(CampaignFolderTest, ReadsEachFileWholeUpToTheLimit) {
  const std::vector<size_t> sizes = {0, 1, 4095, 4096, 4097, 100000, 262144, 262145, 300000};
  for (size_t size : sizes) {
    Write("f" + std::to_string(size) + ".yaml", std::string(size, '#'));
  }
  CampaignFolder campaigns(folder());  // the default limit: 256 KiB
  FolderListing listing = Settled(campaigns);
  ASSERT_EQ(listing.ready.size(), sizes.size());
  for (const ReadyFile& file : listing.ready) {
    const size_t size = std::stoul(file.name.substr(1));
    EXPECT_EQ(file.bytes, std::string(std::min<size_t>(size, 262145), '#')) << file.name;
  }
  auto whole = ReadTrustedFile(folder() / "f100000.yaml");
  ASSERT_TRUE(whole.has_value()) << whole.error().message;
  EXPECT_EQ(whole->size(), 100000u);
}

TEST_F(CampaignFolderTest, FreshFileWaitsUntilItHasSettled) {
  fs::path p = Write("new.yaml");
  const TimePoint mtime = MtimeOf(p);
  CampaignFolder campaigns(folder());
  FolderListing first = Scan(campaigns, mtime + 500ms);
  ASSERT_EQ(first.unsettled.size(), 1u);
  EXPECT_TRUE(first.ready.empty());
  EXPECT_EQ(first.unsettled[0].name, "new.yaml");
  EXPECT_EQ(first.unsettled[0].look_again, mtime + 2s);
  EXPECT_EQ(first.NextLook(), mtime + 2s);

  EXPECT_EQ(Scan(campaigns, mtime + 1999ms).unsettled.size(), 1u);
  FolderListing settled = Scan(campaigns, mtime + 2s);
  ASSERT_EQ(settled.ready.size(), 1u);
  EXPECT_EQ(settled.ready[0].bytes, kCampaign);
}

// A writer that stalled mid-file long enough for its mtime to be old: the first
// look at it (a rescan for another file's sake) must not read it.
TEST_F(CampaignFolderTest, OldFileSeenForTheFirstTimeWaitsForASecondLook) {
  fs::path p = Write("stalled.yaml", "id: c\n");
  const TimePoint now = MtimeOf(p) + 1h;
  CampaignFolder campaigns(folder());
  FolderListing first = Scan(campaigns, now);
  EXPECT_TRUE(first.ready.empty());
  ASSERT_EQ(first.unsettled.size(), 1u);
  EXPECT_EQ(first.unsettled[0].look_again, now + 500ms);
  FolderListing second = Scan(campaigns, now + 500ms);
  ASSERT_EQ(second.ready.size(), 1u);
  EXPECT_EQ(second.ready[0].bytes, "id: c\n");
}

TEST_F(CampaignFolderTest, FileChangingBetweenLooksIsNotRead) {
  fs::path p = Write("growing.yaml", "id: c\n");
  CampaignFolder campaigns(folder());
  const TimePoint start = MtimeOf(p) + 3s;  // old enough, were it not changing
  EXPECT_EQ(Settled(campaigns, start).ready.size(), 1u);

  // A writer appends; its mtime stays old by our clock (set back), but its size moved.
  { std::ofstream(p, std::ios::app) << "broadcasts: []\n"; }
  struct timespec times[2] = {{0, UTIME_OMIT}, {0, 0}};
  times[1].tv_sec = (ToMillis(start) - 3000) / 1000;
  ASSERT_EQ(::utimensat(AT_FDCWD, p.c_str(), times, 0), 0);
  FolderListing changed = Scan(campaigns, start + 10s);
  EXPECT_TRUE(changed.ready.empty());
  ASSERT_EQ(changed.unsettled.size(), 1u);
  EXPECT_GT(changed.unsettled[0].look_again, start + 10s);

  // Unchanged at the next look: settled, read whole.
  FolderListing settled = Scan(campaigns, changed.unsettled[0].look_again);
  ASSERT_EQ(settled.ready.size(), 1u);
  EXPECT_EQ(settled.ready[0].bytes, "id: c\nbroadcasts: []\n");
}

TEST_F(CampaignFolderTest, CloseWriteMarksAFileSettledAtOnce) {
  fs::path p = Write("closed.yaml");
  const TimePoint mtime = MtimeOf(p);
  CampaignFolder campaigns(folder());
  campaigns.MarkWritten("closed.yaml");
  FolderListing listing = Scan(campaigns, mtime + 1ms);
  ASSERT_EQ(listing.ready.size(), 1u);
  EXPECT_EQ(listing.ready[0].name, "closed.yaml");
  // The mark is used once: a new write is judged by the settle time again.
  { std::ofstream(p, std::ios::app) << "# more\n"; }
  EXPECT_EQ(Scan(campaigns, MtimeOf(p) + 1ms).unsettled.size(), 1u);
}

TEST_F(CampaignFolderTest, MtimeInTheFutureCountsFromWhenTheFileWasFirstSeen) {
  fs::path p = Write("skewed.yaml");
  const TimePoint now = MtimeOf(p) - 1h;  // the file's mtime is an hour ahead of us
  CampaignFolder campaigns(folder());
  FolderListing first = Scan(campaigns, now);
  ASSERT_EQ(first.unsettled.size(), 1u);
  EXPECT_EQ(first.unsettled[0].look_again, now + 2s);
  EXPECT_EQ(Scan(campaigns, now + 2s).ready.size(), 1u);
}

// A writer that holds the file open is waited for however long it pauses: the kernel
// says so (the test owns the file, so a read lease is ours to ask for).
TEST_F(CampaignFolderTest, FileHeldOpenForWritingIsNeverReadHoweverStillItIs) {
  fs::path p = Write("held.yaml");
  UniqueFd writer(::open(p.c_str(), O_WRONLY | O_CLOEXEC));
  ASSERT_TRUE(writer);
  const TimePoint start = MtimeOf(p) + 1h;  // long past the settle time
  CampaignFolder campaigns(folder());
  FolderListing first = Scan(campaigns, start);
  FolderListing later = Scan(campaigns, start + 10min);
  EXPECT_TRUE(later.ready.empty());
  ASSERT_EQ(later.unsettled.size(), 1u);
  ASSERT_TRUE(later.unsettled[0].writing_since.has_value());
  EXPECT_EQ(*later.unsettled[0].writing_since, start)
      << "since the first look that found the writer";
  EXPECT_TRUE(first.ready.empty());
  // Closed: the next looks read it by the settle rule.
  writer.reset();
  FolderListing closed = Scan(campaigns, start + 11min);
  ASSERT_EQ(closed.ready.size() + closed.unsettled.size(), 1u);
  EXPECT_EQ(Scan(campaigns, start + 12min).ready.size(), 1u);
}

// Without the kernel's word (a file the daemon does not own), inotify's IN_MODIFY is
// enough: the file waits for its IN_CLOSE_WRITE.
TEST(SettleTrackerTest, WrittenToWithoutACloseNeverSettles) {
  SettleTracker settle(2s);
  const TimePoint t0 = FromMillis(1'000'000);
  const FileIdentity id{1, 2, 3, ToMillis(t0) * 1'000'000};
  EXPECT_TRUE(settle.MarkWriting("a.yaml"));
  EXPECT_FALSE(settle.MarkWriting("a.yaml")) << "only the first write asks for a look";
  EXPECT_FALSE(settle.FirstLook("a.yaml"));
  settle.WriterSeen("a.yaml", WriterCheck::kUnknown, t0);
  EXPECT_EQ(settle.WritingSince("a.yaml", t0 + 1s), t0 + 1s);
  settle.KeepOnly({});  // a scan that did not list it keeps what the events said
  settle.WriterSeen("a.yaml", WriterCheck::kUnknown, t0 + 1h);
  EXPECT_EQ(settle.WritingSince("a.yaml", t0 + 1h), t0 + 1s);
  settle.MarkWritten("a.yaml");
  EXPECT_EQ(settle.WritingSince("a.yaml", t0 + 1h), std::nullopt);
  EXPECT_EQ(settle.Look("a.yaml", id, t0 + 1h), std::nullopt) << "closed: read at once";
  // The kernel saying nobody writes it ends what the events said (a lost close).
  settle.MarkWriting("b.yaml");
  settle.WriterSeen("b.yaml", WriterCheck::kNone, t0);
  EXPECT_EQ(settle.WritingSince("b.yaml", t0), std::nullopt);
}

// A hard link made in the folder: created, never written to, nobody holds it open.
TEST_F(CampaignFolderTest, HardLinkCreatedInTheFolderIsReadAtOnce) {
  fs::path outside = dir_.Write("outside.yaml", kCampaign);
  ::chmod(outside.c_str(), 0644);
  ASSERT_EQ(::link(outside.c_str(), (folder() / "linked.yaml").c_str()), 0);
  CampaignFolder campaigns(folder());
  campaigns.MarkCreated("linked.yaml");  // IN_CREATE, and nothing after it
  FolderListing listing = Scan(campaigns, MtimeOf(outside) + 1ms);
  ASSERT_EQ(listing.ready.size(), 1u);
  EXPECT_EQ(listing.ready[0].name, "linked.yaml");
}

// Created and still open in its writer: not read, however the create looked.
TEST_F(CampaignFolderTest, FileCreatedAndStillOpenWaitsForItsWriter) {
  UniqueFd writer(::open((folder() / "new.yaml").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
  ASSERT_TRUE(writer);
  ASSERT_EQ(::write(writer.get(), kCampaign, std::strlen(kCampaign)),
            static_cast<ssize_t>(std::strlen(kCampaign)));
  CampaignFolder campaigns(folder());
  campaigns.MarkCreated("new.yaml");
  const TimePoint now = MtimeOf(folder() / "new.yaml") + 1h;
  FolderListing listing = Scan(campaigns, now);
  EXPECT_TRUE(listing.ready.empty());
  ASSERT_EQ(listing.unsettled.size(), 1u);
  EXPECT_EQ(listing.unsettled[0].writing_since, now);
}

}  // namespace
}  // namespace broadcastd

namespace broadcastd {
namespace {

// Signed campaigns: FILE.sig and FILE.LABEL.sig are listed with the file they sign, under
// the folder's trust rules; temporaries and signatures of no file are left out.
TEST(SignatureNamesTest, ASignatureNamesTheFileItSigns) {
  EXPECT_EQ(ClassifyFileName("promo.yaml.sig"), NameVerdict::kSignature);
  EXPECT_EQ(ClassifyFileName("promo.yml.alice.sig"), NameVerdict::kSignature);
  EXPECT_EQ(SignedFileOf("promo.yaml.sig"), "promo.yaml");
  EXPECT_EQ(SignedFileOf("promo.yaml.alice.sig"), "promo.yaml");
  EXPECT_EQ(SignedFileOf("promo.yaml.a.b.sig"), "");
  for (const char* name : {"promo.sig", "promo.yaml..sig", ".promo.yaml.sig", "promo.yaml.sig~",
                           "promo.yaml.sig.swp", "promo.yaml.sig.tmp"}) {
    EXPECT_EQ(ClassifyFileName(name), NameVerdict::kIgnored) << name;
  }
  EXPECT_EQ(ClassifyFileName("promo.yaml.\x01.sig"), NameVerdict::kRefused);
}

TEST(SignatureListingTest, SignaturesAreListedWithTheirFileUnderTheSameRules) {
  TempDir dir;
  const fs::path folder = dir / "campaigns";
  fs::create_directories(folder);
  ::chmod(folder.c_str(), 0755);
  for (const char* name : {"a.yaml", "a.yaml.sig", "a.yaml.bob.sig", "orphan.yaml.sig"}) {
    dir.Write(std::string("campaigns/") + name, "x");
    ::chmod((folder / name).c_str(), 0644);
  }
  ::chmod((folder / "a.yaml.bob.sig").c_str(), 0666);
  fs::create_symlink(folder / "a.yaml.sig", folder / "a.yaml.link.sig");
  auto listing = CampaignFolder(folder).List();
  ASSERT_TRUE(listing.has_value()) << listing.error().message;
  ASSERT_EQ(listing->files.size(), 1u);
  const ListedFile& a = listing->files[0];
  EXPECT_EQ(a.name, "a.yaml");
  ASSERT_EQ(a.signatures.size(), 3u);
  EXPECT_EQ(a.signatures[0].name, "a.yaml.bob.sig");
  EXPECT_NE(a.signatures[0].refusal.find("world-writable"), std::string::npos);
  EXPECT_EQ(a.signatures[1].name, "a.yaml.link.sig");
  EXPECT_NE(a.signatures[1].refusal.find("symbolic link"), std::string::npos);
  EXPECT_EQ(a.signatures[2].name, "a.yaml.sig");
  EXPECT_EQ(a.signatures[2].refusal, "");
  // A signature's change changes the file's signature stamp.
  const std::string before = SignatureStamp(a);
  ::chmod((folder / "a.yaml.bob.sig").c_str(), 0644);
  auto again = CampaignFolder(folder).List();
  ASSERT_TRUE(again.has_value());
  EXPECT_NE(SignatureStamp(again->files[0]), before);
}

}  // namespace
}  // namespace broadcastd
