#include "daemon/service_status.h"

#include <systemd/sd-daemon.h>

#include <algorithm>

#include "core/log_value.h"
#include "core/target.h"
#include "core/time_format.h"
#include "daemon/engine.h"

namespace broadcastd {
namespace {

// Jobs per endpoint queue that the status line forecasts (Scheduler::Head).
constexpr size_t kHeadJobs = 64;

std::string Endpoint(const EndpointKey& key) {
  return key.app + "/" + std::string(TargetName(key.target));
}

std::string When(TimePoint at, TimePoint now) {
  std::string full = FormatRfc3339(at);  // 2027-03-01T09:00:00Z
  const std::string today = FormatRfc3339(now).substr(0, 10);
  if (full.size() > 11 && full.compare(0, 10, today) == 0) return full.substr(11);
  return full;
}

}  // namespace

std::string ServiceStatusText(const ServiceStatusFacts& f) {
  std::vector<std::string> parts;
  if (f.sending_job) {
    parts.push_back("sending job " + std::to_string(*f.sending_job) + " (" + f.sending_endpoint +
                    ")");
  }
  parts.push_back(f.queued == 0 ? std::string("nothing queued")
                                : std::to_string(f.queued) + " queued");
  if (f.next_endpoint && f.next_at) {
    parts.push_back("next " + *f.next_endpoint + " at " + When(*f.next_at, f.now));
  } else if (f.queued > 0 && !f.sending_job) {
    parts.push_back("no send within 48 h");
  }
  if (f.paused.size() == 1) {
    parts.push_back(f.paused.front() + " paused");
  } else if (f.paused.size() > 1) {
    parts.push_back(std::to_string(f.paused.size()) + " endpoints paused");
  }
  if (f.unknown > 0) {
    parts.push_back(std::to_string(f.unknown) +
                    (f.unknown == 1 ? " unknown needs an operator" : " unknown need an operator"));
  }
  std::string text;
  for (const std::string& p : parts) text += (text.empty() ? "" : "; ") + p;
  return EscapeControl(text);
}

void ServiceStatus::Update(Engine& engine, const PendingSend* in_flight, const Instant& now) {
  const Scheduler& scheduler = engine.scheduler();
  Fingerprint print{scheduler.size(), in_flight ? in_flight->job.id : 0, engine.NextWake(),
                    engine.store().DataVersion().value_or(0)};
  if (last_ && *last_ == print) return;
  last_ = print;

  ServiceStatusFacts facts;
  facts.now = now.wall;
  facts.queued = scheduler.size();
  if (in_flight) {
    facts.sending_job = in_flight->job.id;
    facts.sending_endpoint = Endpoint(in_flight->job.endpoint);
  }
  std::optional<std::pair<TimePoint, int64_t>> first;
  // The head of each queue decides the next send; forecasting a million jobs would
  // copy them all.
  for (const auto& [id, entry] : scheduler.Head(kHeadJobs).Forecast(now, kLookAhead)) {
    if (entry.kind != Scheduler::ForecastEntry::kSend) continue;
    if (!first || std::make_pair(entry.at, id) < *first) first = std::make_pair(entry.at, id);
  }
  if (first) {
    if (std::optional<QueuedJob> job = scheduler.Find(first->second)) {
      facts.next_endpoint = Endpoint(job->endpoint);
      facts.next_at = first->first;
    }
  }
  for (const auto& [name, app] : engine.config().apps) {
    for (BroadcastTarget target : kAllTargets) {
      EndpointKey key{name, target};
      if (scheduler.IsPaused(key)) facts.paused.push_back(Endpoint(key));
    }
  }
  // The counts kept by triggers: listing the unknown jobs would scan the whole table.
  if (auto counts = engine.store().CountJobs()) {
    for (const Store::JobCount& c : *counts) {
      if (c.state == JobState::kUnknown) facts.unknown += c.count;
    }
  }

  std::string text = ServiceStatusText(facts);
  if (text == text_) return;
  text_ = std::move(text);
  sd_notify(0, ("STATUS=" + text_).c_str());
}

}  // namespace broadcastd
