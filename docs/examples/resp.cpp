// resp.cpp: RESP2 for kv_server — request parsing, reply encoding, glob matching (resp.hpp).
// No Go file: redis's networking.c, sds.c (sdssplitargs) and util.c (stringmatchlen) are the model.
#include "resp.hpp"

#include <algorithm>
#include <charconv>
#include <climits>

namespace kv {

namespace {

// line_end: the offset of the '\r' ending the line that starts at `from`, if the "\r\n" is
// complete in `in`; npos otherwise. *cr_seen says whether a '\r' was found at all (redis looks
// for the '\r', then waits for the '\n' after it).
std::size_t line_end(std::string_view in, std::size_t from, bool* cr_seen) {
  std::size_t cr = in.find('\r', from);
  *cr_seen = cr != std::string_view::npos;
  if (!*cr_seen || cr + 1 >= in.size()) return std::string_view::npos;
  return cr;
}

}  // namespace

void RequestParser::reset() {
  nargs_ = -1;
  bulk_len_ = -1;
  pos_ = 0;
  need_ = 0;
  spans_.clear();
}

RequestParser::Result RequestParser::fail(std::string msg) {
  err_ = std::move(msg);
  reset();
  return {Status::error, 0};
}

RequestParser::Result RequestParser::parse(std::string_view in,
                                           std::vector<std::string_view>& argv) {
  argv.clear();
  if (nargs_ < 0) {
    if (in.empty()) return {Status::incomplete, 0};
    if (in[0] != '*') return parse_inline(in, argv);
    bool cr_seen;
    std::size_t cr = line_end(in, 1, &cr_seen);
    if (cr == std::string_view::npos) {
      if (!cr_seen && in.size() > lim_.max_inline) {
        return fail("Protocol error: too big mbulk count string");
      }
      return {Status::incomplete, 0};
    }
    std::int64_t n;
    if (!parse_int64(in.substr(1, cr - 1), &n) || n > INT_MAX ||
        (n > 0 && std::uint64_t(n) > lim_.max_args)) {
      return fail("Protocol error: invalid multibulk length");
    }
    if (n <= 0) {  // `*0` and `*-1`: an empty command, skipped without a reply (as redis does)
      reset();
      return {Status::command, cr + 2};
    }
    nargs_ = n;
    pos_ = cr + 2;
    spans_.reserve(std::size_t(std::min<long long>(n, 1024)));
  }
  while (spans_.size() < std::size_t(nargs_)) {
    if (bulk_len_ < 0) {
      bool cr_seen;
      std::size_t cr = line_end(in, pos_, &cr_seen);
      if (cr == std::string_view::npos) {
        if (!cr_seen && in.size() - pos_ > lim_.max_inline) {
          return fail("Protocol error: too big bulk count string");
        }
        return {Status::incomplete, 0};
      }
      if (in[pos_] != '$') {
        return fail(std::string("Protocol error: expected '$', got '") + in[pos_] + "'");
      }
      std::int64_t len;
      if (!parse_int64(in.substr(pos_ + 1, cr - pos_ - 1), &len) || len < 0 ||
          std::uint64_t(len) > lim_.max_bulk) {
        return fail("Protocol error: invalid bulk length");
      }
      bulk_len_ = len;
      pos_ = cr + 2;
      need_ = pos_ + std::size_t(len) + 2;
    }
    // The argument and the "\r\n" after it; like redis, those two bytes are not checked.
    if (in.size() - pos_ < std::size_t(bulk_len_) + 2) return {Status::incomplete, 0};
    spans_.emplace_back(pos_, std::size_t(bulk_len_));
    pos_ += std::size_t(bulk_len_) + 2;
    bulk_len_ = -1;
    need_ = 0;
  }
  argv.reserve(spans_.size());
  for (auto [off, len] : spans_) argv.push_back(in.substr(off, len));
  std::size_t consumed = pos_;
  reset();
  return {Status::command, consumed};
}

RequestParser::Result RequestParser::parse_inline(std::string_view in,
                                                  std::vector<std::string_view>& argv) {
  std::size_t nl = in.find('\n');
  if (nl == std::string_view::npos) {
    if (in.size() > lim_.max_inline) return fail("Protocol error: too big inline request");
    return {Status::incomplete, 0};
  }
  std::string_view line = in.substr(0, nl);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (!split_args(line, inline_args_)) return fail("Protocol error: unbalanced quotes in request");
  if (inline_args_.size() > lim_.max_args) {
    return fail("Protocol error: invalid multibulk length");
  }
  for (const auto& a : inline_args_) argv.emplace_back(a);
  return {Status::command, nl + 1};
}

namespace {

bool is_blank(char c) {
  return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\v' || c == '\f';
}
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool split_args(std::string_view line, std::vector<std::string>& out) {
  out.clear();
  std::size_t i = 0, n = line.size();
  // at(k): the byte at k, or '\0' past the end (sdssplitargs works on a C string).
  auto at = [&](std::size_t k) { return k < n ? line[k] : '\0'; };
  for (;;) {
    while (i < n && is_blank(line[i])) ++i;
    if (i >= n) return true;
    std::string cur;
    bool in_dq = false, in_sq = false;
    for (bool done = false; !done;) {
      char c = at(i);
      if (in_dq) {
        if (c == '\\' && at(i + 1) == 'x' && hex_value(at(i + 2)) >= 0 &&
            hex_value(at(i + 3)) >= 0) {
          cur.push_back(char(hex_value(at(i + 2)) * 16 + hex_value(at(i + 3))));
          i += 3;
        } else if (c == '\\' && i + 1 < n) {
          char e = line[++i];
          switch (e) {
            case 'n':
              cur.push_back('\n');
              break;
            case 'r':
              cur.push_back('\r');
              break;
            case 't':
              cur.push_back('\t');
              break;
            case 'b':
              cur.push_back('\b');
              break;
            case 'a':
              cur.push_back('\a');
              break;
            default:
              cur.push_back(e);
              break;
          }
        } else if (c == '"') {
          if (i + 1 < n && !is_blank(line[i + 1])) return false;  // "foo"bar
          done = true;
        } else if (i >= n) {
          return false;  // no closing quote
        } else {
          cur.push_back(c);
        }
      } else if (in_sq) {
        if (c == '\\' && at(i + 1) == '\'') {
          cur.push_back('\'');
          ++i;
        } else if (c == '\'') {
          if (i + 1 < n && !is_blank(line[i + 1])) return false;
          done = true;
        } else if (i >= n) {
          return false;
        } else {
          cur.push_back(c);
        }
      } else if (i >= n || c == ' ' || c == '\n' || c == '\r' || c == '\t') {
        done = true;
      } else if (c == '"') {
        in_dq = true;
      } else if (c == '\'') {
        in_sq = true;
      } else {
        cur.push_back(c);
      }
      if (i < n) ++i;
    }
    out.push_back(std::move(cur));
  }
}

namespace {

// glob: stringmatchlen_impl. *skip_longer is set when a `*` found that no suffix of s matches
// the rest of the pattern: then no shorter suffix can either, so enclosing `*`s stop too.
bool glob(std::string_view p, std::string_view s, bool* skip_longer, int nesting) {
  if (nesting > 1000) return false;  // redis's guard against deep recursion
  while (!p.empty() && !s.empty()) {
    switch (p[0]) {
      case '*': {
        while (p.size() > 1 && p[1] == '*') p.remove_prefix(1);
        if (p.size() == 1) return true;
        for (; !s.empty(); s.remove_prefix(1)) {
          if (glob(p.substr(1), s, skip_longer, nesting + 1)) return true;
          if (*skip_longer) return false;
        }
        *skip_longer = true;
        return false;
      }
      case '?':
        s.remove_prefix(1);
        break;
      case '[': {
        p.remove_prefix(1);
        bool negate = !p.empty() && p[0] == '^';
        if (negate) p.remove_prefix(1);
        bool match = false;
        for (;;) {
          if (p.empty()) break;  // no closing ']': what was read so far decides
          if (p[0] == '\\' && p.size() >= 2) {
            p.remove_prefix(1);
            if (p[0] == s[0]) match = true;
          } else if (p[0] == ']') {
            break;
          } else if (p.size() >= 3 && p[1] == '-') {
            unsigned char lo = p[0], hi = p[2], c = s[0];
            if (lo > hi) std::swap(lo, hi);
            if (c >= lo && c <= hi) match = true;
            p.remove_prefix(2);
          } else if (p[0] == s[0]) {
            match = true;
          }
          p.remove_prefix(1);
        }
        if (negate) match = !match;
        if (!match) return false;
        s.remove_prefix(1);
        if (p.empty()) return s.empty();  // an unclosed bracket ended the pattern
        break;
      }
      case '\\':
        if (p.size() >= 2) p.remove_prefix(1);
        [[fallthrough]];
      default:
        if (p[0] != s[0]) return false;
        s.remove_prefix(1);
        break;
    }
    p.remove_prefix(1);
  }
  if (s.empty()) {
    while (!p.empty() && p[0] == '*') p.remove_prefix(1);
  }
  return p.empty() && s.empty();
}

}  // namespace

bool glob_match(std::string_view pattern, std::string_view s) {
  bool skip_longer = false;
  return glob(pattern, s, &skip_longer, 0);
}

bool parse_int64(std::string_view s, std::int64_t* v) {
  if (s.empty() || s.size() > 20) return false;
  if (s == "0") {
    *v = 0;
    return true;
  }
  std::size_t digits = s[0] == '-' ? 1 : 0;
  // No leading zero (nor "-0"), and from_chars must take every byte.
  if (digits >= s.size() || s[digits] < '1' || s[digits] > '9') return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *v);
  return ec == std::errc() && end == s.data() + s.size();
}

void put_simple(std::string& out, std::string_view s) {
  out.push_back('+');
  out.append(s);
  out.append("\r\n");
}

void put_error(std::string& out, std::string_view msg) {
  out.push_back('-');
  std::size_t at = out.size();
  out.append(msg);
  std::replace_if(
      out.begin() + std::ptrdiff_t(at), out.end(), [](char c) { return c == '\r' || c == '\n'; },
      ' ');
  out.append("\r\n");
}

namespace {
void put_prefixed(std::string& out, char type, long long v) {
  char buf[24];
  buf[0] = type;
  auto [end, ec] = std::to_chars(buf + 1, buf + sizeof buf - 2, v);
  (void)ec;  // 21 bytes always hold a long long
  *end++ = '\r';
  *end++ = '\n';
  out.append(buf, std::size_t(end - buf));
}
}  // namespace

void put_int(std::string& out, long long v) { put_prefixed(out, ':', v); }

void put_bulk(std::string& out, std::string_view s) {
  put_prefixed(out, '$', static_cast<long long>(s.size()));
  out.append(s);
  out.append("\r\n");
}

void put_nil(std::string& out) { out.append("$-1\r\n"); }

void put_array(std::string& out, std::size_t n) {
  put_prefixed(out, '*', static_cast<long long>(n));
}

}  // namespace kv
