#pragma once

// How a fuzz target reports a broken property: what broke, on which input, then
// abort() so libFuzzer keeps the input as a crash.

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/string_view.h"

namespace funnel::fuzz {

[[noreturn]] inline void Broken(absl::string_view property, absl::string_view input,
                                absl::string_view got = "") {
  std::fprintf(stderr, "fuzz: broken: %.*s\n  input: \"%s\"\n  got: \"%s\"\n",
               static_cast<int>(property.size()), property.data(), absl::CHexEscape(input).c_str(),
               absl::CHexEscape(got).c_str());
  std::abort();
}

}  // namespace funnel::fuzz
