// unix_test: Unix-domain sockets in a temporary directory — echo over "unix" at procs 1, 2, 4,
// the listener's socket file removed by its first close only (explicit or by the destructor),
// abstract addresses, eof / EPIPE without SIGPIPE / half-close, "unixgram" with addresses and
// empty datagrams, deadlines, and the errors of bad or missing paths.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <string>

#include "net_support.hpp"

using namespace weft;
using namespace std::chrono_literals;
using weft_test::bytes;
using weft_test::each_procs;
using weft_test::exists;
using weft_test::Latch;
using weft_test::read_full;
using weft_test::sys_error;
using weft_test::TempDir;

using clk = std::chrono::steady_clock;
using weft_test::str;

TEST_CASE("unix: echo round trips at 1 and 50 concurrent connections", "[net][unix]") {
  each_procs([](unsigned procs) {
    TempDir dir;
    std::string path = dir.file("echo.sock");
    Runtime rt(Config{.procs = procs});
    std::atomic<int> bad{0};
    rt.block_on([&] {
      auto [ln, err] = net::listen("unix", path);
      REQUIRE_FALSE(err);
      CHECK(ln.addr().to_string() == path);
      CHECK(ln.addr().family() == AF_UNIX);
      go([ln] { weft_test::echo_server(ln); });
      for (int conns : {1, 50}) bad += weft_test::echo_clients("unix", path, conns, 20);
      ln.close();
    });
    CHECK(bad.load() == 0);
  });
}

