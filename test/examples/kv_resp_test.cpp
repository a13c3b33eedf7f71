// kv_resp_test: kv_server's RESP2 parser, glob matcher and integer parsing
// (docs/examples/resp.hpp). No Go file; the expected behaviours are redis 7.0's (networking.c,
// util.c, sds.c).
#include <catch2/catch.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "resp.hpp"

using kv::RequestParser;
using Status = RequestParser::Status;

namespace {

// Parsed: what feeding `input` to a parser gives, command after command.
struct Parsed {
  std::vector<std::vector<std::string>> commands;
  std::string error;     // the protocol error that ended it, if any
  std::size_t left = 0;  // bytes left unparsed (an incomplete command)
};

// feed: the input given `step` bytes at a time (0: all at once), parsed the way kv_server does:
// every complete command taken after each arrival, incomplete input kept and appended to.
Parsed feed(std::string_view input, std::size_t step = 0, kv::Limits lim = {}) {
  RequestParser p(lim);
  Parsed r;
  std::string buf;
  std::vector<std::string_view> argv;
  std::size_t given = 0;
  while (given < input.size()) {
    std::size_t n = step == 0 ? input.size() : std::min(step, input.size() - given);
    buf.append(input.substr(given, n));
    given += n;
    for (;;) {
      auto [st, consumed] = p.parse(buf, argv);
      if (st == Status::incomplete) break;
      if (st == Status::error) {
        r.error = p.error();
        return r;
      }
      if (!argv.empty()) r.commands.emplace_back(argv.begin(), argv.end());
      buf.erase(0, consumed);
    }
  }
  r.left = buf.size();
  return r;
}

using Cmds = std::vector<std::vector<std::string>>;

}  // namespace

TEST_CASE("resp: a multibulk command whole, byte by byte and in odd pieces", "[examples][resp]") {
  const std::string in = "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$12\r\nhello\r\nworld\r\n";
  for (std::size_t step : {0, 1, 2, 3, 7}) {
    INFO("step " << step);
    Parsed r = feed(in, step);
    CHECK(r.error.empty());
    CHECK(r.commands == Cmds{{"SET", "key", "hello\r\nworld"}});
    CHECK(r.left == 0);
  }
}

TEST_CASE("resp: pipelined commands, multibulk and inline mixed", "[examples][resp]") {
  std::string in;
  for (int i = 0; i < 50; ++i)
    in += "*2\r\n$3\r\nGET\r\n$" + std::to_string(std::to_string(i).size()) + "\r\n" +
          std::to_string(i) + "\r\n";
  in += "PING\r\nECHO \"a b\"\n*0\r\n\r\n*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET";  // last one cut
  for (std::size_t step : {0, 1, 5, 64}) {
    INFO("step " << step);
    Parsed r = feed(in, step);
    REQUIRE(r.error.empty());
    REQUIRE(r.commands.size() == 53);
    CHECK(r.commands[0] == std::vector<std::string>{"GET", "0"});
    CHECK(r.commands[49] == std::vector<std::string>{"GET", "49"});
    CHECK(r.commands[50] == std::vector<std::string>{"PING"});
    CHECK(r.commands[51] == std::vector<std::string>{"ECHO", "a b"});
    CHECK(r.commands[52] == std::vector<std::string>{"PING"});  // *0 and the empty line skipped
    CHECK(r.left == std::string_view("*2\r\n$3\r\nGET").size());
  }
}

TEST_CASE("resp: empty and binary arguments", "[examples][resp]") {
  std::string bin("a\0b\r\n\xff", 6);
  Parsed r = feed("*3\r\n$4\r\nECHO\r\n$0\r\n\r\n$6\r\n" + bin + "\r\n");
  CHECK(r.commands == Cmds{{"ECHO", "", bin}});
}

