#include "ingest/campaign_ingester.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <set>
#include <system_error>
#include <thread>

#include "campaign/loader.h"
#include "core/log_value.h"
#include "core/time_format.h"
#include "document/document.h"
#include "ingest/job_planner.h"
#include "store/content_hash.h"

namespace broadcastd {
namespace fs = std::filesystem;
namespace {

// The diagnostic of a file whose campaign id another present file holds, at its `id`.
std::string IdTaken(const std::string& name, const std::string& bytes,
                    const std::string& campaign_id, const std::string& holder) {
  const std::string what = "id \"" + campaign_id + "\" is already used by " + holder;
  // The bytes parsed a moment ago; should they not now, name the file without a position.
  auto doc = Document::Parse(bytes, name);
  if (!doc) return name + ": " + what + " [rule.id_unique]";
  return doc->At(nlohmann::json::json_pointer("/id"), "rule.id_unique", what).ToString();
}

std::string JoinLines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) {
    if (!out.empty()) out += '\n';
    out += l;
  }
  return out;
}

// Resolves the campaign's app against the config; the error names the file.
Result<std::string> ResolveApp(const Campaign& campaign, const Config& config,
                               const std::string& file) {
  if (campaign.app.empty()) {
    if (config.apps.size() == 1) return config.apps.begin()->first;
    return Fail(ErrorKind::kInvalid, file + ": app: required, because the config defines " +
                                         std::to_string(config.apps.size()) +
                                         " apps [rule.app_required]");
  }
  if (!config.apps.contains(campaign.app)) {
    std::string known;
    for (const auto& [name, _] : config.apps) known += (known.empty() ? "" : ", ") + name;
    return Fail(ErrorKind::kInvalid, file + ": app: \"" + campaign.app +
                                         "\" is not defined in the config (apps: " + known +
                                         ") [rule.app_unknown]");
  }
  return campaign.app;
}

CampaignCheck CheckBytes(const std::string& bytes, const std::string& display_name,
                         const Config& config) {
  auto campaign = ParseCampaign(bytes, display_name);
  if (!campaign) {
    std::vector<std::string> lines;
    for (const Diagnostic& d : campaign.error()) lines.push_back(d.ToString());
    return std::unexpected(std::move(lines));
  }
  if (auto app = ResolveApp(*campaign, config, display_name); !app) {
    return std::unexpected(std::vector<std::string>{app.error().message});
  } else {
    campaign->app = *app;
  }
  return std::move(*campaign);
}

}  // namespace

CampaignCheck CheckCampaignFile(const fs::path& path, const Config& config) {
  auto bytes = ReadTrustedFile(path);
  if (!bytes) return std::unexpected(std::vector<std::string>{bytes.error().message});
  return CheckBytes(*bytes, path.string(), config);
}

CampaignCheck CheckCampaignBytes(const std::string& bytes, const std::string& display_name,
                                 const Config& config) {
  return CheckBytes(bytes, display_name, config);
}

void ScanReport::Add(ScanReport slice) {
  created += slice.created;
  updated += slice.updated;
  unchanged += slice.unchanged;
  rejected += slice.rejected;
  removed += slice.removed;
  moved += slice.moved;
  occurrences_added += slice.occurrences_added;
  unsettled += slice.unsettled;
  if (slice.unavailable) unavailable = std::move(slice.unavailable);
  for (auto& e : slice.errors) errors.push_back(std::move(e));
  for (auto& r : slice.refused) refused.push_back(std::move(r));
  if (slice.next_rescan) next_rescan = slice.next_rescan;
  more = slice.more;
}

