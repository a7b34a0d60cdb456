#include "scheduler/endpoint_queue.h"

namespace broadcastd {

void EndpointQueue::Add(const Entry& entry, TimePoint watermark) {
  if (entry.eligible_at <= watermark) {
    eligible_.insert({entry.priority, entry.due, entry.id});
  } else {
    waiting_.insert({entry.eligible_at, entry.id});
  }
}

void EndpointQueue::Remove(const Entry& entry, TimePoint watermark) {
  // Promote and Demote keep every entry on its side of the watermark.
  if (entry.eligible_at <= watermark) {
    eligible_.erase({entry.priority, entry.due, entry.id});
  } else {
    waiting_.erase({entry.eligible_at, entry.id});
  }
}

}  // namespace broadcastd
