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
std::string ConfigKey(const Config& config, const std::string& signers_digest) {
  std::string key = config.campaigns_dir.string();
  for (const auto& [name, _] : config.apps) key += '\n' + name;
  key += "\nmax_delay " + FormatMaxDelay(config.max_delay);
  // Signed campaigns: the signers each target needs, and the signers files' bytes.
  if (config.signatures) {
    key += "\nsignatures " + signers_digest;
    for (const auto& [target, n] : config.signatures->required) {
      key += ' ' + std::string(TargetName(target)) + '=' + std::to_string(n);
    }
  }
  return key;
}

// The verdicts on a file's signatures: ssh-keygen's (on a checker thread), or only those
// kept when `kept_only` (the scanning thread), then nullopt if one is not.
std::optional<std::vector<FileSignature>> VerifySignatures(
    SignatureVerifier* verifier, const std::string& verifier_error, const std::string& bytes,
    const std::vector<CampaignIngester::SignatureFileRead>& files, bool kept_only) {
  std::vector<FileSignature> verdicts;
  for (const auto& f : files) {
    FileSignature s{f.name, {}};
    if (!f.refusal.empty()) {
      s.check.reason = "refused: " + f.refusal;
    } else if (verifier == nullptr) {
      s.check.reason = verifier_error;
    } else if (kept_only) {
      auto kept = verifier->Cached(verifier->KeyOf(bytes, f.bytes));
      if (!kept) return std::nullopt;
      s.check = *kept;
    } else {
      s.check = verifier->Verify(bytes, f.bytes);
    }
    verdicts.push_back(std::move(s));
  }
  return verdicts;
}

// The verdicts, and the signers each target needs, as part of a file's version
// (Store::ApplyCampaign's hash): a change of either judges the campaign again.
std::string WithSignatures(const std::string& hash, const SignatureConfig& config,
                           const std::vector<FileSignature>& verdicts) {
  std::string text = hash + "\nsignatures";
  for (const auto& [target, n] : config.required) {
    text += ' ' + std::string(TargetName(target)) + '=' + std::to_string(n);
  }
  for (const FileSignature& s : verdicts) text += '\n' + s.name + '\t' + EncodeCheck(s.check);
  return ContentHash(text);
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
  // Signed campaigns: signatures are checked with the files, on workers only (ssh-keygen
  // never runs on the scanning thread).
  bool signatures = false;
  SignatureVerifier* verifier = nullptr;
  std::string verifier_error;
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
        if (signatures) {
          f.checked.signatures = VerifySignatures(verifier, verifier_error, f.file.bytes,
                                                  f.checked.signature_files, false);
        }
      } catch (...) {
        // Worked out again at the file's turn, on the scanning thread, as before.
        f.checked.hash.clear();
        f.checked.campaign.reset();
        f.checked.signatures.reset();
      }
    }
  }
  // Returns how many files are read and checked ahead: by the workers, and by the scanning
  // thread's help (Wait).
  size_t Start(const CampaignFolder& folder, const Config& config, size_t wanted_threads) {
    for (File& f : files) {
      if (f.read && f.file.kind == FileRead::Kind::kOpen) to_check.push_back(&f);
    }
    // One or two files (a running daemon's case): checked at their turn, no thread; but
    // signatures are checked on a thread, however few.
    if (to_check.empty() || (to_check.size() <= 2 && !signatures)) return 0;
    // ssh-keygen's runs wait on process start-up more than on a core: a few more threads.
    const size_t wanted = signatures ? std::max<size_t>(CheckThreads(wanted_threads), 4)
                                     : CheckThreads(wanted_threads);
    const size_t threads = std::min(wanted, to_check.size());
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
    if (!workers.empty() && !signatures) CheckSome(folder, config);
    workers.clear();
  }
};

CampaignIngester::CampaignIngester(const Config& config, Store& store, RepeatHorizon horizon,
                                   FolderOptions folder, ScanLimits limits)
    : config_(config),
      store_(store),
      horizon_(horizon),
      limits_(limits),
      folder_(config.campaigns_dir, folder) {
  MakeVerifier();
  config_key_ = ConfigKey(config_, verifier_ ? verifier_->signers_digest() : verifier_error_);
}

void CampaignIngester::MakeVerifier() {
  verifier_.reset();
  verifier_error_.clear();
  if (!config_.signatures) return;
  auto verifier = SignatureVerifier::Create(*config_.signatures);
  if (!verifier) {
    // Nothing is signed until it can be read: every campaign that needs signers waits.
    verifier_error_ = "not checked: " + verifier.error().message;
    spdlog::error("signatures.unavailable reason={} action={}", LogValue(verifier.error().message),
                  LogValue("campaigns that need signers wait until it can be read (reload)"));
    return;
  }
  verifier_ = std::move(*verifier);
}

