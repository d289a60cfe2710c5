#include "handoff/scrub.h"

namespace funnel::handoff {

void ScrubPersonalData(v1::LeadHandoff* handoff) {
  handoff->clear_contact();
  handoff->mutable_qualification()->clear_note();
}

}  // namespace funnel::handoff
