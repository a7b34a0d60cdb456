#include "engine_run.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <stdexcept>
#include <variant>

#include "core/time_format.h"
#include "daemon/engine.h"
#include "fakes/fake_clock.h"
#include "fakes/test_config.h"
#include "rebuild/scheduler_state.h"

namespace broadcastd {
namespace {

namespace fs = std::filesystem;
using std::chrono::days;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

Duration Uniform(std::mt19937_64& rng, Duration lo, Duration hi) {
  return Duration{std::uniform_int_distribution<int64_t>(lo.count(), hi.count())(rng)};
}

template <class T>
T Pick(std::mt19937_64& rng, const std::vector<T>& from) {
  return from[std::uniform_int_distribution<size_t>(0, from.size() - 1)(rng)];
}

bool Chance(std::mt19937_64& rng, double p) { return std::bernoulli_distribution(p)(rng); }

}  // namespace

Workload RandomWorkload(uint64_t seed) {
  std::mt19937_64 rng(seed);
  Workload w;
  w.options.safety_margin = Pick<Duration>(rng, {Duration{0}, Duration{250}, Duration{500}});
  w.options.day_boundary =
      Pick<Duration>(rng, {Duration{0}, hours(8), -hours(5), hours(13) + minutes(30)});
  w.options.backoff_base = Pick<Duration>(rng, {seconds(1), Duration{250}, Duration{0}});
  w.options.backoff_cap = Pick<Duration>(rng, {minutes(15), seconds(10)});
  w.options.seed = rng();
  w.start = FromMillis(1'803'859'200'000) + Uniform(rng, Duration{0}, days(1));

  const int apps = 1 + static_cast<int>(rng() % 3);
  std::vector<EndpointKey> endpoints;
  for (int a = 0; a < apps; ++a) {
    for (BroadcastTarget target : kAllTargets) {
      EndpointKey key{"app" + std::to_string(a), target};
      endpoints.push_back(key);
      EndpointLimits limits = DefaultLimits(target);
      if (Chance(rng, 0.5)) {
        switch (target) {
          case BroadcastTarget::kUsers:
            limits.daily = 1 + static_cast<int>(rng() % 4);
            break;
          case BroadcastTarget::kOnlineUsers:
            limits.daily = 2 + static_cast<int>(rng() % 59);
            break;
          case BroadcastTarget::kChatrooms:
            limits.daily = 3 + static_cast<int>(rng() % 118);
            break;
        }
      }
      w.limits[key] = limits;
    }
  }

  const int jobs = Chance(rng, 0.1) ? 100 + static_cast<int>(rng() % 200)  // a big backlog
                                    : 1 + static_cast<int>(rng() % 40);
  for (int i = 1; i <= jobs; ++i) {
    SubmittedJob job;
    job.id = i;
    job.endpoint = Pick(rng, endpoints);
    job.priority = static_cast<int64_t>(rng() % 4);
    job.arrival = w.start + (Chance(rng, 0.3) ? Duration{0} : Uniform(rng, Duration{0}, days(2)));
    job.due = Chance(rng, 0.4) ? job.arrival - Uniform(rng, Duration{0}, hours(2))
                               : job.arrival + Uniform(rng, Duration{0}, days(3));
    if (Chance(rng, 0.5)) {
      job.expires = job.due + Uniform(rng, -hours(1), days(2));
      // An expiry at or before the send time: the file names no send_at (due when read),
      // and the job may have expired before it arrives.
      if (*job.expires <= job.due) job.due = job.arrival;
    }
    w.jobs.push_back(job);
  }
  return w;
}

FakeServer RandomServer(uint64_t seed) {
  auto rng = std::make_shared<std::mt19937_64>(seed);
  return [rng](const QueuedJob&, TimePoint) -> AttemptResult {
    const int p = static_cast<int>((*rng)() % 1000);
    if (p < 750) return {OutcomeClass::kSent, 200, std::nullopt};
    if (p < 830) {
      std::optional<Duration> retry_after;
      if (Chance(*rng, 0.5)) {
        retry_after =
            Pick<Duration>(*rng, {-seconds(5), seconds(3), seconds(90), minutes(10), hours(5)});
      }
      return {OutcomeClass::kRetry, 429, retry_after};
    }
    if (p < 870) return {OutcomeClass::kNextDay, 403, std::nullopt};
    if (p < 900) {
      return {OutcomeClass::kUnknown, 503,
              Chance(*rng, 0.3) ? std::optional<Duration>(seconds(30)) : std::nullopt};
    }
    if (p < 930) return {OutcomeClass::kPermanent, 400, std::nullopt};
    if (p < 965) return {OutcomeClass::kRetry, std::nullopt, std::nullopt};  // refused
    if (p < 970) return {OutcomeClass::kUnopened, 403, std::nullopt};
    return {OutcomeClass::kSent, 200, std::nullopt};
  };
}

FakeServer SuccessServer() {
  return [](const QueuedJob&, TimePoint) -> AttemptResult {
    return {OutcomeClass::kSent, 200, std::nullopt};
  };
}

namespace {

// The run's folder: on /dev/shm when there is one (the store syncs every commit, and
// a run commits thousands of times), else under the test's temporary directory.
class RunFolder {
 public:
  RunFolder() {
    const fs::path base =
        fs::is_directory("/dev/shm") ? fs::path("/dev/shm") : fs::path(::testing::TempDir());
    std::string pattern = (base / "bd-engine-run-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~RunFolder() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  RunFolder(const RunFolder&) = delete;
  RunFolder& operator=(const RunFolder&) = delete;

  const fs::path& path() const { return path_; }
  void Write(const fs::path& name, const std::string& content) const {
    fs::create_directories((path_ / name).parent_path());
    std::ofstream(path_ / name, std::ios::binary | std::ios::trunc) << content;
  }

 private:
  fs::path path_;
};

constexpr std::string_view kJobMark = "wjob-";
constexpr std::string_view kHistoryMark = "hist-";

// The vendor as the fake server answers it: the job is known by the message text of
// its campaign file (wjob-<id>, or hist-<n> for an attempt of the history).
class ServerTransport final : public HttpTransport {
 public:
  ServerTransport(const Workload& workload, const FakeServer& server, const Clock& clock)
      : server_(server), clock_(clock) {
    for (const SubmittedJob& s : workload.jobs) {
      jobs_[s.id] = QueuedJob{s.id, s.endpoint, s.priority, s.due, s.expires, std::nullopt};
    }
    for (const LoggedAttempt& a : workload.history) {
      AttemptResult result = a.result;  // a success names its status or not: 200
      if (result.outcome == OutcomeClass::kSent && !result.http_status) result.http_status = 200;
      history_.push_back(result);
    }
  }

  TransportResult Send(const HttpRequest& request) override {
    AttemptResult answer{OutcomeClass::kPermanent, 400, std::nullopt};
    if (auto id = Mark(request.body, kJobMark); id && jobs_.contains(*id)) {
      answer = server_(jobs_.at(*id), clock_.Now());
    } else if (auto n = Mark(request.body, kHistoryMark);
               n && *n >= 0 && *n < static_cast<int64_t>(history_.size())) {
      answer = history_[static_cast<size_t>(*n)];
    }
    TransportResult result;
    result.retry_after = answer.retry_after;
    if (!answer.http_status) {
      result.failure = TransportFailure::kNotSent;
      result.detail = "refused";
      return result;
    }
    result.response.status = *answer.http_status;
    switch (answer.outcome) {
      case OutcomeClass::kSent:
        result.response.body = R"({"data":{"id":")" + std::to_string(++broadcast_ids_) + "\"}}";
        break;
      case OutcomeClass::kNextDay:
        result.response.body =
            R"({"error":"forbidden_op","error_description":"broadcast limit exceeded"})";
        break;
      case OutcomeClass::kUnopened:
        result.response.body =
            R"({"error":"forbidden_op","error_description":"message broadcast service is unopened"})";
        break;
      default:
        result.response.body = R"({"error":"error"})";
        break;
    }
    return result;
  }

 private:
  static std::optional<int64_t> Mark(const std::string& body, std::string_view mark) {
    const size_t at = body.find(mark);
    if (at == std::string::npos) return std::nullopt;
    size_t end = at + mark.size();
    int64_t n = 0;
    bool digits = false;
    for (; end < body.size() && body[end] >= '0' && body[end] <= '9'; ++end) {
      n = n * 10 + (body[end] - '0');
      digits = true;
    }
    return digits ? std::optional<int64_t>(n) : std::nullopt;
  }

  const FakeServer& server_;
  const Clock& clock_;
  std::map<int64_t, QueuedJob> jobs_;
  std::vector<AttemptResult> history_;
  int64_t broadcast_ids_ = 0;
};

// One broadcast in a campaign file of its own; due is send_at unless it is the arrival.
std::string CampaignText(const std::string& id, const EndpointKey& endpoint, int64_t priority,
                         std::optional<TimePoint> send_at, std::optional<TimePoint> expires) {
  std::string text =
      "id: " + id + "\napp: " + endpoint.app + "\npriority: " + std::to_string(priority) +
      "\nbroadcasts:\n  - name: b\n    target: " + std::string(TargetName(endpoint.target)) + "\n";
  if (send_at) text += "    send_at: \"" + FormatRfc3339(*send_at) + "\"\n";
  if (expires) text += "    expires_at: \"" + FormatRfc3339(*expires) + "\"\n";
  return text + "    message: {type: txt, msg: \"" + id + "\"}\n";
}

Config RunConfig(const Workload& w, const fs::path& dir) {
  Config config = TestConfig(dir);
  // A workload's expiries are its own (the checker judges them): no lateness guard.
  config.max_delay = std::nullopt;
  config.apps.clear();
  for (const auto& [key, limits] : w.limits) {
    AppConfig app = TestApp();
    app.name = key.app;
    app.token_file = key.app + ".token";
    if (limits.daily != DefaultLimits(key.target).daily) {
      app.daily_budget[key.target] = limits.daily;
    }
    auto [it, added] = config.apps.emplace(key.app, app);
    if (!added) it->second.daily_budget.insert(app.daily_budget.begin(), app.daily_budget.end());
  }
  config.safety_margin = w.options.safety_margin;
  config.day_boundary = w.options.day_boundary;
  return config;
}

// The engine as the daemon's loop runs it, with the bookkeeping of the run.
class EngineRun {
 public:
  EngineRun(const Workload& w, const FakeServer& server, const LoopOptions& options)
      : w_(w),
        options_(options),
        rng_(options.seed),
        clock_(EarliestTime(w)),
        transport_(w, server, clock_),
        config_(RunConfig(w, folder_.path())) {
    fs::create_directories(folder_.path() / "campaigns");
    for (const auto& [name, app] : config_.apps) {
      folder_.Write(fs::path("credentials") / (name + ".token"), "token-of-" + name + "\n");
    }
    arrivals_ = w.jobs;
    std::sort(arrivals_.begin(), arrivals_.end(), [](const SubmittedJob& a, const SubmittedJob& b) {
      return a.arrival != b.arrival ? a.arrival < b.arrival : a.id < b.id;
    });
  }

