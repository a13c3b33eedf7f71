// flags.hpp: the examples' command line, a pocket version of Go's flag package.
// Flags are --name=value (durations like Go's: "300ms", "1.5s", "2m"); the rest are arguments.
// Anything malformed or unknown prints the message and the usage line and exits with status 2.
#pragma once

#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace examples {

// parse_duration reads a number and a unit — ns, us, ms, s, m, h — like Go's
// time.ParseDuration ("250ms", "1.5s", "90s"); nullopt if s is not one, or is negative.
inline std::optional<std::chrono::nanoseconds> parse_duration(std::string_view s) {
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || !(v >= 0)) return std::nullopt;  // also NaN
  static const std::map<std::string_view, double> kUnitNs = {
      {"ns", 1}, {"us", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}};
  auto unit = kUnitNs.find(std::string_view(end, s.data() + s.size() - end));
  if (unit == kUnitNs.end() || v * unit->second > 1e18) return std::nullopt;
  return std::chrono::nanoseconds(static_cast<std::int64_t>(v * unit->second));
}

// Flags: argv split into --name=value flags and positional arguments. Read each flag with
// duration() or integer(), then call args(n_min, n_max), which also rejects unknown flags.
class Flags {
 public:
  Flags(int argc, char** argv, std::string usage) : usage_(std::move(usage)) {
    std::string_view prog = argv[0];
    prog_ = prog.substr(prog.rfind('/') + 1);
    for (int i = 1; i < argc; ++i) {
      std::string_view a = argv[i];
      if (a == "-h" || a == "--help") {
        std::printf("usage: %s %s\n", prog_.c_str(), usage_.c_str());
        std::exit(0);
      }
      if (!a.starts_with("--")) {
        args_.emplace_back(a);
        continue;
      }
      std::size_t eq = a.find('=');
      if (eq == a.npos) fail("flag " + std::string(a) + " needs a value: --name=value");
      flags_[std::string(a.substr(2, eq - 2))] = a.substr(eq + 1);
    }
  }

  // duration: the value of --name=D, or def when the flag is absent.
  std::chrono::nanoseconds duration(const std::string& name, std::chrono::nanoseconds def) {
    std::optional<std::string> s = take(name);
    if (!s) return def;
    std::optional<std::chrono::nanoseconds> d = parse_duration(*s);
    if (!d || *d == d->zero()) fail("--" + name + "=" + *s + ": want a duration like 500ms or 2s");
    return *d;
  }

  // integer: the value of --name=N (min <= N <= max), or def when the flag is absent.
  long integer(const std::string& name, long def, long min, long max) {
    std::optional<std::string> s = take(name);
    if (!s) return def;
    std::optional<long> v = parse_integer(*s, min, max);
    if (!v)
      fail("--" + name + "=" + *s + ": want a number from " + std::to_string(min) + " to " +
           std::to_string(max));
    return *v;
  }

  // args: the positional arguments, which must number from n_min to n_max. Call it last: a flag
  // that no duration()/integer() call took is an error here.
  const std::vector<std::string>& args(std::size_t n_min, std::size_t n_max) {
    if (!flags_.empty()) fail("unknown flag --" + flags_.begin()->first);
    if (args_.size() < n_min) fail("missing arguments");
    if (args_.size() > n_max) fail("too many arguments");
    return args_;
  }

  // fail prints "PROG: msg" and the usage line, and exits with status 2.
  [[noreturn]] void fail(const std::string& msg) const {
    std::fprintf(stderr, "%s: %s\nusage: %s %s\n", prog_.c_str(), msg.c_str(), prog_.c_str(),
                 usage_.c_str());
    std::exit(2);
  }

  // parse_integer: s as a decimal number from min to max, all of it (no sign unless min < 0).
  static std::optional<long> parse_integer(std::string_view s, long min, long max) {
    if (min >= 0 && s.starts_with('-')) return std::nullopt;
    long v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || v < min || v > max) return std::nullopt;
    return v;
  }

 private:
  std::optional<std::string> take(const std::string& name) {
    auto it = flags_.find(name);
    if (it == flags_.end()) return std::nullopt;
    std::string v = std::move(it->second);
    flags_.erase(it);
    return v;
  }

  std::string usage_, prog_;
  std::map<std::string, std::string> flags_;  // not yet taken
  std::vector<std::string> args_;
};

}  // namespace examples
