// http_hello: an HTTP/1.1 server answering "Hello, World!" on "/", with keep-alive and pipelining.
// Usage: http_hello [--idle=30s] [ADDR]   (ADDR: default ":8080"; try curl localhost:8080)
//
// One fiber per connection reads requests in a loop — the blocking style Go's net/http uses.
// What it answers:
//   GET or HEAD /   (any query string)        200 "Hello, World!\n"
//   GET or HEAD of any other path             404 "404 Not Found\n"
//   any other method                          405, with "Allow: GET, HEAD"
//   a malformed request line or header        400, then the connection closes
//   a head larger than 8 KiB                  431, then the connection closes
//   Transfer-Encoding (a chunked body)        501, then the connection closes
//   an HTTP version other than 1.0 and 1.1    505, then the connection closes
// A request body (Content-Length) is read and skipped, after a "100 Continue" if the client
// asks for one ("Expect: 100-continue", as curl does for large bodies). Requests that arrive
// together (pipelining) get their answers in order, in one write. HTTP/1.1 keeps the
// connection open unless the client sends "Connection: close"; HTTP/1.0 closes it unless
// "Connection: keep-alive". A connection that sends nothing for --idle is closed.
#include <algorithm>
#include <chrono>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <weft/net.hpp>
#include <weft/weft.hpp>

#include "flags.hpp"
#include "serve.hpp"

namespace net = weft::net;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t kMaxHead = 8192;  // the most bytes of request line and headers: 431 beyond

// Request: what this server needs of a request's head.
struct Request {
  std::string_view method, target;
  bool http_1_0 = false;
  bool keep_alive = true;        // answer, then read the next request
  std::size_t body = 0;          // Content-Length: bytes to skip after the head
  bool expect_continue = false;  // "Expect: 100-continue"
};

bool iequals(std::string_view a, std::string_view b) {
  auto lower = [](char ch) { return ch >= 'A' && ch <= 'Z' ? char(ch + ('a' - 'A')) : ch; };
  return std::ranges::equal(a, b, [&](char x, char y) { return lower(x) == lower(y); });
}

// is_token: an RFC 9110 token (methods, header names): visible ASCII but for separators.
bool is_token(std::string_view s) {
  constexpr std::string_view kSeparators = "\"(),/:;<=>?@[\\]{}";
  return !s.empty() && std::ranges::all_of(s, [&](char ch) {
    return ch > 32 && ch < 127 && kSeparators.find(ch) == kSeparators.npos;
  });
}

std::string_view trim(std::string_view s) {  // the optional whitespace around a header value
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// has_token: whether a comma-separated header value such as Connection's lists tok.
bool has_token(std::string_view value, std::string_view tok) {
  for (;;) {
    std::size_t comma = value.find(',');
    if (iequals(trim(value.substr(0, comma)), tok)) return true;
    if (comma == value.npos) return false;
    value.remove_prefix(comma + 1);
  }
}

// parse_head reads a request line and its header lines (head ends before the blank line)
// into req. Returns 0, or the error status to answer with.
int parse_head(std::string_view head, Request& req) {
  std::size_t eol = head.find("\r\n");
  std::string_view line = head.substr(0, eol);  // method SP request-target SP HTTP-version
  std::size_t sp1 = line.find(' '), sp2 = line.find(' ', sp1 + 1);
  if (sp1 == line.npos || sp2 == line.npos || line.find(' ', sp2 + 1) != line.npos) return 400;
  req.method = line.substr(0, sp1);
  req.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (!is_token(req.method) || req.target.empty()) return 400;
  if (version.size() != 8 || !version.starts_with("HTTP/")) return 400;
  if (version != "HTTP/1.1" && version != "HTTP/1.0") return 505;
  req.http_1_0 = version == "HTTP/1.0";

  bool close = false, keep_alive = false, have_length = false;
  while (eol != head.npos) {
    std::size_t start = eol + 2;
    eol = head.find("\r\n", start);
    std::string_view field = head.substr(start, eol - start);  // name ":" OWS value OWS
    std::size_t colon = field.find(':');
    if (colon == field.npos || !is_token(field.substr(0, colon))) return 400;
    std::string_view name = field.substr(0, colon), value = trim(field.substr(colon + 1));
    if (iequals(name, "Connection")) {
      close = close || has_token(value, "close");
      keep_alive = keep_alive || has_token(value, "keep-alive");
    } else if (iequals(name, "Content-Length")) {
      auto n = examples::Flags::parse_integer(value, 0, 1L << 40);
      if (!n || (have_length && req.body != std::size_t(*n))) return 400;  // RFC 9112 §6.3
      req.body = std::size_t(*n);
      have_length = true;
    } else if (iequals(name, "Expect")) {
      req.expect_continue = iequals(value, "100-continue");
    } else if (iequals(name, "Transfer-Encoding")) {
      return 501;  // chunked bodies are not implemented here
    }
  }
  req.keep_alive = !close && (!req.http_1_0 || keep_alive);
  return 0;
}

// route: the status for a well-formed request.
int route(const Request& req) {
  if (req.method != "GET" && req.method != "HEAD") return 405;
  return req.target.substr(0, req.target.find('?')) == "/" ? 200 : 404;
}

std::string_view reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 431:
      return "Request Header Fields Too Large";
    case 501:
      return "Not Implemented";
    default:
      return "HTTP Version Not Supported";
  }
}

