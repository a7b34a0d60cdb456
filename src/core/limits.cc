#include "core/limits.h"

namespace broadcastd {

using std::chrono::minutes;
using std::chrono::seconds;

EndpointLimits DefaultLimits(BroadcastTarget target) {
  switch (target) {
    case BroadcastTarget::kUsers:
      return {{{1, minutes(30)}}, 3};
    case BroadcastTarget::kOnlineUsers:
      return {{{1, minutes(1)}}, 50};
    case BroadcastTarget::kChatrooms:
      return {{{1, seconds(1)}, {10, minutes(1)}}, 100};
  }
  return {};
}

}  // namespace broadcastd