  LoopResult Run() {
    result_.record.options = LimiterOptionsFor(config_);
    result_.record.limits = w_.limits;
    result_.record.jobs = w_.jobs;
    if (!Open() || !History() || !Pause()) return std::move(result_);
    clock_.Set(w_.start);
    while (Turn()) {
    }
    Collect();
    return std::move(result_);
  }

 private:
  static TimePoint EarliestTime(const Workload& w) {
    TimePoint t = w.start;
    for (const LoggedAttempt& a : w.history) t = std::min(t, a.at);
    return t;
  }

  void Fault(std::string what) { result_.faults.push_back(std::move(what)); }

  // A new engine on the store and the folder.
  bool Open() {
    engine_.reset();
    auto engine = Engine::Create(config_, folder_.path() / "credentials", transport_, clock_);
    if (!engine) {
      Fault("create: " + engine.error().message);
      return false;
    }
    engine_ = std::move(*engine);
    if (Status st = engine_->Start(); !st) {
      Fault("start: " + st.error().message);
      return false;
    }
    return true;
  }

  // The workload's pauses, as an operator's --pause before the start (after the history).
  bool Pause() {
    for (const EndpointKey& key : w_.paused) {
      if (Status st = engine_->store().Pause(key.app, key.target, "paused", clock_.Now()); !st) {
        Fault("pause: " + st.error().message);
        return false;
      }
    }
    if (Status st = engine_->ReloadQueue(); !st) {
      Fault("reload: " + st.error().message);
      return false;
    }
    return true;
  }

