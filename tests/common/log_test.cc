// The JSON logger's quoting: a field is one JSON string in UTF-8 whatever it holds.
#include "common/log.h"

#include <gtest/gtest.h>

namespace funnel::common {
namespace {

TEST(JsonQuoteTest, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(JsonQuote("a\"b\\c\nd\te\x01"), "\"a\\\"b\\\\c\\nd\\te\\u0001\"");
}

TEST(JsonQuoteTest, KeepsUtf8Text) {
  EXPECT_EQ(JsonQuote("caf\xc3\xa9 \xf0\x9f\x98\x80"), "\"caf\xc3\xa9 \xf0\x9f\x98\x80\"");
}

// Bytes that are not UTF-8 once went into the line as they were, which made it no
// longer JSON (found by json_quote_fuzzer).
TEST(JsonQuoteTest, BytesThatAreNotUtf8BecomeReplacementCharacters) {
  EXPECT_EQ(JsonQuote("\x8b"), "\"\\ufffd\"");
  EXPECT_EQ(JsonQuote("a\xc3"), "\"a\\ufffd\"");                      // cut short
  EXPECT_EQ(JsonQuote("\xc0\xaf"), "\"\\ufffd\\ufffd\"");             // overlong '/'
  EXPECT_EQ(JsonQuote("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\"");  // a surrogate
}

}  // namespace
}  // namespace funnel::common
