#include "cli/journal_stream.h"

#include <sys/stat.h>

#include <cstdlib>
#include <string_view>

namespace broadcastd {

bool IsJournalStream(int fd, const char* journal_stream) {
  if (journal_stream == nullptr) return false;
  std::string_view text(journal_stream);
  auto colon = text.find(':');
  if (colon == std::string_view::npos) return false;
  const std::string device(text.substr(0, colon)), inode(text.substr(colon + 1));
  char* end = nullptr;
  const unsigned long long dev = std::strtoull(device.c_str(), &end, 10);
  if (device.empty() || *end != '\0') return false;
  const unsigned long long ino = std::strtoull(inode.c_str(), &end, 10);
  if (inode.empty() || *end != '\0') return false;
  struct stat st {};
  if (::fstat(fd, &st) != 0) return false;
  return static_cast<unsigned long long>(st.st_dev) == dev &&
         static_cast<unsigned long long>(st.st_ino) == ino;
}

PriorityLineBuf::PriorityLineBuf(std::streambuf* target, std::string priority,
                                 std::string warning_priority)
    : target_(target),
      priority_(std::move(priority)),
      warning_priority_(std::move(warning_priority)) {}

void PriorityLineBuf::FlushLine() {
  if (line_.empty()) return;
  const std::string& p = line_.starts_with("warning: ") ? warning_priority_ : priority_;
  target_->sputn(p.data(), static_cast<std::streamsize>(p.size()));
  target_->sputn(line_.data(), static_cast<std::streamsize>(line_.size()));
  line_.clear();
}

PriorityLineBuf::int_type PriorityLineBuf::overflow(int_type ch) {
  if (traits_type::eq_int_type(ch, traits_type::eof())) return traits_type::not_eof(ch);
  line_.push_back(traits_type::to_char_type(ch));
  if (line_.back() == '\n') FlushLine();
  return ch;
}

void PriorityLineBuf::Finish() {
  if (!line_.empty()) {
    line_.push_back('\n');
    FlushLine();
  }
  target_->pubsync();
}

int PriorityLineBuf::sync() {
  // A partial line waits for its end: its priority goes at the start of the line.
  return target_->pubsync();
}

JournalPriorities::JournalPriorities(std::ostream& stream, int fd, const char* priority)
    : stream_(stream) {
  if (!IsJournalStream(fd, std::getenv("JOURNAL_STREAM"))) return;
  buf_ = std::make_unique<PriorityLineBuf>(stream.rdbuf(), priority);
  original_ = stream.rdbuf(buf_.get());
}

JournalPriorities::~JournalPriorities() {
  if (!buf_) return;
  stream_.flush();
  stream_.rdbuf(original_);
  buf_->Finish();
}

}  // namespace broadcastd
