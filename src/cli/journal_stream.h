#pragma once
// Command output under systemd: when a command's stdout or stderr is connected
// to the journal (JOURNAL_STREAM names that very file), each line it prints
// starts with its syslog priority ("<3>" and so on, sd-daemon(3)), so that
// `journalctl -p err` shows why an ExecStartPre check failed. Elsewhere (a
// terminal, a pipe) the output is left as it is.

#include <memory>
#include <ostream>
#include <streambuf>
#include <string>

namespace broadcastd {

// Whether file descriptor `fd` is the stream JOURNAL_STREAM ("DEVICE:INODE")
// names. `journal_stream` is the variable's value (null when unset).
bool IsJournalStream(int fd, const char* journal_stream);

// A streambuf that writes through to `target`, starting every line with
// `priority` ("<6>"), or with `warning_priority` for a line that starts with
// "warning: ".
class PriorityLineBuf : public std::streambuf {
 public:
  PriorityLineBuf(std::streambuf* target, std::string priority,
                  std::string warning_priority = "<4>");
  // Writes out a last line that has no newline yet.
  void Finish();

 protected:
  int_type overflow(int_type ch) override;
  int sync() override;

 private:
  void FlushLine();

  std::streambuf* target_;
  std::string priority_, warning_priority_;
  std::string line_;
};

// For the lifetime of this object, prefixes the lines of `stream` (std::cout,
// std::cerr) with `priority` when `fd` is the journal; otherwise does nothing.
class JournalPriorities {
 public:
  JournalPriorities(std::ostream& stream, int fd, const char* priority);
  ~JournalPriorities();
  JournalPriorities(const JournalPriorities&) = delete;
  JournalPriorities& operator=(const JournalPriorities&) = delete;

 private:
  std::ostream& stream_;
  std::streambuf* original_ = nullptr;
  std::unique_ptr<PriorityLineBuf> buf_;
};

}  // namespace broadcastd
