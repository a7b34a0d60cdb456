#include "attempt_log_checker.h"

#include <algorithm>
#include <set>
#include <sstream>

#include "core/time_format.h"

namespace broadcastd {
namespace {

constexpr int64_t kDay = 86'400'000;

bool Retryable(const AttemptResult& r) {
  return r.outcome == OutcomeClass::kRetry || r.outcome == OutcomeClass::kNextDay;
}

// A retry without any HTTP answer: the transport proved no byte was written, so the
// server cannot have counted it. It spends no window and no day; the endpoint then
// waits backoff_base * 2^(such failures in a row - 1), capped at backoff_cap.
bool UnwrittenByJudge(const AttemptResult& r) {
  return r.outcome == OutcomeClass::kRetry && !r.http_status;
}

std::string Name(const EndpointKey& key) {
  return key.app + "/" + std::string(TargetName(key.target));
}

// Day number of t for a day starting at `boundary` past midnight UTC.
int64_t Day(TimePoint t, Duration boundary) {
  int64_t shifted = ToMillis(t) - (((boundary.count() % kDay) + kDay) % kDay);
  return shifted >= 0 ? shifted / kDay : -((-shifted + kDay - 1) / kDay);
}
TimePoint DayBegin(int64_t day, Duration boundary) {
  return FromMillis(day * kDay + (((boundary.count() % kDay) + kDay) % kDay));
}

// When a job was waiting to be sent: [from, to). After a 429 the job's own hold is
// the jittered backoff, known here only by its range; `surely_from` is when it was
// certainly over, so that the choice among jobs is judged only where it is certain.
struct Interval {
  TimePoint from, to;
  int64_t job;
  TimePoint surely_from;
};

class EndpointJudge {
 public:
  EndpointJudge(const RunRecord& run, const EndpointKey& key, std::vector<std::string>& out)
      : run_(run), key_(key), out_(out) {
    auto it = run.limits.find(key);
    limits_ = it != run.limits.end() ? it->second : DefaultLimits(key.target);
    margin_ = run.options.safety_margin;
    for (const LoggedAttempt& a : run.attempts) {
      if (a.endpoint == key) log_.push_back(a);
    }
    for (const SubmittedJob& j : run.jobs) {
      if (j.endpoint == key) jobs_[j.id] = &j;
    }
    BuildIntervals();
  }

  void Judge() {
    CheckWindows();
    CheckDays();
    CheckOrderAndPromptness();
  }

 private:
  void Violation(const std::string& what, TimePoint at) {
    out_.push_back(Name(key_) + " at " + FormatRfc3339(at) + ": " + what);
  }

  void BuildIntervals() {
    for (const auto& [id, job] : jobs_) {
      TimePoint from = std::max(job->due, job->arrival);
      TimePoint surely_from = from;
      bool open = true;
      for (const LoggedAttempt& a : log_) {
        if (a.job != id) continue;
        if (open) intervals_.push_back({from, a.at + Duration{1}, id, surely_from});
        open = Retryable(a.result);
        from = surely_from = a.at;
        if (a.result.http_status == 429) surely_from += Reach() + run_.options.backoff_cap;
        if (a.result.retry_after) surely_from += run_.options.retry_after_cap;
      }
      if (!open) continue;
      TimePoint to = TimePoint::max();
      if (job->expires) to = *job->expires;
      if (from < to) intervals_.push_back({from, to, id, surely_from});
    }
  }

  Duration Reach() const {
    Duration longest{0};
    for (const RateWindow& w : limits_.windows) longest = std::max(longest, w.length);
    return longest + margin_;
  }

  // The starts among the first n attempts that the server may have counted.
  std::vector<TimePoint> Counted(size_t n) const {
    std::vector<TimePoint> starts;
    for (size_t i = 0; i < n && i < log_.size(); ++i) {
      if (!UnwrittenByJudge(log_[i].result)) starts.push_back(log_[i].at);
    }
    return starts;
  }

  void CheckWindows() {
    const std::vector<TimePoint> starts = Counted(log_.size());
    for (const RateWindow& w : limits_.windows) {
      if (w.count < 1) continue;
      const size_t c = static_cast<size_t>(w.count);
      for (size_t i = 0; i + c < starts.size(); ++i) {
        if (starts[i + c] - starts[i] < w.length + margin_) {
          Violation(std::to_string(c + 1) + " starts within " +
                        std::to_string((w.length + margin_).count()) + " ms",
                    starts[i + c]);
        }
      }
    }
  }

