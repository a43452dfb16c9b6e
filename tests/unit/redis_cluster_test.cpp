// The Redis Cluster pieces against known answers and in-memory fake nodes:
// slots (values checked against a real server's CLUSTER KEYSLOT), the
// CLUSTER SLOTS parser (fed raw RESP through hiredis' own reader), redirect
// texts, the hash-tagged key layout, and ClusterStore's routing, redirects and
// retries over fake nodes.

#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <mutex>

#include "eventually.hpp"
#include "fakes/opened_stores.hpp"
#include "redis/cluster/cluster_store.hpp"
#include "redis/cluster/command_key.hpp"
#include "redis/cluster/key_slot.hpp"
#include "redis/cluster/redirect.hpp"
#include "redis/cluster/slot_map.hpp"
#include "redis/key_scheme.hpp"

using namespace scalecache;
using scalecache::testing::eventually;

namespace {

// A reply parsed from RESP text by hiredis, as it would come off the wire.
std::unique_ptr<redisReply, decltype(&freeReplyObject)> resp(const std::string& text) {
  redisReader* reader = redisReaderCreate();
  redisReaderFeed(reader, text.data(), text.size());
  void* reply = nullptr;
  EXPECT_EQ(redisReaderGetReply(reader, &reply), REDIS_OK);
  redisReaderFree(reader);
  return {static_cast<redisReply*>(reply), &freeReplyObject};
}

RedisAddress at(int port) {
  RedisAddress a;
  a.host = "127.0.0.1";
  a.port = port;
  return a;
}

}  // namespace

TEST(KeySlot, MatchesClusterKeyslotOfARealServer) {
  // redis-server 7.0.15, cluster-enabled, CLUSTER KEYSLOT <key>.
  EXPECT_EQ(crc16_xmodem("123456789"), 0x31C3);  // the CRC16/XMODEM check value
  EXPECT_EQ(key_slot("foo"), 12182);
  EXPECT_EQ(key_slot("bar"), 5061);
  EXPECT_EQ(key_slot("123456789"), 12739);
  EXPECT_EQ(key_slot("{user1000}.following"), 3443);
  EXPECT_EQ(key_slot("{user1000}.followers"), 3443);
  EXPECT_EQ(key_slot("foo{}{bar}"), 8363);     // an empty tag: the whole key
  EXPECT_EQ(key_slot("foo{{bar}}zap"), 4015);  // the tag is "{bar"
  EXPECT_EQ(key_slot("foo{bar}{zap}"), 5061);  // the first tag only: "bar"
  EXPECT_EQ(key_slot("scalecache:v:{alpha}"), 865);
  EXPECT_EQ(key_slot(""), 0);
}

TEST(KeyScheme, HashTagsPutEveryNameOfAKeyInOneSlot) {
  const KeyScheme plain("sc:");
  EXPECT_EQ(plain.value("alpha"), "sc:v:alpha");  // standalone names are unchanged
  const KeyScheme tagged("sc:", true);
  EXPECT_EQ(tagged.value("alpha"), "sc:v:{alpha}");
  EXPECT_EQ(tagged.lease("alpha"), "sc:l:{alpha}");
  EXPECT_EQ(tagged.tag("news"), "sc:t:news");
  EXPECT_EQ(tagged.events_channel(), "sc:events");
  for (const std::string key : {"alpha", "a}b", "{x}", "}lead", "", "#hash", "a{b}c"}) {
    const int slot = key_slot(tagged.value(key));
    EXPECT_EQ(key_slot(tagged.lease(key)), slot) << key;
    EXPECT_EQ(key_slot(tagged.generation(key)), slot) << key;
    EXPECT_EQ(key_slot(tagged.bypass(key)), slot) << key;
  }
  // A key holding braces, or one that looks like a hashed tag, is tagged by its hash; names stay distinct.
  EXPECT_EQ(tagged.value("a}b").rfind("sc:v:{#", 0), 0u);
  EXPECT_NE(tagged.value("#x"), tagged.value("x"));
  EXPECT_NE(tagged.value("{x}"), tagged.value("x"));
}

