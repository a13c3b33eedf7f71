// weft::net: Go's net package for fibers — blocking-style sockets over the runtime's poller.
// TCP, UDP and Unix sockets; reads and writes with deadlines; errors as std::error_code. The
// net API never throws and never raises SIGPIPE. docs/net.md is the guide.
#pragma once

#include <weft/net/addr.hpp>
#include <weft/net/conn.hpp>
#include <weft/net/dial.hpp>
#include <weft/net/errors.hpp>