namespace {

// What a file's verdict depends on besides its bytes: where it is, and which apps a
// campaign may name (ResolveApp).
std::string ConfigKey(const Config& config) {
  std::string key = config.campaigns_dir.string();
  for (const auto& [name, _] : config.apps) key += '\n' + name;
  return key + "\nmax_delay " + FormatMaxDelay(config.max_delay);
}

// A file's version as the store knows it: its bytes, and max_delay, which the deadlines of
// its one-shot jobs depend on. A reload that changes max_delay thus re-plans the jobs no
// attempt may have reached, as an edit of the file would.
std::string FileHash(std::string_view bytes, const Config& config) {
  return ContentHash(ContentHash(bytes) + "\nmax_delay " + FormatMaxDelay(config.max_delay));
}

bool Repeats(const Campaign& campaign) {
  return std::any_of(campaign.broadcasts.begin(), campaign.broadcasts.end(),
                     [](const Broadcast& b) { return b.repeat.has_value(); });
}

TimePoint MillisOf(int64_t ns) { return FromMillis(ns / 1'000'000); }

// A batch read ahead: at most this many files read, and this many listed files in all
// (the unchanged ones cost next to nothing). About a few milliseconds of work on this
// machine at a cold start, so that a slice overruns its time by little.
constexpr size_t kBatchReads = 32;
constexpr size_t kBatchFiles = 256;

// Threads that check a batch (ScanLimits::check_threads). The scanning thread writes the
// batch before meanwhile, so it keeps a core of its own (the writes are the longer part:
// on two cores, one worker did as well as two in the runs measured).
size_t CheckThreads(size_t wanted) {
  if (wanted > 0) return wanted;
  const unsigned cores = std::thread::hardware_concurrency();
  return cores <= 1 ? 0 : std::min<size_t>(cores - 1, 3);
}

}  // namespace

// Listed files from `from` on, the ones to read opened already (on the scanning thread:
// the settle time and the open count are the folder's), and the open ones being read and
// checked on workers. Applied in order by ScanSlice.
struct CampaignIngester::Batch {
  struct File {
    size_t index = 0;  // in the snapshot's files
    std::string name;
    bool read = false;  // opened ahead: `file` says what became of it (kOpen: not read yet)
    FileRead file;
    Checked checked;
  };
  std::vector<File> files;
  size_t end = 0;            // the index after the last file
  size_t opens = 0;          // files its visits open (VisitPlan::opens)
  bool opens_spent = false;  // the slice's opens (ScanLimits::slice_files) are used up
  std::atomic<size_t> next_check{0};
  std::vector<File*> to_check;
  // Joined before the files are destroyed (declared after them), or by Wait.
  std::vector<std::jthread> workers;

  // Reads every file in to_check, and works out its hash and verdict: work on the file's
  // descriptor and bytes alone.
  void CheckSome(const CampaignFolder& folder, const Config& config) {
    for (size_t i = next_check.fetch_add(1); i < to_check.size(); i = next_check.fetch_add(1)) {
      File& f = *to_check[i];
      try {
        folder.Load(f.file);
        if (f.file.kind != FileRead::Kind::kReady) continue;
        f.checked.hash = FileHash(f.file.bytes, config);
        f.checked.campaign = CheckBytes(f.file.bytes, f.name, config);
      } catch (...) {
        // Worked out again at the file's turn, on the scanning thread, as before.
        f.checked = Checked{};
      }
    }
  }
  // Returns how many files are read and checked ahead: by the workers, and by the scanning
  // thread's help (Wait).
  size_t Start(const CampaignFolder& folder, const Config& config, size_t wanted_threads) {
    for (File& f : files) {
      if (f.read && f.file.kind == FileRead::Kind::kOpen) to_check.push_back(&f);
    }
    // One or two files (a running daemon's case): checked at their turn, no thread.
    if (to_check.size() <= 2) return 0;
    const size_t threads = std::min(CheckThreads(wanted_threads), to_check.size());
    for (size_t i = 0; i < threads; ++i) {
      try {
        workers.emplace_back([this, &folder, &config] { CheckSome(folder, config); });
      } catch (const std::system_error&) {
        break;  // what no worker checks is checked at its turn
      }
    }
    return workers.empty() ? 0 : to_check.size();
  }
  // The scanning thread helps with what the workers have not taken yet (the first batch
  // of a slice has no batch before it to write meanwhile), then joins them.
  void Wait(const CampaignFolder& folder, const Config& config) {
    if (!workers.empty()) CheckSome(folder, config);
    workers.clear();
  }
};

CampaignIngester::CampaignIngester(const Config& config, Store& store, RepeatHorizon horizon,
                                   FolderOptions folder, ScanLimits limits)
    : config_(config),
      store_(store),
      horizon_(horizon),
      limits_(limits),
      config_key_(ConfigKey(config)),
      folder_(config.campaigns_dir, folder) {}