void CampaignIngester::SetConfig(const Config& config) {
  config_ = config;
  MakeVerifier();
  const std::string key =
      ConfigKey(config_, verifier_ ? verifier_->signers_digest() : verifier_error_);
  if (key != config_key_) config_changed_ = true;
  config_key_ = key;
  folder_.SetDir(config.campaigns_dir);
  if (scan_) Abandon();
  signatures_synced_ = false;  // the kept verdicts, or the holds to clear, read again
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

Status CampaignIngester::SyncSignatures() {
  if (signatures_synced_) return {};
  if (!config_.signatures) {
    // Signatures are off: no campaign waits for them.
    auto cleared = store_.ClearCampaignSignatures();
    if (!cleared) return std::unexpected(cleared.error());
    if (*cleared > 0) spdlog::info("signatures.off released_campaigns={}", *cleared);
  } else if (verifier_) {
    auto kept = store_.SignatureChecks();
    if (!kept) return std::unexpected(kept.error());
    for (const auto& [key, verdict] : *kept) {
      if (auto check = DecodeCheck(verdict)) verifier_->Remember(key, *check);
    }
  }
  signatures_synced_ = true;
  return {};
}

Status CampaignIngester::OpenBatch() {
  if (store_.InBatch()) return {};
  return store_.BeginBatch();
}

Status CampaignIngester::CommitBatch() {
  batch_writes_ = 0;
  if (!store_.InBatch()) return {};
  if (verifier_) {
    // The verdicts worked out since, kept with the writes they led to.
    std::vector<std::pair<std::string, std::string>> fresh;
    for (auto& [key, check] : verifier_->TakeNew()) fresh.emplace_back(key, EncodeCheck(check));
    if (Status st = store_.AddSignatureChecks(fresh, scan_now_); !st) {
      spdlog::warn("signatures.not_kept reason={}", LogValue(st.error().message));
    }
  }
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
  scan_now_ = now;
  auto fail = [&](const Error& error) -> Result<ScanReport> {
    // Memory may be ahead of what landed: read the rows again next time.
    Abandon();
    loaded_ = false;
    return std::unexpected(error);
  };
  if (Status st = Load(); !st) return fail(st.error());
  if (Status st = SyncSignatures(); !st) return fail(st.error());
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
  for (const ListedFile& file : scan.snapshot.files) {
    scan.present.insert(file.name);
    // Their settle time is kept like the file's (Finish keeps what is present).
    for (const ListedFile& sig : file.signatures) scan.present.insert(sig.name);
  }
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
  // Signed campaigns: a signature added, removed or changed is a change of the file.
  const bool same_signatures = !config_.signatures || known == known_.end() ||
                               known->second.signature_stamp == SignatureStamp(file);
  if (same_stamp && same_signatures && !scan_->force && !known->second.facts.recheck) {
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
      if (config_.signatures) ReadSignatures(listed, now, f.checked);
      ++reads;
    }
    if (plan.opens && ++batch->opens >= opens_left && opens_left > 0) {
      batch->opens_spent = true;
      break;
    }
  }
  batch->end = i;
  batch->signatures = config_.signatures.has_value();
  batch->verifier = verifier_.get();
  batch->verifier_error = verifier_error_;
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
  Checked check = checked != nullptr ? std::move(*checked) : Checked{};
  if (SignaturesPending(check, read.bytes, now, report)) return {};
  if (Status st = Ingest(name, read, std::move(check), now, report); !st) return st;
  if (auto k = known_.find(name); k != known_.end())
    k->second.signature_stamp = SignatureStamp(file);
  return {};
}

bool CampaignIngester::SignaturesPending(Checked& check, const std::string& bytes, TimePoint now,
                                         ScanReport& report) {
  if (!config_.signatures) return false;
  if (!check.signatures && !check.signatures_unsettled) {
    // Not checked on a worker: the kept verdicts only, else a look again soon (ssh-keygen
    // never runs on this thread).
    check.signatures = VerifySignatures(verifier_.get(), verifier_error_, bytes,
                                        check.signature_files, /*kept_only=*/true);
    if (!check.signatures) check.signatures_unsettled = now + std::chrono::seconds(1);
  }
  if (!check.signatures_unsettled) return false;
  // A signature being written, or not checked yet: what the store has stays.
  ++report.unsettled;
  std::optional<TimePoint>& next_look = scan_->next_look;
  if (!next_look || *check.signatures_unsettled < *next_look) {
    next_look = check.signatures_unsettled;
  }
  return true;
}

