// kv_server: a redis-compatible (RESP2) in-memory key-value server on weft's public API — a
// fiber per client, pipelining, a sharded store with lazy and active expiry. No Go file.
//
//   kv_server [ADDR] [--procs=N]      ADDR: ":6379" by default ("127.0.0.1:0" picks a port)
//
// Prints "listening on ADDR" once it accepts connections. SIGINT/SIGTERM: stop accepting, close
// every client connection, wait for their fibers, exit 0. Works with redis-cli and
// redis-benchmark. Commands: GET SET (EX PX EXAT PXAT NX XX KEEPTTL GET) DEL EXISTS INCR DECR
// INCRBY DECRBY EXPIRE PEXPIRE (NX XX GT LT) TTL PTTL PERSIST PING ECHO MGET MSET KEYS FLUSHALL
// DBSIZE SELECT QUIT, and COMMAND / CONFIG GET answered minimally for clients' start-up. Replies
// and error messages are redis 7.0's. Limits: an argument of 512 MB, 1,048,576 arguments, a
// query buffer of 1 GB (a client past that is disconnected, as redis's
// client-query-buffer-limit does). Expiry uses the monotonic clock, so TTLs survive wall-clock
// changes (redis uses the wall clock); there is one database and no persistence.
//
// The store: 64 shards, each a weft::Mutex over an unordered_map (key → value, expiry).
// Lock order: shards in ascending index (MSET locks all the shards it writes, in that order).
// Keys with an expiry are also listed per shard (an index in their entry) so that the expiry
// fiber can sample them at random like redis's activeExpireCycle.
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include <weft/net.hpp>
#include <weft/weft.hpp>

#include "resp.hpp"

using namespace std::chrono_literals;

namespace {

namespace net = weft::net;
using i64 = std::int64_t;
using kv::put_array;
using kv::put_bulk;
using kv::put_error;
using kv::put_int;
using kv::put_nil;
using kv::put_simple;

i64 now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// ---------------------------------------------------------------------------- the store

struct Entry;
using Node = std::pair<const std::string, Entry>;

struct Entry {
  std::string value;
  i64 expire_at = 0;          // steady-clock ms; 0: no expiry
  std::size_t vol_index = 0;  // position in Shard::volatile_ while expire_at != 0
};

// KeyHash: lets the maps be searched with a string_view (no std::string built per lookup).
struct KeyHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// Shard: a slice of the key space. Every field is guarded by mu.
struct alignas(64) Shard {
  weft::Mutex mu;
  std::unordered_map<std::string, Entry, KeyHash, std::equal_to<>> map;
  // volatile_: the entries of map with an expiry (node addresses are stable in unordered_map).
  std::vector<Node*> volatile_;

  // find: the live entry of key, dropping it if it has expired (lazy expiry).
  Node* find(std::string_view key, i64 now) {
    auto it = map.find(key);
    if (it == map.end()) return nullptr;
    if (it->second.expire_at != 0 && it->second.expire_at <= now) {
      erase(&*it);
      return nullptr;
    }
    return &*it;
  }
  void set_expire(Node* n, i64 at) {
    Entry& e = n->second;
    if (at != 0 && e.expire_at == 0) {
      e.vol_index = volatile_.size();
      volatile_.push_back(n);
    } else if (at == 0 && e.expire_at != 0) {
      unlist(n);
    }
    e.expire_at = at;
  }
  void erase(Node* n) {
    if (n->second.expire_at != 0) unlist(n);
    map.erase(n->first);
  }
  void clear() {
    map.clear();
    volatile_.clear();
  }

 private:
  void unlist(Node* n) {
    std::size_t i = n->second.vol_index;
    volatile_[i] = volatile_.back();
    volatile_[i]->second.vol_index = i;
    volatile_.pop_back();
  }
};

class Store {
 public:
  static constexpr std::size_t kShards = 64;