void CampaignIngester::SetConfig(const Config& config) {
  const std::string key = ConfigKey(config);
  if (key != config_key_) config_changed_ = true;
  config_key_ = key;
  config_ = config;
  folder_.SetDir(config.campaigns_dir);
  if (scan_) Abandon();
}

void CampaignIngester::Abandon() {
  store_.RollbackBatch();
  batch_writes_ = 0;
  scan_.reset();
}

Status CampaignIngester::Load() {
  if (loaded_) return {};
  // Verdicts made under another config (changed while the daemon was stopped) are
  // made again.
  auto checked_under = store_.CheckedUnder();
  if (!checked_under) return std::unexpected(checked_under.error());
  if (*checked_under != config_key_) config_changed_ = true;
  auto rows = store_.IngestedFiles();
  if (!rows) return std::unexpected(rows.error());
  known_.clear();
  for (Store::IngestedFile& row : *rows) {
    Known k;
    k.status = row.status;
    k.campaign_id = std::move(row.campaign_id);
    k.hash = std::move(row.content_hash);
    k.last_error = std::move(row.last_error);
    k.facts = row.facts;
    known_.emplace(std::move(row.file), std::move(k));
  }
  loaded_ = true;
  return {};
}

Status CampaignIngester::OpenBatch() {
  if (store_.InBatch()) return {};
  return store_.BeginBatch();
}

Status CampaignIngester::CommitBatch() {
  batch_writes_ = 0;
  if (!store_.InBatch()) return {};
  return store_.CommitBatch();
}

Status CampaignIngester::FileFailed(const std::string& name, const Error& error,
                                    ScanReport& report) {
  if (!store_.InBatch()) return std::unexpected(error);  // the whole batch is lost
  report.errors.push_back(name + ": " + error.message);
  spdlog::error("campaign.write_failed file={} reason={}", LogValue(name), LogValue(error.message));
  return {};
}

Result<ScanReport> CampaignIngester::Scan(TimePoint now) {
  ScanReport total;
  while (true) {
    auto slice = ScanSlice(now);
    if (!slice) return slice;
    const bool more = slice->more;
    total.Add(std::move(*slice));
    if (!more) return total;
  }
}

Result<ScanReport> CampaignIngester::ScanSlice(TimePoint now) {
  ScanReport report;
  auto fail = [&](const Error& error) -> Result<ScanReport> {
    // Memory may be ahead of what landed: read the rows again next time.
    Abandon();
    loaded_ = false;
    return std::unexpected(error);
  };
  if (Status st = Load(); !st) return fail(st.error());
  if (!scan_) {
    if (Status st = Begin(now, report); !st) return fail(st.error());
    if (!scan_) return report;  // the folder is unavailable: nothing read, nothing cancelled
  }
  ScanState& scan = *scan_;
  ++scan.slices;
  if (Status st = VisitSlice(now, report); !st) return fail(st.error());
  if (scan.next < scan.snapshot.files.size()) {
    if (Status st = CommitBatch(); !st) return fail(st.error());
    report.more = true;
    scan.total.Add(report);
    return report;
  }
  if (Status st = EndScan(now, report); !st) return fail(st.error());
  return report;
}

Status CampaignIngester::VisitSlice(TimePoint now, ScanReport& report) {
  ScanState& scan = *scan_;
  const auto clock = [] { return std::chrono::steady_clock::now(); };
  const auto deadline = clock() + limits_.slice;
  const std::vector<ListedFile>& files = scan.snapshot.files;
  // Files this slice opens, counted as batches are planned (a batch ahead is planned
  // before the one before it has opened what it will).
  size_t planned_opens = 0;
  auto opens_left = [&]() -> size_t {
    if (limits_.slice_files == 0) return 0;
    return planned_opens >= limits_.slice_files ? 1 : limits_.slice_files - planned_opens;
  };
  // A batch is read, then checked on workers while the batch before it is written.
  std::unique_ptr<Batch> batch;
  std::unique_ptr<Batch> ahead;
  if (scan.next < files.size()) {
    batch = ReadAhead(scan.next, opens_left(), now);
    planned_opens += batch->opens;
  }
  std::chrono::steady_clock::duration last_apply{};
  while (batch) {
    batch->Wait(folder_, config_);
    const bool time_left = clock() + last_apply < deadline;
    if (batch->end < files.size() && !batch->opens_spent && time_left) {
      ahead = ReadAhead(batch->end, opens_left(), now);
      planned_opens += ahead->opens;
    }
    const auto applying = clock();
    for (Batch::File& f : batch->files) {
      Status st = Visit(files[f.index], f.read ? &f.file : nullptr, &f.checked, now, report);
      if (st) {
        ++scan.next;
        if (batch_writes_ >= limits_.batch_files) st = CommitBatch();
      }
      if (!st) {
        ahead.reset();  // its workers joined before the scan is dropped
        return st;
      }
    }
    last_apply = clock() - applying;
    batch = std::move(ahead);
  }
  return {};
}