  // Drops a campaign file as a writer would, now by the fake clock (its mtime: a
  // broadcast without send_at is due then), and inotify tells the engine it is closed.
  bool Drop(const std::string& id, const std::string& text) {
    const fs::path path = fs::path("campaigns") / (id + ".yaml");
    folder_.Write(path, text);
    const int64_t ms = ToMillis(clock_.Now());
    const timespec written{static_cast<time_t>(ms / 1000),
                           static_cast<long>(ms % 1000) * 1'000'000};
    const timespec times[2] = {written, written};
    if (::utimensat(AT_FDCWD, (folder_.path() / path).c_str(), times, 0) != 0) {
      Fault("utimensat " + path.string());
      return false;
    }
    engine_->MarkWritten(id + ".yaml");
    return true;
  }

  bool Scan() {
    while (true) {
      auto report = engine_->Rescan();
      if (!report) {
        Fault("rescan: " + report.error().message);
        return false;
      }
      for (const std::string& error : report->errors) Fault("campaign file: " + error);
      if (report->unsettled > 0 || !report->refused.empty()) Fault("a file was not read");
      if (!report->more) return result_.faults.empty();
    }
  }

  // The history's attempts, each made by the engine at its time (a job of its own).
  bool History() {
    for (size_t i = 0; i < w_.history.size(); ++i) {
      const LoggedAttempt& a = w_.history[i];
      clock_.Set(std::max(clock_.Now(), a.at));
      const std::string id = std::string(kHistoryMark) + std::to_string(i);
      if (!Drop(id, CampaignText(id, a.endpoint, 0, std::nullopt, std::nullopt)) || !Scan()) {
        return false;
      }
      if (Dispatch() != 1 || clock_.Now() != a.at) {
        Fault("the history's attempt " + std::to_string(i) + " was not made at its time");
        return false;
      }
    }
    return true;
  }

