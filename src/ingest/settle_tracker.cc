#include "ingest/settle_tracker.h"

#include <sys/stat.h>

#include <algorithm>

namespace broadcastd {

FileIdentity IdentityOf(const struct stat& st) {
  return FileIdentity{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino),
                      static_cast<int64_t>(st.st_size),
                      static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
}

TimePoint ModificationTime(const FileIdentity& id) {
  // Rounded down to the millisecond, as every TimePoint is.
  return std::chrono::floor<Duration>(
      std::chrono::sys_time<std::chrono::nanoseconds>(std::chrono::nanoseconds(id.mtime_ns)));
}

void SettleTracker::MarkWritten(const std::string& name) {
  written_.insert(name);
  writing_.erase(name);
  held_.erase(name);
  created_.erase(name);
}

bool SettleTracker::MarkWriting(const std::string& name) {
  written_.erase(name);
  created_.erase(name);
  return writing_.try_emplace(name).second;
}

void SettleTracker::MarkCreated(const std::string& name) {
  written_.erase(name);
  if (!writing_.contains(name)) created_.insert(name);
}

void SettleTracker::Forget(const std::string& name) {
  written_.erase(name);
  writing_.erase(name);
  held_.erase(name);
  created_.erase(name);
}

std::optional<TimePoint> SettleTracker::WritingSince(const std::string& name, TimePoint now) {
  if (auto it = writing_.find(name); it != writing_.end()) {
    if (!it->second) it->second = now;
    return it->second;
  }
  if (auto it = held_.find(name); it != held_.end()) return it->second;
  return std::nullopt;
}

void SettleTracker::WriterSeen(const std::string& name, WriterCheck check, TimePoint now) {
  switch (check) {
    case WriterCheck::kNone:
      // Its writer closed it: the IN_CLOSE_WRITE is on its way, or was lost (an overflow).
      held_.erase(name);
      writing_.erase(name);
      return;
    case WriterCheck::kUnknown:
      held_.erase(name);
      return;
    case WriterCheck::kWriting:
      held_.try_emplace(name, now);
      created_.erase(name);
      return;
  }
}

std::optional<TimePoint> SettleTracker::Look(const std::string& name, const FileIdentity& id,
                                             TimePoint now) {
  const bool written = written_.erase(name) > 0;
  auto it = seen_.find(name);
  const bool unchanged = it != seen_.end() && it->second.id == id;
  if (!unchanged) it = seen_.insert_or_assign(name, Seen{id, now}).first;
  if (written) return std::nullopt;

  // The mtime, or when the identity was first seen if that is earlier (an mtime
  // in the future).
  const TimePoint quiet_since = std::min(ModificationTime(id), it->second.since);
  if (unchanged && quiet_since + settle_ <= now) return std::nullopt;
  // First seen, or changed since the previous look: another look is needed even
  // when the mtime is old (a writer that stalled mid-file, a file replaced
  // without a rename event), but not at once.
  return std::max(quiet_since + settle_, now + settle_ / 4);
}

void SettleTracker::KeepOnly(const std::set<std::string>& seen) {
  std::erase_if(seen_, [&](const auto& entry) { return !seen.contains(entry.first); });
  std::erase_if(written_, [&](const std::string& name) { return !seen.contains(name); });
  std::erase_if(created_, [&](const std::string& name) { return !seen.contains(name); });
}

}  // namespace broadcastd