Status CampaignIngester::EndScan(TimePoint now, ScanReport& report) {
  ScanState& scan = *scan_;
  if (Status st = Finish(now, report); !st) return st;
  if (scan.force) {
    if (Status st = OpenBatch(); !st) return st;
    if (Status st = store_.SetCheckedUnder(config_key_); !st) return st;
  }
  if (Status st = CommitBatch(); !st) return st;
  report.next_rescan = scan.next_look;
  scan.total.Add(report);
  const ScanReport& t = scan.total;
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - scan.started)
                      .count();
  const bool news = t.created + t.updated + t.moved + t.removed + t.rejected > 0;
  spdlog::log(news || scan.slices > 1 ? spdlog::level::info : spdlog::level::debug,
              "campaigns.scanned files={} read={} created={} updated={} moved={} removed={} "
              "rejected={} refused={} unsettled={} occurrences_added={} slices={} duration_ms={}",
              scan.snapshot.files.size(), folder_.opened() - scan.opened_before, t.created,
              t.updated, t.moved, t.removed, t.rejected, t.refused.size(), t.unsettled,
              t.occurrences_added, scan.slices, ms);
  config_changed_ = config_changed_ && !scan.force;
  scan_.reset();
  return {};
}

Status CampaignIngester::Begin(TimePoint now, ScanReport& report) {
  auto snapshot = folder_.List();
  // A folder gone since it was listed is unavailable; one never listed is an error.
  if (!snapshot && !(snapshot.error().Is(ErrorKind::kNotFound) && folder_.Known())) {
    return std::unexpected(snapshot.error());
  }
  if (auto hold = folder_.CheckAvailable(snapshot, known_.size(), now)) {
    return Hold(*hold, now, report);
  }
  ScanState& scan = scan_.emplace();
  scan.snapshot = std::move(*snapshot);
  scan.force = config_changed_;
  scan.started = std::chrono::steady_clock::now();
  scan.opened_before = folder_.opened();
  for (const ListedFile& file : scan.snapshot.files) scan.present.insert(file.name);
  // Names that cannot be shown are still files: their rows stay, their jobs are kept.
  for (const RefusedFile& file : scan.snapshot.refused) {
    scan.present.insert(file.name);
    if (Status st = Refuse(file.name, file.reason, now, report); !st) return st;
  }
  return {};
}

Status CampaignIngester::Hold(const FolderHold& hold, TimePoint now, ScanReport& report) {
  report.unavailable = hold.reason;
  const std::string reason = "campaigns_dir unavailable since " + FormatRfc3339(hold.since) +
                             ": it " + hold.reason +
                             "; jobs kept (to take the folder as it is: "
                             "touch " +
                             kConfirmFolderMarker + " in it)";
  for (auto& [name, known] : known_) {
    if (known.status == CampaignStatus::kRefused && known.last_error == reason) continue;
    if (Status st = OpenBatch(); !st) return st;
    ++batch_writes_;
    if (auto changed = store_.RefuseFile(name, reason, now); !changed) {
      if (Status st = FileFailed(name, changed.error(), report); !st) return st;
      continue;
    }
    ResetKnown(name, CampaignStatus::kRefused).last_error = reason;
  }
  return CommitBatch();
}