  void CheckDays() {
    std::map<int64_t, int> per_day;
    std::optional<int64_t> spent;
    bool unopened = false;
    for (const LoggedAttempt& a : log_) {
      const int64_t day = Day(a.at, run_.options.day_boundary);
      if (unopened) Violation("attempt after the endpoint was found unopened", a.at);
      if (spent && day <= *spent) Violation("attempt in a day the server said was spent", a.at);
      if (limits_.daily > 0 && !UnwrittenByJudge(a.result) && ++per_day[day] > limits_.daily) {
        Violation("day budget of " + std::to_string(limits_.daily) + " exceeded", a.at);
      }
      if (a.result.outcome == OutcomeClass::kNextDay) spent = std::max(spent.value_or(day), day);
      if (a.result.outcome == OutcomeClass::kUnopened) unopened = true;
    }
  }

  // The earliest time >= t that the windows, days and spent days allow, given the
  // first n attempts of the log.
  TimePoint Allowed(size_t n, TimePoint t) const {
    const std::vector<TimePoint> starts = Counted(n);
    while (true) {
      TimePoint before = t;
      for (const RateWindow& w : limits_.windows) {
        const size_t c = static_cast<size_t>(w.count);
        if (w.count >= 1 && starts.size() >= c) {
          t = std::max(t, starts[starts.size() - c] + w.length + margin_);
        }
      }
      const int64_t day = Day(t, run_.options.day_boundary);
      int used = 0;
      bool spent = false;
      for (size_t i = 0; i < n; ++i) {
        const int64_t d = Day(log_[i].at, run_.options.day_boundary);
        if (d == day && !UnwrittenByJudge(log_[i].result)) ++used;
        if (log_[i].result.outcome == OutcomeClass::kNextDay && d >= day) spent = true;
      }
      if (spent || (limits_.daily > 0 && used >= limits_.daily)) {
        t = DayBegin(day + 1, run_.options.day_boundary);
      }
      if (t == before) return t;
    }
  }

  // The first time >= t at which some job of this endpoint was waiting.
  std::optional<TimePoint> FirstWaiting(TimePoint t) const {
    std::optional<TimePoint> first;
    for (const Interval& in : intervals_) {
      if (in.to <= t) continue;
      const TimePoint at = std::max(in.from, t);
      if (!first || at < *first) first = at;
    }
    return first;
  }

  bool Better(const SubmittedJob& a, const SubmittedJob& b) const {
    if (a.priority != b.priority) return a.priority > b.priority;
    if (a.due != b.due) return a.due < b.due;
    return a.id < b.id;
  }

  void CheckOrderAndPromptness() {
    int streak = 0;     // consecutive 429s since the last success
    int unwritten = 0;  // consecutive never-written attempts since the last HTTP answer
    for (size_t i = 0; i <= log_.size(); ++i) {
      // The window of possible opening times after the previous answer: exact, except
      // after a 429 where the jitter is known only by its range.
      TimePoint lo = run_.jobs.empty() ? TimePoint{} : run_.jobs.front().arrival;
      for (const SubmittedJob& job : run_.jobs) lo = std::min(lo, job.arrival);
      TimePoint hi = lo;
      if (i > 0) {
        const LoggedAttempt& prev = log_[i - 1];
        if (prev.result.outcome == OutcomeClass::kUnopened) return;  // paused from here on
        lo = hi = prev.at;
        if (prev.result.http_status == 429) {
          ++streak;
          const Duration reach = Reach();
          Duration jitter = run_.options.backoff_base;
          for (int k = 1; k < streak && jitter < run_.options.backoff_cap; ++k) jitter *= 2;
          jitter = std::min(jitter, run_.options.backoff_cap);
          lo = std::max(lo, prev.at + reach);
          hi = std::max(hi, prev.at + reach + jitter);
        } else if (prev.result.outcome == OutcomeClass::kSent) {
          streak = 0;
        }
        if (UnwrittenByJudge(prev.result)) {
          ++unwritten;
          Duration wait = std::max(run_.options.backoff_base, Duration{0});
          for (int k = 1; k < unwritten && wait < run_.options.backoff_cap; ++k) wait *= 2;
          wait = std::min(wait, std::max(run_.options.backoff_cap, Duration{0}));
          lo = std::max(lo, prev.at + wait);
          hi = std::max(hi, prev.at + wait);
        } else if (prev.result.http_status) {
          unwritten = 0;
        }
        if (prev.result.retry_after) {
          const Duration ra =
              std::clamp(*prev.result.retry_after, Duration{0}, run_.options.retry_after_cap);
          lo = std::max(lo, prev.at + ra);
          hi = std::max(hi, prev.at + ra);
        }
      }
      const std::optional<TimePoint> earliest = FirstWaiting(Allowed(i, lo));
      const std::optional<TimePoint> latest = FirstWaiting(Allowed(i, hi));
      if (i == log_.size()) {
        if (latest) Violation("a job was left waiting on an open endpoint", *latest);
        return;
      }
      const LoggedAttempt& a = log_[i];
      if (!earliest || a.at < *earliest) {
        Violation("attempt before the endpoint allowed it or with no job waiting", a.at);
      } else if (a.at > Allowed(i, hi) && (!latest || a.at > *latest)) {
        // Past the latest possible opening, the job sent was itself waiting, so
        // `latest` exists and is the moment it should have gone.
        Violation("attempt " + std::to_string((a.at - latest.value_or(a.at)).count()) +
                      " ms after the endpoint opened with a job waiting",
                  a.at);
      }
      CheckChoice(a);
    }
  }

