#include "origin/curl_memory.hpp"

#include <curl/curl.h>
#include <gtest/gtest.h>

#include <cstring>
#include <string>

namespace scalecache {
namespace {

using curl_memory::kOwnMappingBytes;

TEST(CurlMemory, SmallBlocksFromMallocLargeOnesMappedAlone) {
  void* small = curl_memory::allocate(100);
  void* large = curl_memory::allocate(kOwnMappingBytes);
  ASSERT_NE(small, nullptr);
  ASSERT_NE(large, nullptr);
  EXPECT_FALSE(curl_memory::owns_mapping(small));
  EXPECT_TRUE(curl_memory::owns_mapping(large));
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(small) % 16, 0u);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(large) % 16, 0u);
  std::memset(small, 'a', 100);
  std::memset(large, 'b', kOwnMappingBytes);
  curl_memory::release(small);
  curl_memory::release(large);
  curl_memory::release(nullptr);
}

TEST(CurlMemory, ReallocateKeepsTheContentsAcrossTheThreshold) {
  auto* block = static_cast<char*>(curl_memory::allocate(10));
  std::memcpy(block, "0123456789", 10);
  block = static_cast<char*>(curl_memory::reallocate(block, 3 * kOwnMappingBytes));
  ASSERT_NE(block, nullptr);
  EXPECT_TRUE(curl_memory::owns_mapping(block));
  EXPECT_EQ(std::string(block, 10), "0123456789");
  block[3 * kOwnMappingBytes - 1] = 'z';
  block = static_cast<char*>(curl_memory::reallocate(block, 4));
  ASSERT_NE(block, nullptr);
  EXPECT_FALSE(curl_memory::owns_mapping(block));
  EXPECT_EQ(std::string(block, 4), "0123");
  curl_memory::release(block);
  auto* fresh = static_cast<char*>(curl_memory::reallocate(nullptr, 5));
  ASSERT_NE(fresh, nullptr);
  curl_memory::release(fresh);
}

TEST(CurlMemory, LibcurlRunsOnIt) {
  ASSERT_TRUE(curl_memory::install());
  CURL* curl = curl_easy_init();
  ASSERT_NE(curl, nullptr);
  char* escaped = curl_easy_escape(curl, "a b/c", 5);
  ASSERT_NE(escaped, nullptr);
  EXPECT_STREQ(escaped, "a%20b%2Fc");
  curl_free(escaped);
  curl_easy_cleanup(curl);
}

}  // namespace
}  // namespace scalecache
