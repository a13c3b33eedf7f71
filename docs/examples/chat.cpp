// chat: a line-based chat room — a fiber per client, one broadcaster fiber that owns the room.
// Usage: chat [--idle=60s] [--buffer=16] [ADDR]   (ADDR: default ":8000"; try
// `socat - TCP:localhost:8000` in two terminals)
//
// Go's chat server (The Go Programming Language, §8.10) with its exercises, in fibers:
// - the broadcaster alone touches the set of clients, so nothing is locked: clients talk to it
//   through one channel of events (join, message, leave);
// - each client has an outgoing channel of --buffer lines, drained by its own writer fiber;
// - a client whose outgoing channel is full is too slow: the broadcaster drops it instead of
//   waiting for it, so one stuck client cannot stall the room;
// - a client silent for --idle is dropped: its fiber waits for the next line in a select with
//   an on_after case.
// A client's first line is its name; an empty, over-long or taken name gets "guestN".
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <weft/net.hpp>
#include <weft/weft.hpp>

#include "flags.hpp"
#include "serve.hpp"

namespace net = weft::net;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t kMaxLine = 4096;  // longer lines arrive in pieces

struct Client {
  net::Conn conn;
  weft::Chan<std::string> out;  // lines to write; the broadcaster closes it to say goodbye
  std::string name;             // set and read by the broadcaster only
};
using ClientPtr = std::shared_ptr<Client>;

// Event: what a client's fiber tells the broadcaster.
struct Event {
  enum Kind { join, message, leave } kind;
  ClientPtr who;
  std::string text;  // join: the name asked for; message: the line; leave: why, if not EOF
};

// broadcaster runs the room: it forwards every message to the other clients and announces who
// comes and goes. It never waits on a client.
void broadcaster(weft::Chan<Event> events) {
  std::set<ClientPtr> clients;
  std::set<std::string> names;  // theirs, in order
  int guests = 0;
  std::vector<ClientPtr> slow;  // clients whose outgoing channel was full: to drop

  auto send = [&](const ClientPtr& c, std::string line) {
    if (!c->out.try_send(std::move(line))) slow.push_back(c);
  };
  auto broadcast = [&](const std::string& line, const ClientPtr& except) {
    for (const ClientPtr& c : clients) {
      if (c != except) send(c, line);
    }
  };
  // remove takes c out of the room and closes its channel: its writer fiber writes what is
  // queued, then closes the connection. False if c had left already.
  auto remove = [&](const ClientPtr& c) {
    if (clients.erase(c) == 0) return false;
    names.erase(c->name);
    c->out.close();
    return true;
  };

  for (std::optional<Event> ev = events.recv(); ev; ev = events.recv()) {
    const ClientPtr& c = ev->who;
    switch (ev->kind) {
      case Event::join: {
        bool taken = names.contains(ev->text);
        c->name = ev->text;
        while (c->name.empty() || c->name.size() > 32 || names.contains(c->name)) {
          c->name = "guest" + std::to_string(++guests);  // someone may have called themselves so
        }
        std::string here;
        for (const std::string& name : names) here += (here.empty() ? "" : ", ") + name;
        send(c, "* welcome, " + c->name + (taken ? " (that name is taken)" : "") +
                    (here.empty() ? "; nobody else is here\n" : "; here: " + here + "\n"));
        broadcast("* " + c->name + " joined\n", c);
        clients.insert(c);
        names.insert(c->name);
        break;
      }
      case Event::message:
        if (clients.contains(c)) broadcast(c->name + ": " + ev->text + "\n", c);
        break;
      case Event::leave: {
        if (!clients.contains(c)) break;  // dropped already
        std::string why = ev->text.empty() ? "" : " (" + ev->text + ")";
        if (!why.empty()) send(c, "* bye" + why + "\n");
        remove(c);
        broadcast("* " + c->name + " left" + why + "\n", nullptr);
        break;
      }
    }
    // Drop the slow clients; telling the others may find more of them.
    while (!slow.empty()) {
      for (const ClientPtr& s : std::exchange(slow, {})) {
        if (!remove(s)) continue;
        s->conn.close();  // also wakes its writer, blocked in write, and its reader
        broadcast("* " + s->name + " dropped (too slow)\n", nullptr);
      }
    }
  }
}