TEST_CASE("resp: need() announces a large argument", "[examples][resp]") {
  RequestParser p;
  std::vector<std::string_view> argv;
  std::string in = "*2\r\n$4\r\nECHO\r\n$100000\r\nabc";
  CHECK(p.parse(in, argv).status == Status::incomplete);
  CHECK(p.need() == in.size() - 3 + 100000 + 2);
  in.resize(in.size() - 3 + 100000, 'x');
  in += "\r\n";
  auto [st, consumed] = p.parse(in, argv);
  CHECK(st == Status::command);
  CHECK(consumed == in.size());
  REQUIRE(argv.size() == 2);
  CHECK(argv[1].size() == 100000);
  CHECK(p.need() == 0);
}

TEST_CASE("resp: inline commands split like redis-cli's", "[examples][resp]") {
  CHECK(feed("set k v\n").commands == Cmds{{"set", "k", "v"}});
  CHECK(feed("  set   k \t v  \r\n").commands == Cmds{{"set", "k", "v"}});
  CHECK(feed("echo \"a\\tb\\x41\\\"\" 'it\\'s'\r\n").commands == Cmds{{"echo", "a\tbA\"", "it's"}});
  CHECK(feed("echo \"\" ''\r\n").commands == Cmds{{"echo", "", ""}});
  CHECK(feed("echo \"abc\r\n").error == "Protocol error: unbalanced quotes in request");
  CHECK(feed("echo \"a\"b\r\n").error == "Protocol error: unbalanced quotes in request");
  CHECK(feed("echo 'a\r\n").error == "Protocol error: unbalanced quotes in request");
  CHECK(feed("\r\n\n").commands.empty());
}

TEST_CASE("resp: protocol errors carry redis's messages", "[examples][resp]") {
  CHECK(feed("*x\r\n").error == "Protocol error: invalid multibulk length");
  CHECK(feed("*+1\r\n").error == "Protocol error: invalid multibulk length");
  CHECK(feed("*01\r\n").error == "Protocol error: invalid multibulk length");
  CHECK(feed("*3000000000\r\n").error == "Protocol error: invalid multibulk length");
  CHECK(feed("*1\r\n+OK\r\n").error == "Protocol error: expected '$', got '+'");
  CHECK(feed("*1\r\n$-1\r\n").error == "Protocol error: invalid bulk length");
  CHECK(feed("*1\r\n$abc\r\n").error == "Protocol error: invalid bulk length");
  CHECK(feed("*1\r\n$536870913\r\n").error == "Protocol error: invalid bulk length");
  CHECK(feed("*1\r\n$99999999999999999999999\r\n").error == "Protocol error: invalid bulk length");
  // *-1 and *0 are empty commands, not errors.
  Parsed r = feed("*-1\r\n*0\r\n*1\r\n$4\r\nPING\r\n");
  CHECK(r.error.empty());
  CHECK(r.commands == Cmds{{"PING"}});
}

TEST_CASE("resp: limits bound what an unfinished request may hold", "[examples][resp]") {
  kv::Limits lim;
  lim.max_bulk = 10;
  lim.max_args = 3;
  lim.max_inline = 16;
  CHECK(feed("*1\r\n$10\r\n0123456789\r\n", 0, lim).error.empty());
  CHECK(feed("*1\r\n$11\r\n", 0, lim).error == "Protocol error: invalid bulk length");
  CHECK(feed("*3\r\n", 0, lim).error.empty());
  CHECK(feed("*4\r\n", 0, lim).error == "Protocol error: invalid multibulk length");
  CHECK(feed("a b c d\r\n", 0, lim).error == "Protocol error: invalid multibulk length");
  // No line end in sight past the limit: an inline line, a count, a bulk length.
  CHECK(feed(std::string(17, 'a'), 0, lim).error == "Protocol error: too big inline request");
  CHECK(feed(std::string(16, 'a'), 0, lim).left == 16);
  // (append, not "literal" + std::string: GCC 12 -O3 warns -Wrestrict on the latter.)
  CHECK(feed(std::string("*").append(17, '1'), 0, lim).error ==
        "Protocol error: too big mbulk count string");
  CHECK(feed(std::string("*1\r\n$").append(17, '1'), 0, lim).error ==
        "Protocol error: too big bulk count string");
}