Status CampaignIngester::Ingest(const std::string& name, const FileRead& read, Checked checked,
                                TimePoint now, ScanReport& report) {
  const std::string& bytes = read.bytes;
  if (!checked.campaign) checked.hash = FileHash(bytes, config_);
  const std::vector<FileSignature> signatures =
      checked.signatures.value_or(std::vector<FileSignature>{});
  if (config_.signatures) {
    checked.hash = WithSignatures(checked.hash, *config_.signatures, signatures);
  }
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
                       /*last_round=*/false, signatures, now, report);
}

Status CampaignIngester::Finish(TimePoint now, ScanReport& report) {
  ScanState& scan = *scan_;
  // Files whose id another listed file held: that file may have given it up since.
  std::vector<Waiting> waiting = std::move(scan.waiting);
  for (Waiting& w : waiting) {
    if (Status st =
            WriteCampaign(w.name, w.bytes, w.hash, std::move(w.campaign), w.facts, w.mtime_ns,
                          /*last_round=*/true, w.signatures, now, report);
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
                                       const std::vector<FileSignature>& signatures, TimePoint now,
                                       ScanReport& report) {
  facts.recheck = false;
  if (!campaign) return Reject(name, hash, campaign.error(), facts, now, report);

  // A campaign id names one file at a time. Held by a file gone from the folder, the
  // campaign moves here; held by a listed one, that file keeps it.
  auto holder = HolderFor(name, campaign->id);
  if (!holder) return std::unexpected(holder.error());
  if (!holder->taken_by.empty()) {
    if (!last_round) {
      scan_->waiting.push_back(Waiting{name, bytes, hash, *campaign, facts, mtime_ns, signatures});
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
  if (config_.signatures && *effect != Store::ApplyEffect::kUnchanged) {
    if (Status st = RecordSignatures(name, *campaign, signatures, now); !st) {
      return FileFailed(name, st.error(), report);
    }
  }
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

namespace broadcastd {

void CampaignIngester::ReadSignatures(const ListedFile& file, TimePoint now, Checked& checked) {
  for (const ListedFile& sig : file.signatures) {
    SignatureFileRead read{sig.name, "", sig.refusal};
    if (read.refusal.empty()) {
      // Under the file's rules: trusted, never while a writer holds it, settled.
      FileRead got = folder_.Read(scan_->snapshot.dir.get(), sig.name, now, /*settle=*/true);
      switch (got.kind) {
        case FileRead::Kind::kGone:
          continue;
        case FileRead::Kind::kRefused:
          read.refusal = got.reason;
          break;
        case FileRead::Kind::kOpen:  // never: Read reads an open file
        case FileRead::Kind::kUnsettled:
          if (!checked.signatures_unsettled || got.look_again < *checked.signatures_unsettled) {
            checked.signatures_unsettled = got.look_again;
          }
          continue;
        case FileRead::Kind::kReady:
          read.bytes = std::move(got.bytes);
          break;
      }
    }
    checked.signature_files.push_back(std::move(read));
  }
}

Status CampaignIngester::RecordSignatures(const std::string& name, const Campaign& campaign,
                                          const std::vector<FileSignature>& signatures,
                                          TimePoint now) {
  std::set<BroadcastTarget> targets;
  for (const Broadcast& b : campaign.broadcasts) targets.insert(b.target);
  const SignatureJudgement judgement = JudgeSignatures(targets, *config_.signatures, signatures);
  Store::CampaignSignatures row;
  row.signers = judgement.SignersLine();
  row.problems = JoinLines(judgement.problems);
  row.held = judgement.hold;
  if (Status st = store_.SetCampaignSignatures(campaign.id, row, now); !st) return st;
  for (const std::string& problem : judgement.problems) {
    spdlog::warn("signature.not_counted file={} id={} reason={}", LogValue(name),
                 LogValue(campaign.id), LogValue(problem));
  }
  if (judgement.hold) {
    spdlog::warn("campaign.unsigned file={} id={} reason={} action={}", LogValue(name),
                 LogValue(campaign.id), LogValue(*judgement.hold),
                 LogValue("its jobs wait until enough people sign the file (ssh-keygen -Y sign -n "
                          "broadcastd)"));
  } else {
    spdlog::info("campaign.signed file={} id={} signers={}", LogValue(name), LogValue(campaign.id),
                 LogValue(row.signers));
  }
  return {};
}

}  // namespace broadcastd