TEST(SlotMap, ParsesClusterSlots) {
  const auto reply = resp(
      "*2\r\n"
      "*4\r\n:0\r\n:8191\r\n*3\r\n$9\r\n127.0.0.1\r\n:7000\r\n$2\r\nid\r\n*3\r\n$9\r\n127.0.0.1\r\n:7003\r\n$"
      "2\r\nid\r\n"
      "*3\r\n:8192\r\n:16383\r\n*3\r\n$1\r\n?\r\n:7001\r\n$2\r\nid\r\n");
  const auto map = parse_cluster_slots(*reply, at(7001));
  ASSERT_TRUE(map);
  ASSERT_EQ(map->masters.size(), 2u);
  EXPECT_EQ(map->slots_covered(), 16384u);
  EXPECT_EQ(map->master_of(0)->port, 7000);
  EXPECT_EQ(map->master_of(8191)->port, 7000);
  EXPECT_EQ(map->master_of(8192)->port, 7001);
  EXPECT_EQ(map->master_of(8192)->host, "127.0.0.1");  // "?" is the node asked
  EXPECT_FALSE(parse_cluster_slots(*resp("-ERR This instance has cluster support disabled\r\n"), at(1)));
  EXPECT_FALSE(parse_cluster_slots(*resp("*1\r\n*3\r\n:5\r\n:99999\r\n*2\r\n$1\r\nh\r\n:1\r\n"), at(1)));
  const auto partial = parse_cluster_slots(*resp("*1\r\n*3\r\n:5\r\n:9\r\n*2\r\n$1\r\nh\r\n:1\r\n"), at(1));
  ASSERT_TRUE(partial);
  EXPECT_EQ(partial->slots_covered(), 5u);
  EXPECT_EQ(partial->master_of(4), nullptr);
}

TEST(Redirect, ParsesTheClusterAnswers) {
  const auto moved = parse_redirect("MOVED 3999 127.0.0.1:6381");
  ASSERT_TRUE(moved);
  EXPECT_EQ(moved->kind, Redirect::Kind::Moved);
  EXPECT_EQ(moved->slot, 3999);
  EXPECT_EQ(endpoint_of(moved->target), "127.0.0.1:6381");
  const auto ask = parse_redirect("ASK 12 [::1]:7002");
  ASSERT_TRUE(ask);
  EXPECT_EQ(ask->kind, Redirect::Kind::Ask);
  EXPECT_EQ(ask->target.host, "::1");
  EXPECT_EQ(parse_redirect("TRYAGAIN Multiple keys request during rehashing of slot")->kind, Redirect::Kind::TryAgain);
  EXPECT_EQ(parse_redirect("CLUSTERDOWN The cluster is down")->kind, Redirect::Kind::ClusterDown);
  EXPECT_FALSE(parse_redirect("NOSCRIPT No matching script"));
  EXPECT_FALSE(parse_redirect("MOVED x y"));
  EXPECT_FALSE(parse_redirect(""));
}

TEST(CommandKey, FindsTheSlotDecidingArgument) {
  EXPECT_EQ(command_key({"GET", "k"}), "k");
  EXPECT_EQ(command_key({"EVALSHA", "sha", "3", "a", "b", "c", "x"}), "a");
  EXPECT_EQ(command_key({"EVALSHA", "sha", "0"}), std::nullopt);
  EXPECT_EQ(command_key({"PUBLISH", "channel", "m"}), std::nullopt);
  EXPECT_EQ(command_key({"sscan", "set", "0"}), "set");
}

namespace {

// A cluster node in memory: a key-value map answering GET and SET, and
// scripted error answers (MOVED, ASK, TRYAGAIN) for the next commands on a key.
// Each pipeline is one connection: ASKING holds for the command after it in
// the same pipeline only.
class FakeNode final : public RedisCommands {
 public:
  std::vector<Reply> pipeline(const std::vector<Command>& commands) override {
    std::lock_guard lock(mutex_);
    return answer(commands);
  }
  std::vector<Reply> pipeline_once_fresh(const std::vector<Command>& commands) override {
    std::lock_guard lock(mutex_);
    fresh.emplace_back();
    for (const Command& c : commands) fresh.back().push_back(c[0] + (c.size() > 1 ? " " + c[1] : ""));
    return answer(commands);
  }
  bool up() const override { return !down; }
  std::string endpoint() const override { return "fake"; }