// respond appends a response to out: "Hello, World!\n" for 200, else the status as text
// (left out for HEAD, as HTTP requires), and the Connection header the client needs.
void respond(std::string& out, const Request& req, int status) {
  std::string status_line = std::to_string(status) + " " + std::string(reason(status));
  std::string body = status == 200 ? "Hello, World!\n" : status_line + "\n";
  out += "HTTP/1.1 " + status_line + "\r\n";
  out += "Content-Type: text/plain; charset=utf-8\r\n";
  out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  if (status == 405) out += "Allow: GET, HEAD\r\n";
  if (!req.keep_alive) {
    out += "Connection: close\r\n";
  } else if (req.http_1_0) {
    out += "Connection: keep-alive\r\n";  // an HTTP/1.0 client must be told
  }
  out += "\r\n";
  if (req.method != "HEAD") out += body;
}

// serve_conn answers the requests of one connection until it closes, errs, idles out, or a
// request asks to close.
void serve_conn(net::Conn c, std::chrono::nanoseconds idle) {
  std::string in;        // bytes received and not yet parsed
  std::string out;       // responses to write
  std::string held;      // the response to a request whose body is still coming
  std::size_t skip = 0;  // bytes of that body still to read and discard
  bool open = true;      // false: no more requests after this one
  std::byte buf[16384];
  while (open || skip > 0) {
    // One deadline for the next read and the write after it: idle (or stuck) clients go away.
    c.set_deadline(std::chrono::steady_clock::now() + idle);
    auto [n, err] = c.read(buf);
    if (err) break;  // EOF, the idle deadline (errc::timeout), a reset...
    in.append(reinterpret_cast<const char*>(buf), n);
    std::size_t at = std::min(skip, in.size());  // where the next request starts in `in`
    skip -= at;
    // A response goes out once its request's body is read: a client may stop sending a body
    // when the answer comes first (curl does), and then the connection cannot be reused.
    if (skip == 0) out += std::exchange(held, {});
    while (open && skip == 0) {  // every complete request received: pipelining
      while (in.compare(at, 2, "\r\n") == 0) at += 2;  // blank lines before a request are OK
      std::size_t end = in.find("\r\n\r\n", at);
      std::size_t head_size = (end == in.npos ? in.size() : end) - at;
      Request req;
      int status = head_size > kMaxHead ? 431 : 0;
      if (status == 0 && end == in.npos) break;  // the head has not all arrived
      if (status == 0) status = parse_head(std::string_view(in).substr(at, head_size), req);
      if (status != 0) {  // a request this server cannot read: say so and close
        req = Request{};
        req.keep_alive = false;
        respond(out, req, status);
        open = false;
        break;
      }
      open = req.keep_alive;
      at = end + 4;
      std::size_t body = std::min(req.body, in.size() - at);  // what came of its body
      at += body;
      skip = req.body - body;
      // "Expect: 100-continue": the client waits for this before it sends the body.
      if (skip > 0 && req.expect_continue) out += "HTTP/1.1 100 Continue\r\n\r\n";
      respond(skip > 0 ? held : out, req, route(req));
    }
    in.erase(0, at);
    if (!out.empty()) {
      if (c.write(std::as_bytes(std::span(out))).err) break;
      out.clear();
    }
  }
  // Before closing, send FIN and read whatever the client still sends, for a second at most:
  // closing a socket with unread bytes resets the connection, which can destroy the last
  // response before the client has read it (Go's closeWriteAndWait).
  if (!open && !c.close_write()) {
    c.set_read_deadline(std::chrono::steady_clock::now() + 1s);
    while (!c.read(buf).err) {
    }
  }
  c.close();
}

}  // namespace

int main(int argc, char** argv) {
  examples::Flags flags(argc, argv, "[--idle=30s] [ADDR]   (ADDR: default :8080)");
  std::chrono::nanoseconds idle = flags.duration("idle", 30s);
  std::vector<std::string> args = flags.args(0, 1);
  std::string addr = args.empty() ? ":8080" : args[0];

  return weft::run([&] {
    return examples::listen_and_serve("http_hello", addr,
                                      [idle](net::Conn c) { serve_conn(std::move(c), idle); });
  });
}
