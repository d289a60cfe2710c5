#pragma once

// What erasure removes from a handoff wherever a copy of it is kept (marketing's
// queued outbox events, sales' inbox snapshots): everything that names the person.

#include "funnel/handoff/v1/handoff.pb.h"

namespace funnel::handoff {

// Clears the contact and the qualification note; anonymous facts stay for counts.
void ScrubPersonalData(v1::LeadHandoff* handoff);

}  // namespace funnel::handoff
