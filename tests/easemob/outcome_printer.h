#pragma once
// Lets GoogleTest print an OutcomeClass by name in failure messages.

#include <ostream>

#include "core/outcome.h"

namespace broadcastd {

inline void PrintTo(OutcomeClass outcome, std::ostream* os) { *os << OutcomeName(outcome); }

}  // namespace broadcastd