TEST_CASE("resp: garbage never crashes the parser", "[examples][resp]") {
  // Every prefix of a few hostile inputs, fed whole and byte by byte: the parser must stop
  // with a command, an error or a wait, and never read outside what it was given (ASan).
  const std::vector<std::string> inputs = {"*2\r\n$3\r\nGET\r\n$-5\r\n",
                                           "*\r\n",
                                           "$3\r\nGET\r\n",
                                           "*1\r\r\n",
                                           "*1\r\n$\r\n",
                                           "*2\r\n$1\r\na",
                                           "\"\\x4",
                                           "'\\",
                                           "*1\r\n$1\r\nab\r\n*1\r\n$1\r\nb\r\n",
                                           std::string(5, '\0'),
                                           "*1\n$1\na\n"};
  for (const auto& in : inputs) {
    for (std::size_t len = 0; len <= in.size(); ++len) {
      feed(in.substr(0, len));
      feed(in.substr(0, len), 1);
    }
  }
  SUCCEED("no crash");
}

TEST_CASE("resp: glob patterns match as redis's KEYS does", "[examples][resp]") {
  using kv::glob_match;
  CHECK(glob_match("*", ""));
  CHECK(glob_match("*", "anything"));
  CHECK(glob_match("h?llo", "hello"));
  CHECK_FALSE(glob_match("h?llo", "hllo"));
  CHECK(glob_match("h*llo", "heeeello"));
  CHECK(glob_match("h[ae]llo", "hallo"));
  CHECK_FALSE(glob_match("h[ae]llo", "hillo"));
  CHECK(glob_match("h[^e]llo", "hallo"));
  CHECK_FALSE(glob_match("h[^e]llo", "hello"));
  CHECK(glob_match("h[a-b]llo", "hbllo"));
  CHECK(glob_match("h[b-a]llo", "hallo"));  // a reversed range still matches
  CHECK_FALSE(glob_match("h[a-b]llo", "hcllo"));
  CHECK(glob_match("h\\*llo", "h*llo"));
  CHECK_FALSE(glob_match("h\\*llo", "hello"));
  CHECK(glob_match("[\\]]", "]"));
  CHECK(glob_match("a[bc", "ab"));  // an unclosed bracket ends the pattern
  CHECK_FALSE(glob_match("a[bc", "abc"));
  CHECK(glob_match("user:*:name", "user:42:name"));
  CHECK_FALSE(glob_match("user:*:name", "user:42:mail"));
  CHECK(glob_match("*a*b*c*", "xxaxxbxxcxx"));
  CHECK_FALSE(glob_match("a*", ""));
  // Pathological: many stars against a long non-matching string finishes at once.
  CHECK_FALSE(glob_match("a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b", std::string(200, 'a')));
}

TEST_CASE("resp: integers parse like redis's string2ll", "[examples][resp]") {
  std::int64_t v = 7;
  CHECK((kv::parse_int64("0", &v) && v == 0));
  CHECK((kv::parse_int64("-12", &v) && v == -12));
  CHECK((kv::parse_int64("9223372036854775807", &v) && v == INT64_MAX));
  CHECK((kv::parse_int64("-9223372036854775808", &v) && v == INT64_MIN));
  for (const char* bad :
       {"", "-", "+1", " 1", "1 ", "01", "-0", "1.5", "9223372036854775808", "abc", "12a"}) {
    INFO(bad);
    CHECK_FALSE(kv::parse_int64(bad, &v));
  }
}

TEST_CASE("resp: replies are encoded as RESP2", "[examples][resp]") {
  std::string out;
  kv::put_simple(out, "OK");
  kv::put_error(out, "ERR bad\r\nthing");
  kv::put_int(out, -42);
  kv::put_bulk(out, std::string_view("a\0b", 3));
  kv::put_nil(out);
  kv::put_array(out, 2);
  using namespace std::string_literals;
  CHECK(out == "+OK\r\n-ERR bad  thing\r\n:-42\r\n$3\r\na\0b\r\n$-1\r\n*2\r\n"s);
}