TEST_CASE("unix: the listener removes its socket file on the first close only", "[net][unix]") {
  TempDir dir;
  Runtime rt(Config{.procs = 1});
  rt.block_on([&] {
    std::string path = dir.file("l.sock");
    auto [ln, err] = net::listen("unix", path);
    REQUIRE_FALSE(err);
    CHECK(exists(path));
    // A second listener on the same path fails: the file is there.
    CHECK(net::listen("unix", path).err == sys_error(EADDRINUSE));
    CHECK_FALSE(ln.close());
    CHECK_FALSE(exists(path));
    // Someone else's file at that path now: a second close must not remove it.
    int fd = ::open(path.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    REQUIRE(fd >= 0);
    ::close(fd);
    CHECK(ln.close() == net::errc::closed);
    CHECK(exists(path));
    ::unlink(path.c_str());
    // The last copy's destructor closes, and so removes the file too.
    {
      auto [ln2, err2] = net::listen("unix", path);
      REQUIRE_FALSE(err2);
      net::Listener copy = ln2;
      CHECK(exists(path));
    }
    CHECK_FALSE(exists(path));
    // Dialing a path with no listener: ENOENT; a file that is not a listening socket: refused.
    CHECK(net::dial("unix", path).err == sys_error(ENOENT));
    fd = ::open(path.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    ::close(fd);
    CHECK(net::dial("unix", path).err == sys_error(ECONNREFUSED));
    // A path longer than sun_path holds is a bad address, not a crash.
    std::string long_path = dir.file(std::string(200, 'x'));
    CHECK(net::listen("unix", long_path).err == net::errc::bad_address);
    CHECK(net::dial("unix", long_path).err == net::errc::bad_address);
    CHECK(net::dial("unix", std::string("a\0b", 3)).err == net::errc::bad_address);
  });
}

TEST_CASE("unix: abstract addresses have no file", "[net][unix]") {
  Runtime rt(Config{.procs = 1});
  rt.block_on([] {
    std::string name = "@weft-net-test-" + std::to_string(getpid());
    auto [ln, err] = net::listen("unix", name);
    REQUIRE_FALSE(err);
    CHECK(ln.addr().to_string() == name);
    auto [c, derr] = net::dial("unix", name);
    REQUIRE_FALSE(derr);
    auto [peer, aerr] = ln.accept();
    REQUIRE_FALSE(aerr);
    CHECK_FALSE(c.write(bytes("abstract")).err);
    std::error_code e;
    CHECK(read_full(peer, 8, &e) == "abstract");
    CHECK(peer.local_addr().to_string() == name);
    CHECK(peer.remote_addr().to_string().empty());  // an unnamed client
    // An empty name autobinds to an abstract address chosen by the kernel.
    auto [auto_ln, auto_err] = net::listen("unix", "");
    REQUIRE_FALSE(auto_err);
    CHECK(auto_ln.addr().to_string().rfind('@', 0) == 0);
    CHECK_FALSE(net::dial("unix", auto_ln.addr().to_string()).err);
  });
}

TEST_CASE("unix: eof, EPIPE without SIGPIPE, half-close, options that do not apply",
          "[net][unix]") {
  struct sigaction old {};
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigaction(SIGPIPE, &dfl, &old);  // a SIGPIPE would kill the test
  TempDir dir;
  Runtime rt(Config{.procs = 2});
  rt.block_on([&] {
    std::string path = dir.file("h.sock");
    auto [ln, c, peer] = weft_test::connect_pair("unix", path);
    std::byte buf[16];
    std::error_code e;
    CHECK_FALSE(c.close_write());
    CHECK(peer.read(buf).err == net::errc::eof);
    CHECK_FALSE(peer.write(bytes("back")).err);
    CHECK(read_full(c, 4, &e) == "back");
    CHECK(c.set_no_delay(true).category() == std::system_category());  // not TCP: an OS error
    peer.close();
    CHECK(c.read(buf).err == net::errc::eof);
    auto [c2, d2] = net::dial("unix", path);
    auto [p2, a2] = ln.accept();
    REQUIRE_FALSE(d2);
    REQUIRE_FALSE(a2);
    p2.close();
    int epipe = 0;
    for (int i = 0; i < 20; ++i) epipe += c2.write(bytes("x")).err == sys_error(EPIPE);
    CHECK(epipe == 20);
  });
  sigaction(SIGPIPE, &old, nullptr);
}

TEST_CASE("unixgram: datagrams with addresses, empty ones, deadlines, close", "[net][unix]") {
  TempDir dir;
  Runtime rt(Config{.procs = 2});
  rt.block_on([&] {
    std::string pa = dir.file("a.sock"), pb = dir.file("b.sock"), pc = dir.file("c.sock");
    auto [a, aerr] = net::listen_packet("unixgram", pa);
    auto [b, berr] = net::listen_packet("unixgram", pb);
    REQUIRE_FALSE(aerr);
    REQUIRE_FALSE(berr);
    CHECK(a.local_addr().to_string() == pa);
    std::byte buf[64];
    CHECK_FALSE(b.write_to(bytes("hello"), a.local_addr()).err);
    auto [n, from, err] = a.read_from(buf);
    CHECK_FALSE(err);
    CHECK(str(std::span(buf, n)) == "hello");
    CHECK(from.to_string() == pb);
    CHECK_FALSE(a.write_to({}, from).err);  // an empty datagram back
    auto r = b.read_from(buf);
    CHECK_FALSE(r.err);
    CHECK(r.n == 0);
    CHECK(r.addr.to_string() == pa);
    // A dialed (connected) unixgram Conn, bound to a local path so that replies can reach it.
    auto [c, cerr] = net::dial("unixgram", pa, net::DialOptions{.local_address = pc});
    REQUIRE_FALSE(cerr);
    CHECK(c.local_addr().to_string() == pc);
    CHECK(c.remote_addr().to_string() == pa);
    CHECK_FALSE(c.write(bytes("via conn")).err);
    auto r2 = a.read_from(buf);
    CHECK(str(std::span(buf, r2.n)) == "via conn");
    CHECK(r2.addr.to_string() == pc);
    CHECK_FALSE(a.write_to({}, r2.addr).err);
    auto r3 = c.read(buf);
    CHECK_FALSE(r3.err);  // an empty datagram, not EOF
    CHECK(r3.n == 0);
    // Deadlines and close, as for UDP.
    auto t0 = clk::now();
    a.set_read_deadline(t0 + 10ms);
    CHECK(a.read_from(buf).err == net::errc::timeout);
    CHECK(clk::now() - t0 >= 10ms);
    a.set_read_deadline({});
    std::error_code read_err;
    Latch l(1);
    go([&, a = a]() mutable {
      std::byte b2[8];
      read_err = a.read_from(b2).err;
      l.count_down();
    });
    sleep_for(20ms);
    a.close();
    l.wait();
    CHECK(read_err == net::errc::closed);
    CHECK(exists(pa));  // Go's unixgram sockets leave their file
  });
}
