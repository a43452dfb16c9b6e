#include "http/prefer.hpp"

#include <gtest/gtest.h>

using scalecache::parse_prefer;

TEST(Prefer, AbsentOrUnknownPreferencesChangeNothing) {
  EXPECT_FALSE(parse_prefer(std::nullopt).respond_async);
  const auto unknown = parse_prefer("return=minimal, handling=lenient");
  EXPECT_FALSE(unknown.respond_async);
  EXPECT_FALSE(unknown.wait_seconds);
  EXPECT_TRUE(unknown.error.empty());
}

TEST(Prefer, RespondAsyncAndWaitInAnyCaseAndSpacing) {
  const auto both = parse_prefer("Respond-Async ,  wait=10");
  EXPECT_TRUE(both.respond_async);
  EXPECT_EQ(both.wait_seconds, 10);
  EXPECT_EQ(both.applied(), "respond-async, wait=10");
  EXPECT_EQ(parse_prefer("wait = \"3\"").wait_seconds, 3);
  EXPECT_EQ(parse_prefer("wait=0; foo=bar").wait_seconds, 0);
  EXPECT_EQ(parse_prefer("wait=5").applied(), "wait=5");
  EXPECT_EQ(parse_prefer("respond-async").applied(), "respond-async");
}

TEST(Prefer, AWaitThatIsNotSecondsIsAnError) {
  for (const char* bad : {"wait=abc", "wait=-1", "wait=", "wait", "wait=1.5", "wait=86401"}) {
    EXPECT_FALSE(parse_prefer(bad).error.empty()) << bad;
  }
}
