// --audit: every attempt and every operator action, in time order, for compliance and
// reporting. Read-only (one snapshot; the daemon keeps running) and streamed: each line
// is written as its row is read, in buffers of kFlushBytes, so memory stays flat however
// large the audit.

#include <signal.h>

#include <cerrno>
#include <cstring>
#include <ostream>
#include <tuple>

#include "cli/audit_format.h"
#include "cli/command_line.h"
#include "cli/commands.h"
#include "cli/database_access.h"
#include "core/log_value.h"
#include "core/time_format.h"
#include "store/store.h"

namespace broadcastd {
namespace {

constexpr size_t kFlushBytes = 64 * 1024;

// A reader that goes away (`| head -1`) ends the export without a word: SIGPIPE is
// ignored while it runs, so a write fails with EPIPE instead of killing the process.
class IgnoredSigpipe {
 public:
  IgnoredSigpipe() {
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    sigaction(SIGPIPE, &ignore, &old_);
  }
  ~IgnoredSigpipe() { sigaction(SIGPIPE, &old_, nullptr); }
  IgnoredSigpipe(const IgnoredSigpipe&) = delete;
  IgnoredSigpipe& operator=(const IgnoredSigpipe&) = delete;

 private:
  struct sigaction old_ {};
};

}  // namespace

Result<AuditFilter> AuditFilterOf(const AuditOptions& options) {
  AuditFilter filter;
  for (auto [flag, text, bound] : {std::tuple{"--since", &options.since, &filter.since},
                                   std::tuple{"--until", &options.until, &filter.until}}) {
    if (text->empty()) continue;
    auto time = ParseRfc3339(*text);
    if (!time) {
      return Fail(ErrorKind::kInvalid,
                  std::string(flag) + " " + LogValue(*text) + ": " + time.error().message);
    }
    *bound = *time;
  }
  if (!options.campaign.empty()) filter.campaign_id = options.campaign;
  if (!options.app.empty()) filter.app = options.app;
  return filter;
}

int RunAudit(const CommandContext& ctx, const AuditOptions& options) {
  auto filter = AuditFilterOf(options);
  if (!filter) {
    ctx.err << "broadcastd: " << filter.error().message << "\n";
    return kExitUsage;
  }
  const std::optional<AuditFormat> format = ParseAuditFormat(options.format);
  if (!format) {
    ctx.err << "broadcastd: --format " << LogValue(options.format) << ": not jsonl or csv\n";
    return kExitUsage;
  }
  auto config = ConfigForOperatorCommand(ctx.config_path, ctx.err);
  if (!config) {
    ctx.err << config.error().message << "\n";
    return kExitUsage;
  }
  auto store = OpenStoreForOperator(*config, DatabaseUse::kRead);
  if (!store) {
    ctx.err << store.error().message << "\n";
    return kExitUsage;
  }

  IgnoredSigpipe ignored_sigpipe;
  AuditLineWriter writer(*format);
  std::string buffer = AuditHeader(*format);
  buffer.reserve(kFlushBytes + 4096);
  int write_error = 0;
  auto flush = [&] {
    ctx.out.write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    buffer.clear();
    if (!ctx.out.good()) write_error = errno != 0 ? errno : EIO;
    return write_error == 0;
  };
  errno = 0;
  auto exported = store->ForEachAuditEntry(*filter, [&](const AuditEntry& entry) {
    writer.Append(entry, buffer);
    return buffer.size() < kFlushBytes || flush();
  });
  if (exported && write_error == 0 && flush()) ctx.out.flush();
  if (write_error == 0 && !ctx.out.good()) write_error = errno != 0 ? errno : EIO;
  if (write_error == EPIPE) return kExitOk;  // the reader has all it wanted
  if (write_error != 0) {
    ctx.err << "broadcastd: --audit: cannot write the output: " << std::strerror(write_error)
            << "\n";
    return kExitUsage;
  }
  if (!exported) {
    ctx.err << exported.error().message << "\n";
    return kExitUsage;
  }
  return kExitOk;
}

}  // namespace broadcastd