  std::mutex mutex_;
  std::map<std::string, std::string> data;
  std::map<std::string, std::deque<std::string>> errors;
  std::vector<std::string> log;                 // every command, fresh or pooled
  std::vector<std::vector<std::string>> fresh;  // the fresh pipelines, one entry per connection
  bool down = false;

 private:
  std::vector<Reply> answer(const std::vector<Command>& commands) {
    std::vector<Reply> replies;
    bool asking = false;
    for (const Command& c : commands) {
      log.push_back(c[0] + (c.size() > 1 ? " " + c[1] : ""));
      Reply r;
      if (down) {
        replies.push_back(r);
        continue;
      }
      auto scripted = c.size() > 1 ? errors.find(c[1]) : errors.end();
      if (c[0] == "ASKING") {
        asking = true;
        r.status = Status::Ok;
      } else if (scripted != errors.end() && !scripted->second.empty() &&
                 !(asking && scripted->second.front() == "ASK-ONLY")) {
        r.text = scripted->second.front();
        scripted->second.pop_front();
      } else if (c[0] == "GET") {
        const auto it = data.find(c[1]);
        r.status = it == data.end() ? Status::Miss : Status::Ok;
        if (it != data.end()) r.text = it->second;
      } else if (c[0] == "SET") {
        data[c[1]] = c[2];
        r.status = Status::Ok;
      } else {
        r.status = Status::Ok;  // PUBLISH and the rest: accepted
      }
      if (c[0] != "ASKING") asking = false;
      replies.push_back(r);
    }
    return replies;
  }
};

// Two fake masters: slots 0-8191 on :1, 8192-16383 on :2 ("foo" is 12182, "bar" 5061).
struct FakeCluster {
  std::map<int, std::shared_ptr<FakeNode>> nodes{{1, std::make_shared<FakeNode>()}, {2, std::make_shared<FakeNode>()}};
  std::atomic<int> fetches = 0;
  std::vector<Redirect::Kind> redirects;

  ClusterStore::Backend backend() {
    ClusterStore::Backend b;
    b.timeout_ms = 200;
    b.open_node = [this](const RedisAddress& a, std::function<void(bool)>) { return nodes.at(a.port); };
    b.fetch_map = [this](const RedisAddress&, std::string&) {
      ++fetches;
      SlotMap map;
      map.masters = {at(1), at(2)};
      std::fill(map.owner.begin(), map.owner.begin() + 8192, int16_t{0});
      std::fill(map.owner.begin() + 8192, map.owner.end(), int16_t{1});
      return std::optional<SlotMap>(map);
    };
    return b;
  }
  ClusterStore::Hooks hooks() {
    ClusterStore::Hooks h;
    h.on_redirect = [this](Redirect::Kind k) { redirects.push_back(k); };
    return h;
  }
};

}  // namespace

TEST(ClusterStore, SplitsAPipelinePerNodeAndKeepsNoticesWithTheirCommand) {
  FakeCluster cluster;
  ClusterStore store(cluster.backend(), {at(1)}, cluster.hooks());
  const auto replies =
      store.pipeline({{"SET", "foo", "1"}, {"PUBLISH", "ch", "m"}, {"SET", "bar", "2"}, {"GET", "foo"}});
  ASSERT_EQ(replies.size(), 4u);
  EXPECT_EQ(replies[3].text, "1");
  EXPECT_EQ(cluster.nodes[2]->log, (std::vector<std::string>{"SET foo", "PUBLISH ch", "GET foo"}));
  EXPECT_EQ(cluster.nodes[1]->log, (std::vector<std::string>{"SET bar"}));
  EXPECT_TRUE(cluster.redirects.empty());
}