  // Every step the engine hands out, then the answers at the same instant. Returns how
  // many requests were sent, or -1 after a fault.
  int Dispatch() {
    std::map<EndpointKey, PendingSend> claimed;
    while (true) {
      auto step = engine_->Next();
      if (!step) {
        Fault("next: " + step.error().message);
        return -1;
      }
      if (auto* request = std::get_if<TokenRequest>(&*step)) {
        engine_->TokenFetched(*request, Engine::FetchToken(*request));
        continue;
      }
      auto* send = std::get_if<PendingSend>(&*step);
      if (send == nullptr) break;
      if (!claimed.emplace(send->job.endpoint, *send).second) {
        Fault("two requests at once on one endpoint");
        return -1;
      }
    }
    for (const auto& [endpoint, send] : claimed) {
      if (Status st = engine_->Complete(send, Engine::Perform(send)); !st) {
        Fault("complete: " + st.error().message);
        return -1;
      }
    }
    return static_cast<int>(claimed.size());
  }

  // One turn of the loop; false when the run is over.
  bool Turn() {
    ++result_.turns;
    const TimePoint now = clock_.Now();
    bool arrived = false;
    for (; next_arrival_ < arrivals_.size() && arrivals_[next_arrival_].arrival <= now;
         ++next_arrival_) {
      const SubmittedJob& s = arrivals_[next_arrival_];
      const std::string id = std::string(kJobMark) + std::to_string(s.id);
      if (!Drop(id, CampaignText(id, s.endpoint, s.priority,
                                 s.due == s.arrival ? std::nullopt : std::optional(s.due),
                                 s.expires))) {
        return false;
      }
      arrived = true;
    }
    if (arrived && !Scan()) return false;
    if (options_.restart_chance > 0 && Chance(rng_, options_.restart_chance)) {
      if (!Open()) return false;
      ++result_.restarts;
    }
    if (options_.forecast_horizon && !forecast_taken_) {
      forecast_taken_ = true;
      TakeForecast();
    }

    const int sent = Dispatch();
    if (sent < 0) return false;
    if (sent > 0) return true;

    std::optional<TimePoint> next = engine_->NextWake();
    if (next_arrival_ < arrivals_.size()) {
      next = std::min(next.value_or(TimePoint::max()), arrivals_[next_arrival_].arrival);
    }
    if (!next) return false;
    if (*next <= now || *next > w_.start + options_.give_up_after) {
      result_.gave_up = true;
      return false;
    }
    clock_.Set(*next);
    return true;
  }

