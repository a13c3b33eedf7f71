// echo_server: Go's network benchmark server — TCP echo (a goroutine per connection, as weft's
// tools/bench/net_echo_server.cpp has a fiber per connection) or, with -mode http, net/http
// answering "Hello, world!" with keep-alive. Twins: net_echo_server.cpp, epoll_echo_server.cpp.
// Prints `listening HOST:PORT`, then serves until killed (tools/bench/netbench.py drives it).
// Build: cd tools/bench/go/echo_server && GO111MODULE=off go build -o /tmp/weftbench/echo_server_go .
package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime"
	"syscall"
	"time"
)

func echo(c net.Conn) {
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		if err != nil {
			break
		}
		if _, err := c.Write(buf[:n]); err != nil {
			break
		}
	}
	c.Close()
}

func main() {
	mode := flag.String("mode", "echo", "echo or http")
	procs := flag.Int("procs", 0, "GOMAXPROCS (0: Go's default, the CPUs in the affinity mask)")
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on")
	flag.Parse()
	if (*mode != "echo" && *mode != "http") || *procs < 0 {
		fmt.Fprintln(os.Stderr, "echo_server: want -mode echo|http and -procs >= 0")
		os.Exit(2)
	}
	if *procs > 0 {
		runtime.GOMAXPROCS(*procs)
	}
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) == nil && lim.Cur < lim.Max {
		lim.Cur = lim.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "echo_server:", err)
		os.Exit(1)
	}
	fmt.Printf("listening %s\n", ln.Addr())
	if *mode == "http" {
		hello := []byte("Hello, world!")
		err = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			w.Write(hello)
		}))
		fmt.Fprintln(os.Stderr, "echo_server:", err)
		os.Exit(1)
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Temporary() {
				time.Sleep(5 * time.Millisecond) // EMFILE: as net/http's Serve, less the doubling
				continue
			}
			fmt.Fprintln(os.Stderr, "echo_server: accept:", err)
			os.Exit(1)
		}
		go echo(c)
	}
}
