// Scheduler::Forecast: the send-time forecast of --status. It runs the very decision
// code the daemon runs, so the forecast and the sending cannot disagree on the rules.

#include "scheduler/scheduler.h"

namespace broadcastd {

std::unordered_map<int64_t, Scheduler::ForecastEntry> Scheduler::Forecast(const Instant& start,
                                                                          Duration horizon) const {
  const TimePoint now = start.wall;
  // The simulated clock keeps the offset between the wall and monotonic clocks.
  auto at = [&start](TimePoint t) { return Instant(t, start.MonoOf(t)); };
  Scheduler sim = *this;
  const TimePoint end = now + horizon;
  const AttemptResult success{OutcomeClass::kSent, 200, std::nullopt};
  std::unordered_map<int64_t, ForecastEntry> forecast;
  forecast.reserve(jobs_.size());

  TimePoint t = now;
  while (!sim.jobs_.empty()) {
    const Decision decision = sim.Decide(at(t));
    for (int64_t id : decision.expire) {
      // Held is what an operator must act on; the job's own deadline says when it expires.
      const Slot& slot = sim.jobs_.at(id);
      forecast[id] = slot.held ? ForecastEntry{ForecastEntry::kHeld, now}
                               : ForecastEntry{ForecastEntry::kExpires, slot.expires};
      sim.Remove(id);
    }
    for (int64_t id : decision.send) {
      const QueuedJob job = sim.JobOf(id, sim.jobs_.at(id));
      sim.Begin(id, at(t));
      sim.Finish(job, at(t), success);
      forecast[id] = {ForecastEntry::kSend, t};
    }
    if (!decision.send.empty()) continue;  // other endpoints may still send at t
    // Decide promises next > t; the check keeps a broken promise from looping forever.
    if (!decision.next || *decision.next > end || *decision.next <= t) break;
    t = *decision.next;
  }
  for (const auto& [id, slot] : sim.jobs_) {
    if (slot.held) {
      forecast[id] = ForecastEntry{ForecastEntry::kHeld, now};
    } else if (sim.IsPaused(sim.endpoints_[slot.endpoint])) {
      forecast[id] = ForecastEntry{ForecastEntry::kPaused, now};
    } else {
      forecast[id] = ForecastEntry{ForecastEntry::kBeyondHorizon, end};
    }
  }
  return forecast;
}

}  // namespace broadcastd