  Shard& shard_of(std::string_view key) { return shards_[index_of(key)]; }
  static std::size_t index_of(std::string_view key) {
    return std::hash<std::string_view>{}(key) % kShards;
  }
  Shard& shard(std::size_t i) { return shards_[i]; }

  // expire_cycle: redis's activeExpireCycle, one pass: in each shard sample up to 20 keys with
  // an expiry and delete the expired ones; sample again while more than a quarter of a sample
  // had expired (at most 16 rounds a shard, so one pass stays short). Returns keys deleted.
  std::size_t expire_cycle(std::minstd_rand& rng) {
    std::size_t deleted = 0;
    i64 now = now_ms();
    for (Shard& s : shards_) {
      std::lock_guard lk(s.mu);
      for (int round = 0; round < 16 && !s.volatile_.empty(); ++round) {
        std::size_t sample = std::min<std::size_t>(20, s.volatile_.size()), expired = 0;
        for (std::size_t k = 0; k < sample && !s.volatile_.empty(); ++k) {
          Node* n = s.volatile_[rng() % s.volatile_.size()];
          if (n->second.expire_at <= now) {
            s.erase(n);
            ++expired;
          }
        }
        deleted += expired;
        if (expired * 4 <= sample) break;
      }
    }
    return deleted;
  }