CampaignIngester::VisitPlan CampaignIngester::PlanVisit(const ListedFile& file) const {
  VisitPlan plan;
  if (!file.refusal.empty()) {
    plan.kind = VisitPlan::Kind::kRefuse;
    return plan;
  }
  auto known = known_.find(file.name);
  const bool same_stamp = known != known_.end() && known->second.facts.stamp &&
                          *known->second.facts.stamp == file.stamp &&
                          known->second.status != CampaignStatus::kRefused;
  if (same_stamp && !scan_->force && !known->second.facts.recheck) {
    const Known& k = known->second;
    plan.kind = VisitPlan::Kind::kUnchanged;
    plan.opens = k.status == CampaignStatus::kOk && k.facts.repeats && !k.campaign;
    return plan;
  }
  // A file whose stamp matches was settled when it was read: no settle time for it.
  plan.settle = !same_stamp;
  plan.opens = true;
  return plan;
}

std::unique_ptr<CampaignIngester::Batch> CampaignIngester::ReadAhead(size_t from, size_t opens_left,
                                                                     TimePoint now) {
  ScanState& scan = *scan_;
  const std::vector<ListedFile>& files = scan.snapshot.files;
  auto batch = std::make_unique<Batch>();
  size_t reads = 0;
  size_t i = from;
  while (i < files.size() && batch->files.size() < kBatchFiles && reads < kBatchReads) {
    const ListedFile& listed = files[i];
    const VisitPlan plan = PlanVisit(listed);
    Batch::File& f = batch->files.emplace_back();
    f.index = i++;
    if (plan.kind == VisitPlan::Kind::kRead) {
      f.name = listed.name;
      f.read = true;
      f.file = folder_.Open(scan.snapshot.dir.get(), listed, now, plan.settle);
      ++reads;
    }
    if (plan.opens && ++batch->opens >= opens_left && opens_left > 0) {
      batch->opens_spent = true;
      break;
    }
  }
  batch->end = i;
  checked_ahead_ += batch->Start(folder_, config_, limits_.check_threads);
  return batch;
}

Status CampaignIngester::Visit(const ListedFile& file, FileRead* ahead, Checked* checked,
                               TimePoint now, ScanReport& report) {
  ScanState& scan = *scan_;
  const std::string& name = file.name;
  const VisitPlan plan = PlanVisit(file);
  if (plan.kind == VisitPlan::Kind::kRefuse) return Refuse(name, file.refusal, now, report);
  if (plan.kind == VisitPlan::Kind::kUnchanged) {
    // Read before and not changed since: not opened, the store not touched.
    Known& k = known_.at(name);
    ++report.unchanged;
    if (k.status == CampaignStatus::kOk && k.facts.repeats) return Extend(name, k, now, report);
    return {};
  }
  FileRead read = ahead != nullptr ? folder_.Finish(name, std::move(*ahead), now)
                                   : folder_.Read(scan.snapshot.dir.get(), name, now, plan.settle);
  switch (read.kind) {
    case FileRead::Kind::kGone:
      scan.present.erase(name);
      return {};
    case FileRead::Kind::kRefused:
      return Refuse(name, read.reason, now, report);
    case FileRead::Kind::kOpen:  // never: Read and Finish read an open file
    case FileRead::Kind::kUnsettled:
      if (read.writing_since && *read.writing_since + folder_.options().writing_bound <= now) {
        // Still not read, and now shown (refused keeps its earlier jobs) and logged once.
        return Refuse(name,
                      "being written since " + FormatRfc3339(*read.writing_since) +
                          " (held open for writing; read once its writer closes it)",
                      now, report);
      }
      ++report.unsettled;
      if (!scan.next_look || read.look_again < *scan.next_look) scan.next_look = read.look_again;
      spdlog::debug("campaign.unsettled file={} look_again={}", LogValue(name),
                    FormatRfc3339(read.look_again));
      return {};
    case FileRead::Kind::kReady:
      break;
  }
  return Ingest(name, read, checked != nullptr ? std::move(*checked) : Checked{}, now, report);
}

