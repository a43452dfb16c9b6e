#include "http/purge_access.hpp"

#include <gtest/gtest.h>

using scalecache::AdminConfig;
using scalecache::PurgeAccess;
using Verdict = PurgeAccess::Verdict;

namespace {

PurgeAccess with(std::string token, bool allow_unauthenticated) {
  AdminConfig admin;
  admin.token = std::move(token);
  admin.allow_unauthenticated_purge = allow_unauthenticated;
  return PurgeAccess::from(admin);
}

}  // namespace

TEST(PurgeAccess, DefaultsRefuseEveryPurge) {
  const PurgeAccess closed = PurgeAccess::from(AdminConfig{});
  EXPECT_EQ(closed.check(""), Verdict::Disabled);
  EXPECT_EQ(closed.check("anything"), Verdict::Disabled);
  EXPECT_FALSE(closed.open());
}

TEST(PurgeAccess, ATokenIsRequiredWhenSet) {
  const PurgeAccess secured = with("s3cret", false);
  EXPECT_EQ(secured.check(""), Verdict::Unauthorized);
  EXPECT_EQ(secured.check("s3cre"), Verdict::Unauthorized);
  EXPECT_EQ(secured.check("s3cret!"), Verdict::Unauthorized);
  EXPECT_EQ(secured.check("S3CRET"), Verdict::Unauthorized);
  EXPECT_EQ(secured.check("s3cret"), Verdict::Allowed);
  EXPECT_FALSE(secured.open());
}

TEST(PurgeAccess, OpenOnlyWhenAllowedExplicitlyAndNoToken) {
  const PurgeAccess open = with("", true);
  EXPECT_EQ(open.check(""), Verdict::Allowed);
  EXPECT_EQ(open.check("whatever"), Verdict::Allowed);
  EXPECT_TRUE(open.open());
  // A configured token wins over the flag: it still has to be presented.
  const PurgeAccess both = with("s3cret", true);
  EXPECT_EQ(both.check(""), Verdict::Unauthorized);
  EXPECT_EQ(both.check("s3cret"), Verdict::Allowed);
  EXPECT_FALSE(both.open());
}