// read_lines sends the lines c receives on `lines` (without "\n" or "\r\n") until EOF or an
// error, then closes it. It returns early once `done` is closed: nobody reads `lines` then.
void read_lines(net::Conn c, weft::Chan<std::string> lines, weft::Chan<std::monostate> done) {
  std::string buf;
  std::byte chunk[4096];
  for (;;) {
    for (std::size_t nl; (nl = buf.find('\n')) != buf.npos || buf.size() >= kMaxLine;) {
      std::string line = buf.substr(0, std::min(nl, kMaxLine));
      buf.erase(0, nl < kMaxLine ? nl + 1 : kMaxLine);
      if (line.ends_with('\r')) line.pop_back();
      if (weft::select(weft::on_send(lines, std::move(line)), weft::on_recv(done)) == 1) return;
    }
    auto [n, err] = c.read(chunk);
    if (err) break;  // EOF, or the connection was closed
    buf.append(reinterpret_cast<const char*>(chunk), n);
  }
  lines.close();
}

// handle_client is a client's own fiber: it starts the client's reader and writer fibers,
// then turns the lines read into events until EOF or --idle without a line.
void handle_client(net::Conn c, weft::Chan<Event> events, std::chrono::nanoseconds idle,
                   std::size_t buffer) {
  auto me = std::make_shared<Client>(Client{c, weft::Chan<std::string>(buffer), ""});
  weft::go([me, idle] {  // the writer: the only fiber that writes to the connection
    for (auto line = me->out.recv(); line; line = me->out.recv()) {
      // A client that takes no bytes for --idle is gone, even after it has left the room.
      me->conn.set_write_deadline(std::chrono::steady_clock::now() + idle);
      if (me->conn.write(std::as_bytes(std::span(*line))).err) break;
    }
    me->conn.close();  // this also ends the reader's read
  });
  weft::Chan<std::string> lines(0);
  weft::Chan<std::monostate> done(0);  // closed when this fiber stops listening to `lines`
  weft::go([c, lines, done] { read_lines(c, lines, done); });

  me->out.send("* your name? (empty line: a guest name)\n");
  bool joined = false;
  std::string why;  // empty: the client left (EOF)
  for (;;) {
    std::optional<std::string> line;
    bool idled = false;
    weft::select(weft::on_recv(lines, [&](std::optional<std::string> l) { line = std::move(l); }),
                 weft::on_after(idle, [&] { idled = true; }));
    if (idled) why = "idle for too long";
    if (idled || !line) break;
    events.send(Event{joined ? Event::message : Event::join, me, std::move(*line)});
    joined = true;
  }
  done.close();
  if (joined) {
    events.send(Event{Event::leave, me, why});
  } else {  // never in the room: say goodbye ourselves
    if (!why.empty()) me->out.send("* bye (" + why + ")\n");
    me->out.close();
  }
}

}  // namespace

int main(int argc, char** argv) {
  examples::Flags flags(argc, argv, "[--idle=60s] [--buffer=16] [ADDR]   (ADDR: default :8000)");
  std::chrono::nanoseconds idle = flags.duration("idle", 60s);
  std::size_t buffer = flags.integer("buffer", 16, 1, 1 << 20);
  std::vector<std::string> args = flags.args(0, 1);
  std::string addr = args.empty() ? ":8000" : args[0];

  return weft::run([&] {
    weft::Chan<Event> events(64);
    weft::go([events] { broadcaster(events); });
    return examples::listen_and_serve(
        "chat", addr, [=](net::Conn c) { handle_client(std::move(c), events, idle, buffer); });
  });
}
