// SentinelStore against fake sentinels and fake masters: it follows the
// master the sentinels name, on a switch message and when the master is seen
// down, closes the old master's store, and ignores what that store says after.

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>

#include "eventually.hpp"
#include "fakes/opened_stores.hpp"
#include "redis/sentinel/sentinel_store.hpp"

using namespace scalecache;
using scalecache::testing::eventually;

namespace {

constexpr const char* kName = "mymaster";

RedisAddress at(int port) {
  RedisAddress a;
  a.host = "127.0.0.1";
  a.port = port;
  return a;
}

// A master in memory: every command answered "<port>", so a reply says who served it.
class FakeMaster final : public RedisCommands {
 public:
  explicit FakeMaster(int port) : port_(port) {}
  std::vector<Reply> pipeline(const std::vector<Command>& commands) override {
    Reply r;
    r.status = Status::Ok;
    r.text = std::to_string(port_);
    return std::vector<Reply>(commands.size(), r);
  }
  std::vector<Reply> pipeline_once_fresh(const std::vector<Command>& commands) override { return pipeline(commands); }
  bool up() const override { return true; }
  std::string endpoint() const override { return "fake"; }

 private:
  int port_;
};

// Sentinels that all name `named` (0: none) and announce what `announce` is
// given on their +switch-master channel. Every master store opened is a new
// FakeMaster, kept track of in `stores`.
class FakeSentinels {
 public:
  SentinelStore::Backend backend() {
    SentinelStore::Backend b;
    b.recheck_interval_ms = 3'600'000;  // never within a test: only messages and health reports move it
    b.open_master = [this](const RedisAddress& a, std::function<void(bool)> on_health) {
      auto master = std::make_shared<FakeMaster>(a.port);
      stores.add(a.port, master, std::move(on_health));
      return master;
    };
    b.ask = [this](const RedisAddress&, std::string& error) -> std::optional<RedisAddress> {
      const int port = named.load();
      if (port == 0) error = "no such master";
      return port == 0 ? std::nullopt : std::optional<RedisAddress>(at(port));
    };
    b.watch = [this](const RedisAddress&, const std::function<void()>& subscribed, const std::function<bool()>& keep_on,
                     const std::function<void(const std::string&)>& on_message) {
      subscribed();
      ++subscriptions;
      while (keep_on()) {
        std::optional<std::string> message;
        {
          // The connection's read: a message, or nothing within the poll interval.
          std::unique_lock lock(mutex_);
          cv_.wait_for(lock, std::chrono::milliseconds(10), [this] { return !messages_.empty(); });
          if (!messages_.empty()) {
            message = std::move(messages_.front());
            messages_.pop_front();
          }
        }
        if (!message) continue;
        on_message(*message);
        ++delivered;
      }
    };
    return b;
  }

  SentinelStore::Options options() const { return {{}, kName, {at(26379), at(26380)}, ""}; }

  void announce(const std::string& text) {
    {
      std::lock_guard lock(mutex_);
      messages_.push_back(text);
    }
    cv_.notify_all();
  }

  scalecache::testing::OpenedStores stores;
  std::atomic<int> named = 0;
  std::atomic<int> subscriptions = 0;  // subscribed, and the master asked for after
  std::atomic<int> delivered = 0;      // messages handed to the store and dealt with

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::string> messages_;
};

}  // namespace

TEST(SentinelStore, FollowsTheMasterASwitchMessageNamesAndClosesTheOldOnesStore) {
  FakeSentinels sentinels;
  std::vector<bool> health;
  std::mutex health_mutex;
  SentinelStore store(sentinels.options(), sentinels.backend(), [&](bool up) {
    std::lock_guard lock(health_mutex);
    health.push_back(up);
  });
  // No master named yet: every command fails as Redis down would, and the bus has nowhere to go.
  EXPECT_EQ(store.run({"GET", "k"}).status, RedisCommands::Status::Unavailable);
  EXPECT_FALSE(store.up());
  EXPECT_EQ(store.master_address().port, 0);
  ASSERT_TRUE(eventually([&] { return sentinels.subscriptions == 1; }));

  sentinels.named = 1;
  sentinels.announce(std::string(kName) + " 127.0.0.1 0 127.0.0.1 1");
  ASSERT_TRUE(eventually([&] { return store.master_address().port == 1; }));
  EXPECT_EQ(sentinels.stores.opened(1), 1);
  EXPECT_EQ(store.run({"GET", "k"}).text, "1");
  EXPECT_EQ(store.endpoint(), "sentinel mymaster at 127.0.0.1:1");

  const std::function<void(bool)> old_report = sentinels.stores.on_health(1);
  sentinels.named = 2;
  sentinels.announce("another-master 127.0.0.1 7 127.0.0.1 8");  // not ours: asks nothing
  ASSERT_TRUE(eventually([&] { return sentinels.delivered == 2; }));
  EXPECT_EQ(sentinels.stores.opened(2), 0);
  sentinels.announce(std::string(kName) + " 127.0.0.1 1 127.0.0.1 2");
  ASSERT_TRUE(eventually([&] { return !sentinels.stores.alive(1); }));  // its pool closed, not re-pointed
  EXPECT_EQ(sentinels.stores.opened(2), 1);
  EXPECT_EQ(store.run_once_fresh({"GET", "k"}).text, "2");
  EXPECT_EQ(store.master_address().port, 2);

  old_report(false);  // the replaced store's last words: not about the master now
  std::lock_guard lock(health_mutex);
  EXPECT_TRUE(health.empty());
}

TEST(SentinelStore, AMasterSeenDownIsAskedForAgainWithoutASwitchMessage) {
  FakeSentinels sentinels;
  sentinels.named = 1;
  std::atomic<int> downs = 0;
  SentinelStore store(sentinels.options(), sentinels.backend(), [&](bool up) { downs += up ? 0 : 1; });
  ASSERT_EQ(sentinels.stores.opened(1), 1);
  ASSERT_TRUE(eventually([&] { return sentinels.subscriptions >= 1; }));

  sentinels.named = 2;  // failed over; the switch message never came
  sentinels.stores.on_health(1)(false);
  EXPECT_EQ(downs, 1);  // the current master's news is passed on
  ASSERT_TRUE(eventually([&] { return store.master_address().port == 2; }));
  EXPECT_EQ(sentinels.stores.opened(2), 1);
  EXPECT_EQ(store.run({"GET", "k"}).text, "2");
  EXPECT_TRUE(eventually([&] { return sentinels.subscriptions == 2; }));  // asked again on a new subscription
}
