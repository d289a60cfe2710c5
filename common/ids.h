#pragma once

#include <string>

namespace funnel::common {

// A random (version 4) UUID in canonical lower-case form.
std::string NewUuid();

}  // namespace funnel::common
