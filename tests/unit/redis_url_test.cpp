#include "redis/redis_url.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

using scalecache::endpoint_of;
using scalecache::parse_redis_nodes;
using scalecache::parse_redis_url;

TEST(RedisUrl, ParsesHostPortPasswordDb) {
  auto a = parse_redis_url("redis://:s%40cret@redis.example:6380/2");
  EXPECT_EQ(a.host, "redis.example");
  EXPECT_EQ(a.port, 6380);
  EXPECT_EQ(a.password, "s@cret");
  EXPECT_EQ(a.db, 2);
  auto b = parse_redis_url("redis://127.0.0.1");
  EXPECT_EQ(b.port, 6379);
  EXPECT_EQ(b.password, "");
  EXPECT_EQ(b.db, 0);
}

TEST(RedisUrl, RejectsBadUrlsWithoutEchoingPassword) {
  EXPECT_THROW(parse_redis_url("http://localhost:6379"), std::invalid_argument);
  EXPECT_THROW(parse_redis_url("redis://"), std::invalid_argument);
  EXPECT_THROW(parse_redis_url("redis://host:0"), std::invalid_argument);
  EXPECT_THROW(parse_redis_url("redis://host:6379/x"), std::invalid_argument);
  try {
    parse_redis_url("redis://:topsecret@host:99999");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()).find("topsecret"), std::string::npos);
  }
}

TEST(RedisUrl, AclUserNameIsKept) {
  auto a = parse_redis_url("redis://cache%2Duser:pw@host:6380");
  EXPECT_EQ(a.username, "cache-user");
  EXPECT_EQ(a.password, "pw");
  EXPECT_EQ(parse_redis_url("redis://:pw@host").username, "");
}

TEST(RedisNodes, ParsesListsAndNamesTheBadEntry) {
  auto nodes = parse_redis_nodes(" 127.0.0.1:7000,redis-1:7001 , [::1]:7002,");
  ASSERT_EQ(nodes.size(), 3u);
  EXPECT_EQ(endpoint_of(nodes[0]), "127.0.0.1:7000");
  EXPECT_EQ(endpoint_of(nodes[1]), "redis-1:7001");
  EXPECT_EQ(nodes[2].host, "::1");
  EXPECT_EQ(endpoint_of(nodes[2]), "[::1]:7002");
  EXPECT_THROW(parse_redis_nodes(""), std::invalid_argument);
  EXPECT_THROW(parse_redis_nodes("host"), std::invalid_argument);
  EXPECT_THROW(parse_redis_nodes("host:0"), std::invalid_argument);
  EXPECT_THROW(parse_redis_nodes("u:p@host:1"), std::invalid_argument);
  try {
    parse_redis_nodes("a:1,b");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "expected host:port, got \"b\"");
  }
}
