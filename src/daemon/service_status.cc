#include "daemon/service_status.h"

#include <systemd/sd-daemon.h>

#include <algorithm>

#include "core/log_value.h"
#include "core/target.h"
#include "core/time_format.h"
#include "daemon/engine.h"

namespace broadcastd {
namespace {

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
  if (!f.sending.empty()) {
    std::string sending = f.sending.size() == 1 ? "sending job " : "sending jobs ";
    for (size_t i = 0; i < f.sending.size(); ++i) {
      if (i > 0) sending += ", ";
      sending += std::to_string(f.sending[i].job) + " (" + f.sending[i].endpoint + ")";
    }
    parts.push_back(std::move(sending));
  }
  parts.push_back(f.queued == 0 ? std::string("nothing queued")
                                : std::to_string(f.queued) + " queued");
  if (f.next_endpoint && f.next_at) {
    parts.push_back("next " + *f.next_endpoint + " at " + When(*f.next_at, f.now));
  } else if (f.queued > 0 && f.sending.empty()) {
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

void ServiceStatus::Update(Engine& engine, const Instant& now) {
  const Scheduler& scheduler = engine.scheduler();
  Fingerprint print{
      scheduler.size(), {}, engine.NextWake(), engine.store().DataVersion().value_or(0)};
  for (const auto& [endpoint, job] : engine.Sending()) print.sending.push_back(job);
  if (last_ && *last_ == print) return;
  last_ = print;

  ServiceStatusFacts facts;
  facts.now = now.wall;
  facts.queued = scheduler.size();
  for (const auto& [endpoint, job] : engine.Sending()) {
    facts.sending.push_back({job, Endpoint(endpoint)});
  }
  if (auto next = scheduler.NextSend(now); next && next->at <= now.wall + kLookAhead) {
    facts.next_endpoint = Endpoint(next->endpoint);
    facts.next_at = next->at;
  }
  for (const auto& [name, app] : engine.config().apps) {
    for (BroadcastTarget target : kAllTargets) {
      EndpointKey key{name, target};
      if (scheduler.IsPaused(key)) facts.paused.push_back(Endpoint(key));
    }
  }
  // Counted by the store's triggers: no scan of the jobs, no bodies.
  if (auto counts = engine.store().CountJobs()) {
    for (const Store::JobCount& c : *counts) {
      if (c.state == JobState::kUnknown) facts.unknown += static_cast<size_t>(c.count);
    }
  }

  std::string text = ServiceStatusText(facts);
  if (text == text_) return;
  text_ = std::move(text);
  // Not checked, as every sd_notify of the daemon (daemon.cc says why).
  sd_notify(0, ("STATUS=" + text_).c_str());
}

}  // namespace broadcastd