Status CampaignIngester::Ingest(const std::string& name, const FileRead& read, Checked checked,
                                TimePoint now, ScanReport& report) {
  const std::string& bytes = read.bytes;
  if (!checked.campaign) checked.hash = FileHash(bytes, config_);
  const std::string& hash = checked.hash;
  Store::FileFacts facts;
  if (read.stable) facts.stamp = read.stamp;
  auto known = known_.find(name);
  if (!scan_->force && known != known_.end() && known->second.facts.stamp &&
      known->second.status != CampaignStatus::kRefused && known->second.hash == hash &&
      !known->second.facts.recheck) {
    // The same bytes under a new stamp (touched, copied over, read too soon after a
    // write): nothing to check, only the stamp to keep.
    Known& k = known->second;
    ++report.unchanged;
    facts.repeats = k.facts.repeats;
    if (k.status == CampaignStatus::kOk && k.facts.repeats && !k.campaign) {
      if (!checked.campaign) checked.campaign = CheckBytes(bytes, name, config_);
      if (*checked.campaign) {
        k.campaign = std::make_shared<const Campaign>(std::move(**checked.campaign));
      }
    }
    if (facts.stamp != k.facts.stamp) {
      if (Status st = OpenBatch(); !st) return st;
      ++batch_writes_;
      if (Status st = store_.SetFileFacts(name, facts); !st) {
        return FileFailed(name, st.error(), report);
      }
      k.facts = facts;
    }
    if (k.status == CampaignStatus::kOk && k.facts.repeats) return Extend(name, k, now, report);
    return {};
  }
  if (!checked.campaign) checked.campaign = CheckBytes(bytes, name, config_);
  return WriteCampaign(name, bytes, hash, std::move(*checked.campaign), facts, read.stamp.mtime_ns,
                       /*last_round=*/false, now, report);
}

Status CampaignIngester::Finish(TimePoint now, ScanReport& report) {
  ScanState& scan = *scan_;
  // Files whose id another listed file held: that file may have given it up since.
  std::vector<Waiting> waiting = std::move(scan.waiting);
  for (Waiting& w : waiting) {
    if (Status st =
            WriteCampaign(w.name, w.bytes, w.hash, std::move(w.campaign), w.facts, w.mtime_ns,
                          /*last_round=*/true, now, report);
        !st) {
      return st;
    }
  }
  // Files with a row that the listing did not show are gone.
  std::vector<std::string> gone;
  for (const auto& [name, known] : known_) {
    if (!scan.present.contains(name)) gone.push_back(name);
  }
  for (const std::string& name : gone) {
    const std::string campaign_id = known_.at(name).campaign_id;
    if (Status st = OpenBatch(); !st) return st;
    ++batch_writes_;
    auto cancelled = store_.RemoveCampaign(name, now);
    if (!cancelled) {
      if (Status st = FileFailed(name, cancelled.error(), report); !st) return st;
      continue;
    }
    ++report.removed;
    spdlog::info("campaign.removed file={} id={} cancelled_jobs={}", LogValue(name),
                 LogValue(campaign_id), *cancelled);
    known_.erase(name);
  }
  // A refused file is looked at afresh once it may be read.
  std::set<std::string> settling = std::move(scan.present);
  for (const RefusedFile& file : scan.total.refused) settling.erase(file.name);
  for (const RefusedFile& file : report.refused) settling.erase(file.name);
  // A file written while the scan ran, after the listing, keeps its mark for the next one.
  settling.insert(scan.marked.begin(), scan.marked.end());
  folder_.KeepOnly(settling);
  return {};
}

CampaignIngester::Known& CampaignIngester::ResetKnown(const std::string& name,
                                                      CampaignStatus status) {
  Known& k = known_[name];
  std::string held = std::move(k.campaign_id);  // a campaign it holds stays held
  k = Known{};
  k.campaign_id = std::move(held);
  k.status = status;
  return k;
}

Status CampaignIngester::Refuse(const std::string& name, const std::string& reason, TimePoint now,
                                ScanReport& report) {
  report.refused.push_back(RefusedFile{name, reason});
  auto known = known_.find(name);
  if (known != known_.end() && known->second.status == CampaignStatus::kRefused &&
      known->second.last_error == reason) {
    return {};  // said already, and the row says it
  }
  if (Status st = OpenBatch(); !st) return st;
  ++batch_writes_;
  auto changed = store_.RefuseFile(name, reason, now);
  if (!changed) return FileFailed(name, changed.error(), report);
  // Read again from scratch once it is readable.
  Known& k = ResetKnown(name, CampaignStatus::kRefused);
  k.last_error = reason;
  if (*changed) {
    report.errors.push_back(name + ": " + reason);
    spdlog::warn("campaign.refused file={} reason={}", LogValue(name), LogValue(reason));
  }
  return {};
}

