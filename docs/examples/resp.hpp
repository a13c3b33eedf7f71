// resp.hpp: RESP2 for kv_server — the incremental request parser, reply encoders, redis's glob.
// No Go file: it follows redis's networking.c (processMultibulkBuffer, processInlineBuffer),
// sds.c (sdssplitargs), util.c (stringmatchlen, string2ll).
//
// Invariants of RequestParser:
//  - parse() is handed the unconsumed input starting at the current command. Between calls
//    that return incomplete, the caller may only append to that input (or move it whole): the
//    parser keeps offsets relative to the command's first byte, never pointers.
//  - A command is returned only complete; its argv views point into the input (or, for inline
//    commands with quotes, into the parser) and stay valid until the next parse() call or until
//    the caller drops the `consumed` bytes.
//  - Every length is checked against Limits before anything is reserved: hostile input costs at
//    most the bytes actually received plus O(min(args, 1024)) bookkeeping.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kv {

// Limits: what a request may be (redis's defaults).
struct Limits {
  std::size_t max_bulk = std::size_t{512} << 20;   // one argument (proto-max-bulk-len)
  std::size_t max_args = std::size_t{1} << 20;     // arguments of one command
  std::size_t max_inline = std::size_t{64} << 10;  // an inline line or a length line without
                                                   // its end (PROTO_INLINE_MAX_SIZE)
};

// RequestParser: one connection's parser; reads commands in either form redis accepts:
// multibulk (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`) and inline (`GET k\r\n`, quotes as redis-cli's).
class RequestParser {
 public:
  enum class Status {
    command,     // argv holds a command (empty for an empty line or `*0`: no reply is due)
    incomplete,  // more input needed: call again with the same bytes and what follows
    error,       // a protocol error: error() says which; reply it and close the connection
  };
  struct Result {
    Status status;
    std::size_t consumed;  // bytes of `in` the command took (0 unless status == command)
  };

  explicit RequestParser(Limits lim = {}) : lim_(lim) {}

  // parse takes the next command from the start of `in`.
  Result parse(std::string_view in, std::vector<std::string_view>& argv);
  // error: the message after "-ERR " of the last error ("Protocol error: invalid bulk length").
  const std::string& error() const { return err_; }
  // need: how many bytes of the current command are known to be needed (a bulk's header has
  // been read), so that the caller can read a large argument in few system calls; 0 if unknown.
  std::size_t need() const { return need_; }

 private:
  Result fail(std::string msg);
  Result parse_inline(std::string_view in, std::vector<std::string_view>& argv);
  void reset();

  Limits lim_;
  // The multibulk in progress (all offsets from the command's first byte):
  long long nargs_ = -1;     // arguments announced by `*N`; -1: its header not read yet
  long long bulk_len_ = -1;  // the current argument's `$len`; -1: its header not read yet
  std::size_t pos_ = 0;      // where parsing resumes
  std::size_t need_ = 0;     // see need()
  std::vector<std::pair<std::size_t, std::size_t>> spans_;  // (offset, length) of each argument
  std::vector<std::string> inline_args_;                    // unquoted inline arguments
  std::string err_;
};

// split_args splits an inline command line like redis's sdssplitargs: blanks separate
// arguments; "double quotes" take \n \r \t \b \a \\ \" and \xHH escapes, 'single quotes' take
// \'; a closing quote must be followed by a blank or the end. false on unbalanced quotes.
bool split_args(std::string_view line, std::vector<std::string>& out);

// glob_match: redis's stringmatchlen (KEYS patterns): `*`, `?`, `[abc]`, `[^a-z]`, `\x`
// escapes (also inside brackets). Polynomial: a `*` that fails on the whole rest of the string
// stops the outer `*`s from trying longer prefixes (redis's skipLongerMatches).
bool glob_match(std::string_view pattern, std::string_view s);

// parse_int64: redis's string2ll — an optional '-', digits without leading zeros, no blanks,
// no '+', within int64. false otherwise.
bool parse_int64(std::string_view s, std::int64_t* v);

// Reply encoders: append one RESP2 value to `out`.
void put_simple(std::string& out, std::string_view s);  // +OK
// put_error: `-` + msg; CR and LF in msg become spaces (as redis does), so a reply can never
// break the protocol whatever the client sent.
void put_error(std::string& out, std::string_view msg);
void put_int(std::string& out, long long v);
void put_bulk(std::string& out, std::string_view s);
void put_nil(std::string& out);  // the null bulk string
void put_array(std::string& out, std::size_t n);

}  // namespace kv