TEST(ClusterStore, FollowsMovedAndAskAndRetriesTryAgain) {
  FakeCluster cluster;
  ClusterStore store(cluster.backend(), {at(1)}, cluster.hooks());
  cluster.nodes[2]->data["foo"] = "moved-value";
  cluster.nodes[1]->errors["bar"] = {"MOVED 5061 127.0.0.1:2"};
  cluster.nodes[2]->data["bar"] = "on-2";
  EXPECT_EQ(store.run({"GET", "bar"}).text, "on-2");

  cluster.nodes[2]->errors["foo"] = {"ASK 12182 127.0.0.1:1"};
  cluster.nodes[1]->data["foo"] = "importing";
  EXPECT_EQ(store.run({"GET", "foo"}).text, "importing");
  EXPECT_EQ(cluster.nodes[1]->log.back(), "GET foo");
  EXPECT_EQ(cluster.nodes[1]->log[cluster.nodes[1]->log.size() - 2], "ASKING");

  cluster.nodes[2]->errors["foo"] = {"TRYAGAIN", "CLUSTERDOWN The cluster is down"};
  cluster.nodes[2]->data["foo"] = "after-retry";
  EXPECT_EQ(store.run({"GET", "foo"}).text, "after-retry");
  EXPECT_EQ(cluster.redirects, (std::vector<Redirect::Kind>{Redirect::Kind::Moved, Redirect::Kind::Ask,
                                                            Redirect::Kind::TryAgain, Redirect::Kind::ClusterDown}));
}

TEST(ClusterStore, ANoticeAfterARedirectedCommandIsSentAgainAfterIt) {
  FakeCluster cluster;
  ClusterStore store(cluster.backend(), {at(1)}, cluster.hooks());
  cluster.nodes[2]->errors["foo"] = {"MOVED 12182 127.0.0.1:1"};
  const auto replies = store.pipeline({{"SET", "foo", "1"}, {"PUBLISH", "ch", "filled foo"}});
  EXPECT_EQ(replies[0].status, RedisCommands::Status::Ok);
  EXPECT_EQ(cluster.nodes[1]->log, (std::vector<std::string>{"SET foo", "PUBLISH ch"}));  // the value, then the notice
}

TEST(ClusterStore, GivesUpWithinItsBudgetAndOneDownNodeFailsOnlyItsKeys) {
  FakeCluster cluster;
  ClusterStore store(cluster.backend(), {at(1)}, cluster.hooks());
  cluster.nodes[2]->errors["foo"] = std::deque<std::string>(100, "CLUSTERDOWN The cluster is down");
  const auto reply = store.run({"GET", "foo"});
  EXPECT_EQ(reply.status, RedisCommands::Status::Unavailable);
  EXPECT_LE(cluster.redirects.size(), 5u);  // bounded rounds

  cluster.nodes[2]->errors.clear();
  cluster.nodes[2]->down = true;
  cluster.nodes[1]->data["bar"] = "fine";
  const auto replies = store.pipeline({{"GET", "foo"}, {"GET", "bar"}});
  EXPECT_EQ(replies[0].status, RedisCommands::Status::Unavailable);
  EXPECT_EQ(replies[1].text, "fine");
}

TEST(ClusterStore, AFreshCommandFollowsMovedAndAskOnFreshConnections) {
  FakeCluster cluster;
  ClusterStore store(cluster.backend(), {at(1)}, cluster.hooks());
  cluster.nodes[1]->errors["bar"] = {"MOVED 5061 127.0.0.1:2"};
  cluster.nodes[2]->data["bar"] = "on-2";
  EXPECT_EQ(store.run_once_fresh({"GET", "bar"}).text, "on-2");
  EXPECT_EQ(cluster.nodes[2]->fresh, (std::vector<std::vector<std::string>>{{"GET bar"}}));

  // The importing node answers only a command preceded by ASKING on the same connection.
  cluster.nodes[2]->errors["foo"] = {"ASK 12182 127.0.0.1:1"};
  cluster.nodes[1]->errors["foo"] = {"ASK-ONLY"};
  cluster.nodes[1]->data["foo"] = "importing";
  EXPECT_EQ(store.run_once_fresh({"GET", "foo"}).text, "importing");
  EXPECT_EQ(cluster.nodes[1]->fresh, (std::vector<std::vector<std::string>>{{"GET bar"}, {"ASKING", "GET foo"}}));
  EXPECT_EQ(cluster.nodes[1]->log.size(), 3u);  // nothing went through the pool
  EXPECT_EQ(cluster.redirects, (std::vector<Redirect::Kind>{Redirect::Kind::Moved, Redirect::Kind::Ask}));
}