  // Workload ids by the store's, from the campaign ids.
  std::map<int64_t, int64_t> WorkloadIds(const std::vector<JobRow>& rows) {
    std::map<int64_t, int64_t> ids;
    for (const JobRow& row : rows) {
      if (row.campaign_id.starts_with(kJobMark)) {
        ids[row.id] = std::stoll(row.campaign_id.substr(kJobMark.size()));
      }
    }
    return ids;
  }

  void TakeForecast() {
    auto rows = engine_->store().Jobs();
    if (!rows) return Fault("jobs: " + rows.error().message);
    const std::map<int64_t, int64_t> ids = WorkloadIds(*rows);
    for (const auto& [id, entry] :
         engine_->scheduler().Forecast(clock_.Read(), *options_.forecast_horizon)) {
      if (ids.contains(id)) result_.forecast.emplace(ids.at(id), entry);
    }
  }

  // The record as the store holds it: every attempt in order, and each expiry.
  void Collect() {
    auto rows = engine_->store().Jobs();
    auto attempts = engine_->store().RecentAttempts(FromMillis(0), "", MonoFromMillis(0));
    if (!rows || !attempts) return Fault("the store could not be read");
    const std::map<int64_t, int64_t> ids = WorkloadIds(*rows);
    for (const JobRow& row : *rows) {
      if (row.state == JobState::kExpired && ids.contains(row.id)) {
        result_.record.expired[ids.at(row.id)] = row.updated_at;
      }
    }
    for (const AttemptRow& a : *attempts) {
      if (!ids.contains(a.job_id)) continue;  // the history's
      if (!a.outcome) {
        Fault("an attempt without an outcome");
        continue;
      }
      const LoggedAttempt row{a.started_at,
                              ids.at(a.job_id),
                              {a.app, a.target},
                              {*a.outcome, a.http_status, a.retry_after}};
      result_.record.attempts.push_back(row);
      if (row.result.outcome == OutcomeClass::kSent) result_.sent[row.job] = row.at;
    }
  }

  const Workload& w_;
  const LoopOptions& options_;
  std::mt19937_64 rng_;
  RunFolder folder_;
  FakeClock clock_;
  ServerTransport transport_;
  Config config_;
  std::unique_ptr<Engine> engine_;
  std::vector<SubmittedJob> arrivals_;
  size_t next_arrival_ = 0;
  bool forecast_taken_ = false;
  LoopResult result_;
};

}  // namespace

LoopResult RunEngine(const Workload& workload, const FakeServer& server,
                     const LoopOptions& options) {
  // The engine logs every step; thousands of runs would bury the test's own output.
  const spdlog::level::level_enum level = spdlog::get_level();
  spdlog::set_level(spdlog::level::off);
  LoopResult result = EngineRun(workload, server, options).Run();
  spdlog::set_level(level);
  return result;
}

}  // namespace broadcastd