 private:
  std::array<Shard, kShards> shards_;
};

// ---------------------------------------------------------------------------- the commands

using Args = std::vector<std::string_view>;

struct Session {
  Store& store;
  std::string& out;
  bool quit = false;
};

std::string lower(std::string_view s) {
  std::string r(s);
  for (char& c : r) c = char(std::tolower(static_cast<unsigned char>(c)));
  return r;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

void err_not_integer(std::string& out) {
  put_error(out, "ERR value is not an integer or out of range");
}
void err_syntax(std::string& out) { put_error(out, "ERR syntax error"); }

// expire_at_from: an absolute expiry in ms from a command's relative or absolute time, or 0 with
// redis's "invalid expire time" when it is not positive or overflows. unit_ms: 1 or 1000.
bool expire_at_from(i64 v, i64 unit_ms, bool absolute, i64 now, i64* at) {
  if (v <= 0 || v > std::numeric_limits<i64>::max() / unit_ms) return false;
  i64 ms = v * unit_ms;
  if (absolute) {
    // EXAT/PXAT are Unix times: convert through the wall clock once.
    i64 wall = std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
    ms -= wall;  // may be <= 0: already expired
    *at = ms <= 0 ? now : now + ms;
    return true;
  }
  if (ms > std::numeric_limits<i64>::max() - now) return false;
  *at = now + ms;
  return true;
}

// SET key value [NX|XX] [GET] [EX s|PX ms|EXAT t|PXAT t|KEEPTTL]
void cmd_set(Session& s, const Args& a) {
  enum : unsigned {
    kNx = 1,
    kXx = 2,
    kGet = 4,
    kKeepTtl = 8,
    kEx = 16,
    kPx = 32,
    kExAt = 64,
    kPxAt = 128
  };
  constexpr unsigned kTimeFlags = kKeepTtl | kEx | kPx | kExAt | kPxAt;
  unsigned flags = 0;
  i64 tval = 0;
  for (std::size_t i = 3; i < a.size(); ++i) {
    std::string_view o = a[i];
    bool has_next = i + 1 < a.size();
    if (iequals(o, "nx") && !(flags & (kXx | kNx))) {
      flags |= kNx;
    } else if (iequals(o, "xx") && !(flags & (kNx | kXx))) {
      flags |= kXx;
    } else if (iequals(o, "get") && !(flags & kGet)) {
      flags |= kGet;
    } else if (iequals(o, "keepttl") && !(flags & kTimeFlags)) {
      flags |= kKeepTtl;
    } else if (has_next && !(flags & kTimeFlags) &&
               (iequals(o, "ex") || iequals(o, "px") || iequals(o, "exat") || iequals(o, "pxat"))) {
      flags |= iequals(o, "ex") ? kEx : iequals(o, "px") ? kPx : iequals(o, "exat") ? kExAt : kPxAt;
      if (!kv::parse_int64(a[++i], &tval)) return err_not_integer(s.out);
    } else {
      return err_syntax(s.out);
    }
  }
  i64 now = now_ms(), at = 0;
  if (flags & (kEx | kPx | kExAt | kPxAt)) {
    i64 unit = flags & (kEx | kExAt) ? 1000 : 1;
    if (!expire_at_from(tval, unit, flags & (kExAt | kPxAt), now, &at)) {
      return put_error(s.out, "ERR invalid expire time in 'set' command");
    }
  }
  Shard& sh = s.store.shard_of(a[1]);
  std::lock_guard lk(sh.mu);
  Node* n = sh.find(a[1], now);
  if (flags & kGet) n ? put_bulk(s.out, n->second.value) : put_nil(s.out);
  if (((flags & kNx) && n) || ((flags & kXx) && !n)) {
    if (!(flags & kGet)) put_nil(s.out);
    return;
  }
  if (!n) n = &*sh.map.try_emplace(std::string(a[1])).first;
  n->second.value.assign(a[2]);
  if (!(flags & kKeepTtl)) sh.set_expire(n, at);
  if (!(flags & kGet)) put_simple(s.out, "OK");
}

void cmd_get(Session& s, const Args& a) {
  Shard& sh = s.store.shard_of(a[1]);
  std::lock_guard lk(sh.mu);
  Node* n = sh.find(a[1], now_ms());
  n ? put_bulk(s.out, n->second.value) : put_nil(s.out);
}

void cmd_del(Session& s, const Args& a) {
  long long deleted = 0;
  i64 now = now_ms();
  for (std::size_t i = 1; i < a.size(); ++i) {
    Shard& sh = s.store.shard_of(a[i]);
    std::lock_guard lk(sh.mu);
    if (Node* n = sh.find(a[i], now)) {
      sh.erase(n);
      ++deleted;
    }
  }
  put_int(s.out, deleted);
}

void cmd_exists(Session& s, const Args& a) {
  long long found = 0;  // a key named twice counts twice, as in redis
  i64 now = now_ms();
  for (std::size_t i = 1; i < a.size(); ++i) {
    Shard& sh = s.store.shard_of(a[i]);
    std::lock_guard lk(sh.mu);
    if (sh.find(a[i], now)) ++found;
  }
  put_int(s.out, found);
}

// incr_by: INCR, DECR, INCRBY, DECRBY. The expiry is kept, as in redis.
void incr_by(Session& s, std::string_view key, i64 by) {
  Shard& sh = s.store.shard_of(key);
  std::lock_guard lk(sh.mu);
  Node* n = sh.find(key, now_ms());
  i64 v = 0;
  if (n && !kv::parse_int64(n->second.value, &v)) return err_not_integer(s.out);
  if ((by > 0 && v > std::numeric_limits<i64>::max() - by) ||
      (by < 0 && v < std::numeric_limits<i64>::min() - by)) {
    return put_error(s.out, "ERR increment or decrement would overflow");
  }
  v += by;
  if (!n) n = &*sh.map.try_emplace(std::string(key)).first;
  n->second.value = std::to_string(v);
  put_int(s.out, v);
}
void cmd_incr(Session& s, const Args& a) { incr_by(s, a[1], 1); }
void cmd_decr(Session& s, const Args& a) { incr_by(s, a[1], -1); }
void cmd_incrby(Session& s, const Args& a) {
  i64 by;
  if (!kv::parse_int64(a[2], &by)) return err_not_integer(s.out);
  incr_by(s, a[1], by);
}
void cmd_decrby(Session& s, const Args& a) {
  i64 by;
  if (!kv::parse_int64(a[2], &by)) return err_not_integer(s.out);
  if (by == std::numeric_limits<i64>::min()) {
    return put_error(s.out, "ERR decrement would overflow");
  }
  incr_by(s, a[1], -by);
}

// EXPIRE / PEXPIRE key time [NX|XX|GT|LT] (redis 7.0's expireGenericCommand).
void expire_generic(Session& s, const Args& a, i64 unit, const char* name) {
  enum : unsigned { kNx = 1, kXx = 2, kGt = 4, kLt = 8 };
  unsigned flags = 0;
  for (std::size_t i = 3; i < a.size(); ++i) {
    if (iequals(a[i], "nx"))
      flags |= kNx;
    else if (iequals(a[i], "xx"))
      flags |= kXx;
    else if (iequals(a[i], "gt"))
      flags |= kGt;
    else if (iequals(a[i], "lt"))
      flags |= kLt;
    else
      return put_error(s.out, "ERR Unsupported option " + std::string(a[i]));
  }
  if ((flags & kNx) && (flags & (kXx | kGt | kLt))) {
    return put_error(s.out, "ERR NX and XX, GT or LT options at the same time are not compatible");
  }
  if ((flags & kGt) && (flags & kLt)) {
    return put_error(s.out, "ERR GT and LT options at the same time are not compatible");
  }
  i64 v;
  if (!kv::parse_int64(a[2], &v)) return err_not_integer(s.out);
  i64 now = now_ms();
  // A non-positive time deletes the key; an overflowing one is an error, as in redis.
  bool past = v <= 0;
  i64 at = now;
  if (!past && (v > std::numeric_limits<i64>::max() / unit ||
                v * unit > std::numeric_limits<i64>::max() - now)) {
    return put_error(s.out, std::string("ERR invalid expire time in '") + name + "' command");
  }
  if (!past) at = now + v * unit;
  Shard& sh = s.store.shard_of(a[1]);
  std::lock_guard lk(sh.mu);
  Node* n = sh.find(a[1], now);
  if (!n) return put_int(s.out, 0);
  i64 cur = n->second.expire_at;  // 0: none, which counts as infinite for GT and LT
  if (((flags & kNx) && cur != 0) || ((flags & kXx) && cur == 0) ||
      ((flags & kGt) && (cur == 0 || at <= cur)) || ((flags & kLt) && cur != 0 && at >= cur)) {
    return put_int(s.out, 0);
  }
  if (past) {
    sh.erase(n);
  } else {
    sh.set_expire(n, at);
  }
  put_int(s.out, 1);
}
void cmd_expire(Session& s, const Args& a) { expire_generic(s, a, 1000, "expire"); }
void cmd_pexpire(Session& s, const Args& a) { expire_generic(s, a, 1, "pexpire"); }

void ttl_generic(Session& s, const Args& a, bool ms) {
  Shard& sh = s.store.shard_of(a[1]);
  i64 now = now_ms();
  std::lock_guard lk(sh.mu);
  Node* n = sh.find(a[1], now);
  if (!n) return put_int(s.out, -2);
  if (n->second.expire_at == 0) return put_int(s.out, -1);
  i64 left = n->second.expire_at - now;
  put_int(s.out, ms ? left : (left + 500) / 1000);
}
void cmd_ttl(Session& s, const Args& a) { ttl_generic(s, a, false); }
void cmd_pttl(Session& s, const Args& a) { ttl_generic(s, a, true); }

void cmd_persist(Session& s, const Args& a) {
  Shard& sh = s.store.shard_of(a[1]);
  std::lock_guard lk(sh.mu);
  Node* n = sh.find(a[1], now_ms());
  if (!n || n->second.expire_at == 0) return put_int(s.out, 0);
  sh.set_expire(n, 0);
  put_int(s.out, 1);
}

void cmd_ping(Session& s, const Args& a) {
  if (a.size() > 2) return put_error(s.out, "ERR wrong number of arguments for 'ping' command");
  a.size() == 2 ? put_bulk(s.out, a[1]) : put_simple(s.out, "PONG");
}
void cmd_echo(Session& s, const Args& a) { put_bulk(s.out, a[1]); }

void cmd_mget(Session& s, const Args& a) {
  put_array(s.out, a.size() - 1);
  i64 now = now_ms();
  for (std::size_t i = 1; i < a.size(); ++i) {
    Shard& sh = s.store.shard_of(a[i]);
    std::lock_guard lk(sh.mu);
    Node* n = sh.find(a[i], now);
    n ? put_bulk(s.out, n->second.value) : put_nil(s.out);
  }
}

// MSET is atomic, as in redis: every shard it writes is locked (in ascending order) first.
void cmd_mset(Session& s, const Args& a) {
  if (a.size() % 2 == 0)
    return put_error(s.out, "ERR wrong number of arguments for 'mset' command");
  std::vector<std::size_t> idx;
  for (std::size_t i = 1; i < a.size(); i += 2) idx.push_back(Store::index_of(a[i]));
  std::vector<std::size_t> order = idx;
  std::sort(order.begin(), order.end());
  order.erase(std::unique(order.begin(), order.end()), order.end());
  for (std::size_t i : order) s.store.shard(i).mu.lock();
  for (std::size_t i = 1; i < a.size(); i += 2) {
    Shard& sh = s.store.shard(idx[i / 2]);
    Node* n = &*sh.map.try_emplace(std::string(a[i])).first;
    n->second.value.assign(a[i + 1]);
    sh.set_expire(n, 0);
  }
  for (std::size_t i : order) s.store.shard(i).mu.unlock();
  put_simple(s.out, "OK");
}

void cmd_keys(Session& s, const Args& a) {
  std::vector<std::string> found;
  i64 now = now_ms();
  bool all = a[1] == "*";
  for (std::size_t i = 0; i < Store::kShards; ++i) {
    Shard& sh = s.store.shard(i);
    std::lock_guard lk(sh.mu);
    for (const auto& [k, e] : sh.map) {
      if (e.expire_at != 0 && e.expire_at <= now) continue;
      if (all || kv::glob_match(a[1], k)) found.push_back(k);
    }
  }
  put_array(s.out, found.size());
  for (const auto& k : found) put_bulk(s.out, k);
}

void cmd_flushall(Session& s, const Args& a) {
  if (a.size() > 2 || (a.size() == 2 && !iequals(a[1], "async") && !iequals(a[1], "sync"))) {
    return err_syntax(s.out);
  }
  for (std::size_t i = 0; i < Store::kShards; ++i) {
    Shard& sh = s.store.shard(i);
    std::lock_guard lk(sh.mu);
    sh.clear();
  }
  put_simple(s.out, "OK");
}

// DBSIZE counts keys not yet reclaimed, expired or not, as redis's does.
void cmd_dbsize(Session& s, const Args&) {
  long long n = 0;
  for (std::size_t i = 0; i < Store::kShards; ++i) {
    Shard& sh = s.store.shard(i);
    std::lock_guard lk(sh.mu);
    n += static_cast<long long>(sh.map.size());
  }
  put_int(s.out, n);
}

void cmd_select(Session& s, const Args& a) {
  i64 db;
  if (!kv::parse_int64(a[1], &db)) return err_not_integer(s.out);
  if (db != 0) return put_error(s.out, "ERR DB index is out of range");
  put_simple(s.out, "OK");
}

void cmd_quit(Session& s, const Args&) {
  put_simple(s.out, "OK");
  s.quit = true;
}

std::size_t command_count();

// COMMAND: enough for clients' start-up (redis-cli asks COMMAND DOCS for its hints and copes
// with an empty answer): COUNT, DOCS and an empty table; INFO names no command.
void cmd_command(Session& s, const Args& a) {
  if (a.size() == 1) return put_array(s.out, 0);
  std::string sub = lower(a[1]);
  if (sub == "count" && a.size() == 2)
    return put_int(s.out, static_cast<long long>(command_count()));
  if (sub == "docs") return put_array(s.out, 0);
  if (sub == "info") {
    put_array(s.out, a.size() - 2);
    for (std::size_t i = 2; i < a.size(); ++i) put_nil(s.out);
    return;
  }
  put_error(s.out,
            "ERR unknown subcommand '" + std::string(a[1]).substr(0, 128) + "'. Try COMMAND HELP.");
}

// CONFIG GET pattern...: the few settings clients ask about (redis-benchmark: save,
// appendonly), as name/value pairs, each once however many patterns match it.
void cmd_config(Session& s, const Args& a) {
  static constexpr std::pair<std::string_view, std::string_view> kConfig[] = {
      {"appendonly", "no"}, {"databases", "1"}, {"save", ""}};
  if (!iequals(a[1], "get")) {
    return put_error(s.out, "ERR unknown subcommand '" + std::string(a[1]).substr(0, 128) +
                                "'. Try CONFIG HELP.");
  }
  if (a.size() < 3)
    return put_error(s.out, "ERR wrong number of arguments for 'config|get' command");
  std::vector<std::pair<std::string_view, std::string_view>> hits;
  for (const auto& kvp : kConfig) {
    for (std::size_t i = 2; i < a.size(); ++i) {
      if (kv::glob_match(lower(a[i]), kvp.first)) {
        hits.push_back(kvp);
        break;
      }
    }
  }
  put_array(s.out, hits.size() * 2);
  for (auto [k, v] : hits) {
    put_bulk(s.out, k);
    put_bulk(s.out, v);
  }
}

struct Command {
  void (*fn)(Session&, const Args&);
  int arity;  // redis's: n > 0 exactly n arguments (the name included), n < 0 at least -n
};

const std::unordered_map<std::string, Command>& commands() {
  static const std::unordered_map<std::string, Command> table = {
      {"get", {cmd_get, 2}},
      {"set", {cmd_set, -3}},
      {"del", {cmd_del, -2}},
      {"exists", {cmd_exists, -2}},
      {"incr", {cmd_incr, 2}},
      {"decr", {cmd_decr, 2}},
      {"incrby", {cmd_incrby, 3}},
      {"decrby", {cmd_decrby, 3}},
      {"expire", {cmd_expire, -3}},
      {"pexpire", {cmd_pexpire, -3}},
      {"ttl", {cmd_ttl, 2}},
      {"pttl", {cmd_pttl, 2}},
      {"persist", {cmd_persist, 2}},
      {"ping", {cmd_ping, -1}},
      {"echo", {cmd_echo, 2}},
      {"mget", {cmd_mget, -2}},
      {"mset", {cmd_mset, -3}},
      {"keys", {cmd_keys, 2}},
      {"flushall", {cmd_flushall, -1}},
      {"dbsize", {cmd_dbsize, 1}},
      {"select", {cmd_select, 2}},
      {"quit", {cmd_quit, -1}},
      {"command", {cmd_command, -1}},
      {"config", {cmd_config, -2}},
  };
  return table;
}

std::size_t command_count() { return commands().size(); }

// execute: one command's reply appended to s.out (redis's processCommand checks).
void execute(Session& s, const Args& a) {
  std::string name = lower(a[0]);
  const auto& table = commands();
  auto it = table.find(name);
  if (it == table.end()) {
    std::string args;
    for (std::size_t i = 1; i < a.size() && args.size() < 128; ++i) {
      std::size_t room = 128 - args.size();  // redis: "'%.*s' " with 128 - sdslen(args)
      args += '\'';
      args += a[i].substr(0, room);
      args += "' ";
    }
    return put_error(s.out, "ERR unknown command '" + std::string(a[0].substr(0, 128)) +
                                "', with args beginning with: " + args);
  }
  int arity = it->second.arity;
  if ((arity > 0 && int(a.size()) != arity) || (arity < 0 && int(a.size()) < -arity)) {
    return put_error(s.out, "ERR wrong number of arguments for '" + name + "' command");
  }
  it->second.fn(s, a);
}

// ---------------------------------------------------------------------------- connections

constexpr std::size_t kReadChunk = 16 << 10;
constexpr std::size_t kMaxReadAhead = std::size_t{4} << 20;
constexpr std::size_t kMaxQueryBuffer = std::size_t{1} << 30;

// InBuffer: received bytes; [start, len) not yet parsed. Grows without zero-filling.
struct InBuffer {
  std::unique_ptr<char[]> data;
  std::size_t cap = 0, start = 0, len = 0;

  std::string_view pending() const { return {data.get() + start, len - start}; }
  // room: make space for at least `want` more bytes after len (moving the pending bytes to
  // the front first); returns the free span.
  std::span<std::byte> room(std::size_t want) {
    if (start > 0) {
      std::memmove(data.get(), data.get() + start, len - start);
      len -= start;
      start = 0;
    }
    if (cap - len < want) {
      std::size_t ncap = std::max(cap * 2, len + want);
      auto nd = std::make_unique_for_overwrite<char[]>(ncap);
      if (len) std::memcpy(nd.get(), data.get(), len);
      data = std::move(nd);
      cap = ncap;
    }
    return std::as_writable_bytes(std::span(data.get() + len, cap - len));
  }
  // shrink: drop a large buffer once it is empty again.
  void shrink() {
    if (start == len && cap > 4 * kReadChunk) {
      data.reset();
      cap = start = len = 0;
    }
  }
};

void serve_conn(Store& store, net::Conn c) {
  kv::RequestParser parser;
  InBuffer in;
  std::string out;
  Args argv;
  Session s{store, out};
  for (bool open = true; open;) {
    std::size_t want = kReadChunk;
    // A large argument: room for more of it at once — up to 4 MB ahead of what arrived, so
    // that a length header alone never makes the buffer grow (the buffer doubles meanwhile).
    if (std::size_t need = parser.need(); need > in.len - in.start + want) {
      want = std::min(need - (in.len - in.start), kMaxReadAhead);
    }
    auto [n, err] = c.read(in.room(want));
    if (err) break;
    in.len += n;
    for (;;) {
      auto [status, consumed] = parser.parse(in.pending(), argv);
      if (status == kv::RequestParser::Status::incomplete) break;
      if (status == kv::RequestParser::Status::error) {
        put_error(out, "ERR " + parser.error());
        open = false;
        break;
      }
      if (!argv.empty()) execute(s, argv);
      in.start += consumed;
      if (s.quit) {
        open = false;
        break;
      }
    }
    if (in.len - in.start > kMaxQueryBuffer) open = false;  // redis: client-query-buffer-limit
    if (!out.empty() && c.write(std::as_bytes(std::span(out))).err) break;
    out.clear();
    if (out.capacity() > 4 * kReadChunk) out.shrink_to_fit();
    in.shrink();
  }
  c.close();
}

// ---------------------------------------------------------------------------- the server

bool temporary(std::error_code e) {
  return e == std::errc::too_many_files_open || e == std::errc::too_many_files_open_in_system ||
         e == std::errc::no_buffer_space || e == std::errc::not_enough_memory;
}

// Clients: the open connections, so that shutdown can close them. Guarded by mu.
struct Clients {
  weft::Mutex mu;
  std::unordered_map<std::uint64_t, net::Conn> open;
  std::uint64_t next_id = 0;
  bool closing = false;
  weft::WaitGroup running;
};

int serve(const std::string& addr) {
  auto [ln, err] = net::listen("tcp", addr);
  if (err) {
    std::fprintf(stderr, "kv_server: listen %s: %s\n", addr.c_str(), err.message().c_str());
    return 1;
  }
  std::printf("listening on %s\n", ln.addr().to_string().c_str());
  std::fflush(stdout);

  // SIGINT/SIGTERM are blocked in every thread (main() blocks them before the runtime starts
  // its threads); this thread takes them with sigwait and closes the listener, which ends the
  // accept loop below. Listener::close may be called from any thread.
  std::atomic<bool> signalled{false};
  std::thread sig([&signalled, l = ln]() mutable {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    int signo = 0;
    sigwait(&set, &signo);
    if (!signalled.exchange(true)) {  // not the wake-up sent below
      std::fprintf(stderr, "kv_server: %s, shutting down\n", strsignal(signo));
    }
    l.close();
    l = net::Listener();  // drop the socket before the runtime goes
  });

  static Store store;  // static: 64 shards of mutexes and maps outlive every fiber
  weft::Chan<int> stop_expiry(0);
  weft::WaitGroup expiry_done;
  expiry_done.add(1);
  weft::go([&] {
    weft::Ticker tick(100ms);  // redis's hz 10
    std::minstd_rand rng(std::random_device{}());
    for (bool on = true; on;) {
      weft::select(weft::on_recv(tick.c(), [](std::optional<weft::time_point>) {}),
                   weft::on_recv(stop_expiry, [&](std::optional<int>) { on = false; }));
      if (on) store.expire_cycle(rng);
    }
    expiry_done.done();
  });

  Clients clients;
  std::chrono::milliseconds delay{0};
  int rc = 0;
  for (;;) {
    auto [c, aerr] = ln.accept();
    if (aerr == net::errc::closed) break;
    if (aerr) {
      if (!temporary(aerr)) {
        std::fprintf(stderr, "kv_server: accept: %s\n", aerr.message().c_str());
        rc = 1;
        break;
      }
      delay = delay == 0ms ? 5ms : std::min(delay * 2, std::chrono::milliseconds(1000));
      weft::sleep_for(delay);
      continue;
    }
    delay = 0ms;
    std::uint64_t id;
    {
      std::lock_guard lk(clients.mu);
      id = clients.next_id++;
      clients.open.emplace(id, c);
    }
    clients.running.add(1);
    weft::go([&clients, c, id]() mutable {
      serve_conn(store, c);
      {
        std::lock_guard lk(clients.mu);
        clients.open.erase(id);
      }
      clients.running.done();
    });
  }
  // Shutdown: no new clients; close the open ones (their fibers see errc::closed), wait.
  if (!signalled.exchange(true)) pthread_kill(sig.native_handle(), SIGTERM);
  weft::blocking([&] { sig.join(); });
  ln.close();
  {
    std::lock_guard lk(clients.mu);
    for (auto& [id, conn] : clients.open) conn.close();
  }
  clients.running.wait();
  stop_expiry.close();
  expiry_done.wait();
  return rc;
}

int usage() {
  std::fprintf(
      stderr,
      "usage: kv_server [ADDR] [--procs=N]\n"
      "  ADDR      address to listen on (default \":6379\"; \"127.0.0.1:0\" picks a port)\n"
      "  --procs=N processors (weft::Config::procs; default: WEFT_PROCS or the cores)\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string addr = ":6379";
  weft::Config cfg;
  bool have_addr = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a.starts_with("--procs=")) {
      std::string_view v = a.substr(8);
      unsigned p = 0;
      auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), p);
      if (ec != std::errc() || end != v.data() + v.size() || p == 0) return usage();
      cfg.procs = p;
    } else if (!a.starts_with("-") && !have_addr) {
      addr = a;
      have_addr = true;
    } else {
      return usage();
    }
  }
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);  // inherited by every thread the runtime starts
  return weft::run([&] { return serve(addr); }, cfg);
}
