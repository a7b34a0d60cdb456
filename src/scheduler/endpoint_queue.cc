#include "scheduler/endpoint_queue.h"

namespace broadcastd {

void EndpointQueue::Add(const Entry& entry, TimePoint watermark) {
  if (entry.eligible_at <= watermark) {
    eligible_.insert(entry);
  } else {
    waiting_.insert(entry);
  }
}

void EndpointQueue::Remove(const Entry& entry, TimePoint watermark) {
  // Promote and Demote keep every entry on its side of the watermark.
  if (entry.eligible_at <= watermark) {
    eligible_.erase(entry);
  } else {
    waiting_.erase(entry);
  }
}

void EndpointQueue::Promote(TimePoint now) {
  while (!waiting_.empty() && waiting_.begin()->eligible_at <= now) {
    eligible_.insert(*waiting_.begin());
    waiting_.erase(waiting_.begin());
  }
}

void EndpointQueue::Demote(TimePoint now) {
  for (auto it = eligible_.begin(); it != eligible_.end();) {
    if (it->eligible_at > now) {
      waiting_.insert(*it);
      it = eligible_.erase(it);
    } else {
      ++it;
    }
  }
}

const EndpointQueue::Entry* EndpointQueue::Best(TimePoint now) const {
  for (const Entry& entry : eligible_) {
    if (!entry.ExpiredAt(now)) return &entry;
  }
  return nullptr;
}

std::optional<TimePoint> EndpointQueue::FirstWaiting(TimePoint now) const {
  for (const Entry& entry : waiting_) {
    if (!entry.ExpiredAt(now)) return entry.eligible_at;
  }
  return std::nullopt;
}

}  // namespace broadcastd