  void CheckChoice(const LoggedAttempt& a) {
    auto chosen = jobs_.find(a.job);
    if (chosen == jobs_.end()) {
      Violation("attempt of job " + std::to_string(a.job) + " not of this endpoint", a.at);
      return;
    }
    for (const Interval& in : intervals_) {
      if (in.surely_from <= a.at && in.from <= a.at && a.at < in.to && in.job != a.job &&
          Better(*jobs_.at(in.job), *chosen->second)) {
        Violation("job " + std::to_string(a.job) + " sent while better job " +
                      std::to_string(in.job) + " waited",
                  a.at);
      }
    }
  }

  const RunRecord& run_;
  EndpointKey key_;
  std::vector<std::string>& out_;
  EndpointLimits limits_;
  Duration margin_{0};
  std::vector<LoggedAttempt> log_;
  std::map<int64_t, const SubmittedJob*> jobs_;
  std::vector<Interval> intervals_;
};

void CheckJobs(const RunRecord& run, std::vector<std::string>& out) {
  std::set<EndpointKey> paused;
  for (const LoggedAttempt& a : run.attempts) {
    if (a.result.outcome == OutcomeClass::kUnopened) paused.insert(a.endpoint);
  }
  for (const SubmittedJob& job : run.jobs) {
    const std::string who = "job " + std::to_string(job.id) + ": ";
    bool open = true;  // may still be sent
    for (const LoggedAttempt& a : run.attempts) {
      if (a.job != job.id) continue;
      if (!open) out.push_back(who + "attempted again after a final answer");
      if (a.at < job.due || a.at < job.arrival) out.push_back(who + "attempted before due");
      if (job.expires && a.at >= *job.expires) out.push_back(who + "attempted after expiry");
      if (a.endpoint != job.endpoint) out.push_back(who + "attempted on another endpoint");
      open = Retryable(a.result);
    }
    auto expired = run.expired.find(job.id);
    if (expired != run.expired.end()) {
      if (!open) out.push_back(who + "expired after a final answer");
      // A job taken in after its expiry is expired when it arrives.
      if (!job.expires || expired->second != std::max(*job.expires, job.arrival)) {
        out.push_back(who + "expired at " + FormatRfc3339(expired->second) + ", not at its expiry");
      }
    } else if (open && !paused.contains(job.endpoint)) {
      out.push_back(who + "never reached a final state");
    }
  }
}

}  // namespace

std::vector<std::string> CheckRun(const RunRecord& run) {
  std::vector<std::string> violations;
  std::set<EndpointKey> endpoints;
  for (const SubmittedJob& job : run.jobs) endpoints.insert(job.endpoint);
  for (const LoggedAttempt& a : run.attempts) endpoints.insert(a.endpoint);
  for (const EndpointKey& key : endpoints) EndpointJudge(run, key, violations).Judge();
  CheckJobs(run, violations);
  return violations;
}

}  // namespace broadcastd