Status CampaignIngester::Reject(const std::string& name, const std::string& hash,
                                const std::vector<std::string>& errors, Store::FileFacts facts,
                                TimePoint now, ScanReport& report) {
  if (Status st = OpenBatch(); !st) return st;
  ++batch_writes_;
  facts.repeats = false;
  auto changed = store_.RejectCampaign(name, hash, JoinLines(errors), now, facts);
  if (!changed) return FileFailed(name, changed.error(), report);
  Known& k = ResetKnown(name, CampaignStatus::kRejected);
  k.hash = hash;
  k.last_error = JoinLines(errors);
  k.facts = facts;
  if (*changed) {
    ++report.rejected;
    for (const auto& line : errors) {
      report.errors.push_back(line);
      spdlog::error("campaign.rejected file={} reason={}", LogValue(name), LogValue(line));
    }
  } else {
    ++report.unchanged;
  }
  return {};
}

Result<CampaignIngester::IdHolder> CampaignIngester::HolderFor(const std::string& name,
                                                               const std::string& id) {
  auto holder = store_.HolderOf(id);
  if (!holder) return std::unexpected(holder.error());
  IdHolder found;
  if (!*holder || **holder == name) return found;
  if (scan_->present.contains(**holder)) {
    found.taken_by = **holder;
  } else {
    found.replaces = **holder;
  }
  return found;
}

Result<std::optional<JobPlan>> CampaignIngester::Plan(const std::string& name,
                                                      const Campaign& campaign, int64_t mtime_ns,
                                                      TimePoint now, ScanReport& report) {
  std::map<std::string, TimePoint> from_by_broadcast;
  for (const Broadcast& b : campaign.broadcasts) {
    if (!b.repeat) continue;
    auto earliest = store_.EarliestPending(campaign.id, b.name);
    if (!earliest) return std::unexpected(earliest.error());
    if (*earliest) from_by_broadcast[b.name] = **earliest;
  }
  auto plan = PlanJobs(campaign, campaign.app, MillisOf(mtime_ns), config_.max_delay, now,
                       from_by_broadcast, now + horizon_.ahead, horizon_.max_per_pass);
  if (!plan) {
    report.errors.push_back(name + ": " + plan.error().message);
    spdlog::error("campaign.plan_failed file={} reason={}", LogValue(name),
                  LogValue(plan.error().message));
    return std::nullopt;
  }
  return std::move(*plan);
}

Status CampaignIngester::Written(const std::string& name, const Campaign& campaign,
                                 const std::string& hash, const Store::FileFacts& facts,
                                 const JobPlan& plan, Store::ApplyEffect effect,
                                 const std::string& replaces, TimePoint now, ScanReport& report) {
  Known& k = known_[name];
  k = Known{};
  k.status = CampaignStatus::kOk;
  k.campaign_id = campaign.id;
  k.hash = hash;
  k.facts = facts;
  if (facts.repeats) {
    k.campaign = std::make_shared<const Campaign>(campaign);
    k.next_occurrence = plan.next_occurrence;
    k.horizon_known = true;
  }
  switch (effect) {
    case Store::ApplyEffect::kUnchanged:
      // Same content as the store already has: only the repeat horizon may move.
      ++report.unchanged;
      if (facts.repeats) {
        k.horizon_known = false;
        return Extend(name, k, now, report);
      }
      break;
    case Store::ApplyEffect::kCreated:
      ++report.created;
      spdlog::info("campaign.accepted file={} id={} jobs={}", LogValue(name), LogValue(campaign.id),
                   plan.jobs.size());
      break;
    case Store::ApplyEffect::kUpdated:
      ++report.updated;
      spdlog::info("campaign.updated file={} id={} jobs={}", LogValue(name), LogValue(campaign.id),
                   plan.jobs.size());
      break;
    case Store::ApplyEffect::kMoved:
      ++report.moved;
      known_.erase(replaces);
      spdlog::info("campaign.moved file={} from={} id={} jobs={}", LogValue(name),
                   LogValue(replaces), LogValue(campaign.id), plan.jobs.size());
      break;
  }
  return {};
}