namespace {

// A map whose masters share the slots round-robin.
SlotMap map_of(const std::vector<int>& ports) {
  SlotMap map;
  for (const int port : ports) map.masters.push_back(at(port));
  for (std::size_t slot = 0; slot < map.owner.size(); ++slot) {
    map.owner[slot] = static_cast<int16_t>(slot % ports.size());
  }
  return map;
}

// Masters that come and go: the n-th map read (from 1) has masters_at(n).
// Every store opened is a new FakeNode, kept track of in `stores`; the map
// is re-read every 100 ms (the gap).
struct ChangingCluster {
  std::function<std::vector<int>(int fetch)> masters_at;
  std::atomic<int> fetches = 0;
  scalecache::testing::OpenedStores stores;

  ClusterStore::Backend backend() {
    ClusterStore::Backend b;
    b.timeout_ms = 200;
    b.refresh_interval_ms = 1;
    b.open_node = [this](const RedisAddress& a, std::function<void(bool)> on_health) {
      auto node = std::make_shared<FakeNode>();
      stores.add(a.port, node, std::move(on_health));
      return node;
    };
    b.fetch_map = [this](const RedisAddress&, std::string&) {
      return std::optional<SlotMap>(map_of(masters_at(++fetches)));
    };
    return b;
  }
  ClusterStore::Hooks hooks() {
    ClusterStore::Hooks h;
    h.on_node_health = [this](const std::string& node, bool) {
      std::lock_guard lock(mutex_);
      health_reports_.push_back(node);
    };
    h.on_node_dropped = [this](const std::string& node) {
      std::lock_guard lock(mutex_);
      dropped_.emplace_back(node, fetches.load());
    };
    return h;
  }

  std::vector<std::pair<std::string, int>> dropped() {  // node, map reads by then
    std::lock_guard lock(mutex_);
    return dropped_;
  }
  std::vector<std::string> health_reports() {
    std::lock_guard lock(mutex_);
    return health_reports_;
  }

 private:
  std::mutex mutex_;
  std::vector<std::pair<std::string, int>> dropped_;
  std::vector<std::string> health_reports_;
};

}  // namespace

TEST(ClusterStore, ANodeGoneFromTheMapIsClosedAfterTwoRefreshesWithoutIt) {
  ChangingCluster cluster;
  cluster.masters_at = [](int fetch) { return fetch == 1 ? std::vector<int>{1, 2, 3} : std::vector<int>{1, 2}; };
  ClusterStore store(cluster.backend(), {at(1)}, cluster.hooks());
  ASSERT_TRUE(cluster.stores.alive(3));
  const std::function<void(bool)> report = cluster.stores.on_health(3);
  ASSERT_TRUE(eventually([&] { return !cluster.stores.alive(3); }));
  // Left out of reads 2 and 3: closed after the third.
  EXPECT_EQ(cluster.dropped(), (std::vector<std::pair<std::string, int>>{{"127.0.0.1:3", 3}}));
  report(false);  // what its health thread could still say while stopping: not news of the node
  EXPECT_TRUE(cluster.health_reports().empty());
  EXPECT_TRUE(cluster.stores.alive(1) && cluster.stores.alive(2));
}

TEST(ClusterStore, ANodeBackInTheMapWithinTheGraceKeepsItsStore) {
  ChangingCluster cluster;
  // Out of every other read up to the sixth, then in for good.
  cluster.masters_at = [](int fetch) {
    return fetch % 2 == 0 && fetch <= 6 ? std::vector<int>{1, 2} : std::vector<int>{1, 2, 3};
  };
  ClusterStore store(cluster.backend(), {at(1)}, cluster.hooks());
  ASSERT_TRUE(eventually([&] { return cluster.fetches >= 8; }));
  EXPECT_TRUE(cluster.stores.alive(3));
  EXPECT_EQ(cluster.stores.opened(3), 1);
  EXPECT_TRUE(cluster.dropped().empty());
}

TEST(ClusterStore, ASeedIsNeverClosed) {
  ChangingCluster cluster;
  cluster.masters_at = [](int fetch) { return fetch == 1 ? std::vector<int>{1, 9} : std::vector<int>{1, 2}; };
  ClusterStore store(cluster.backend(), {at(9)}, cluster.hooks());
  ASSERT_TRUE(eventually([&] { return cluster.fetches >= 6; }));
  EXPECT_TRUE(cluster.stores.alive(9));
  EXPECT_EQ(cluster.stores.opened(9), 1);
  EXPECT_TRUE(cluster.dropped().empty());
}