Status CampaignIngester::WriteCampaign(const std::string& name, const std::string& bytes,
                                       const std::string& hash, CampaignCheck campaign,
                                       Store::FileFacts facts, int64_t mtime_ns, bool last_round,
                                       TimePoint now, ScanReport& report) {
  facts.recheck = false;
  if (!campaign) return Reject(name, hash, campaign.error(), facts, now, report);

  // A campaign id names one file at a time. Held by a file gone from the folder, the
  // campaign moves here; held by a listed one, that file keeps it.
  auto holder = HolderFor(name, campaign->id);
  if (!holder) return std::unexpected(holder.error());
  if (!holder->taken_by.empty()) {
    if (!last_round) {
      scan_->waiting.push_back(Waiting{name, bytes, hash, *campaign, facts, mtime_ns});
      return {};
    }
    facts.recheck = true;
    return Reject(name, hash, {IdTaken(name, bytes, campaign->id, holder->taken_by)}, facts, now,
                  report);
  }
  auto plan = Plan(name, *campaign, mtime_ns, now, report);
  if (!plan) return std::unexpected(plan.error());
  if (!*plan) return {};  // refused, and reported
  facts.repeats = Repeats(*campaign);

  if (Status st = OpenBatch(); !st) return st;
  ++batch_writes_;
  Store::CampaignFile file{
      name, campaign->id, hash, campaign->app, campaign->priority, holder->replaces, facts};
  auto effect = store_.ApplyCampaign(file, (*plan)->jobs, (*plan)->covered_from, now);
  if (!effect && effect.error().Is(ErrorKind::kConflict) && store_.InBatch()) {
    // Another process took the id between our look and the write.
    auto again = store_.HolderOf(campaign->id);
    if (!again) return std::unexpected(again.error());
    std::string error = IdTaken(name, bytes, campaign->id, again->value_or("another file"));
    facts.recheck = true;
    return Reject(name, hash, {error}, facts, now, report);
  }
  if (!effect) return FileFailed(name, effect.error(), report);
  return Written(name, *campaign, hash, facts, **plan, *effect, holder->replaces, now, report);
}

Status CampaignIngester::Extend(const std::string& name, Known& known, TimePoint now,
                                ScanReport& report) {
  if (!known.campaign) {
    // After a restart: the campaign of a file known unchanged, read once to move its
    // horizon from now on.
    FileRead read = folder_.Read(scan_->snapshot.dir.get(), name, now, /*settle=*/false);
    CampaignCheck campaign = std::unexpected(std::vector<std::string>{});
    if (read.kind == FileRead::Kind::kReady && FileHash(read.bytes, config_) == known.hash) {
      campaign = CheckBytes(read.bytes, name, config_);
    }
    if (!campaign) {
      // Not what was read before after all: read it as a changed file next scan.
      known.facts.stamp.reset();
      return {};
    }
    known.campaign = std::make_shared<const Campaign>(std::move(*campaign));
  }
  const TimePoint to = now + horizon_.ahead;
  if (known.horizon_known && (!known.next_occurrence || *known.next_occurrence > to)) return {};
  auto plan = PlanJobs(*known.campaign, known.campaign->app, now, config_.max_delay, now, {}, to,
                       horizon_.max_per_pass);
  if (!plan) {
    report.errors.push_back(name + ": " + plan.error().message);
    return {};
  }
  std::erase_if(plan->jobs,
                [](const Store::JobSpec& j) { return j.occurrence == kOnceOccurrence; });
  if (!plan->jobs.empty()) {
    if (Status st = OpenBatch(); !st) return st;
    ++batch_writes_;
    auto added = store_.AddMissingJobs(name, plan->jobs, now);
    if (!added) return FileFailed(name, added.error(), report);
    report.occurrences_added += *added;
  }
  known.next_occurrence = plan->next_occurrence;
  known.horizon_known = true;
  return {};
}

}  // namespace broadcastd
