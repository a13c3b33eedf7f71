// echo_server: Go's network benchmark server — TCP echo (a goroutine per connection, as weft's
// tools/bench/net_echo_server.cpp has a fiber per connection); with -mode http, net/http
// answering "Hello, world!" with keep-alive; with -mode rawhttp, the same answer from a goroutine
// per connection that parses requests exactly as weft's server does (netserver.hpp http_answer).
// Twins: net_echo_server.cpp, epoll_echo_server.cpp.
// Prints `listening HOST:PORT`, then serves until killed (tools/bench/netbench.py drives it).
// Build: cd tools/bench/go/echo_server && GO111MODULE=off go build -o /tmp/weftbench/echo_server_go .
package main

import (
	"bytes"
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

var (
	httpOK      = []byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, world!")
	httpOKClose = []byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: 13\r\n\r\nHello, world!")
	httpBad     = []byte("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
	crlf2       = []byte("\r\n\r\n")
	connClose   = []byte("\r\nConnection: close")
	get         = []byte("GET ")
)

const maxHeader = 8192

// httpAnswer is tools/bench/netserver.hpp's http_answer: it appends one answer per complete
// request at the front of in (GET only, no bodies) and returns the bytes consumed, and whether
// to close after writing out.
func httpAnswer(in []byte, out *[]byte) (used int, close bool) {
	for !close {
		end := bytes.Index(in[used:], crlf2)
		if end < 0 {
			if len(in)-used > maxHeader {
				*out = append(*out, httpBad...)
				close = true
			}
			break
		}
		req := in[used : used+end]
		used += end + 4
		switch {
		case !bytes.HasPrefix(req, get):
			*out = append(*out, httpBad...)
			close = true
		case bytes.Contains(req, connClose):
			*out = append(*out, httpOKClose...)
			close = true
		default:
			*out = append(*out, httpOK...)
		}
	}
	return used, close
}

// rawHTTP answers each request httpAnswer finds, in order, one write per read.
func rawHTTP(c net.Conn) {
	buf := make([]byte, 4096)
	var in, out []byte
	for close := false; !close; {
		n, err := c.Read(buf)
		if err != nil {
			break
		}
		in = append(in, buf[:n]...)
		var used int
		used, close = httpAnswer(in, &out)
		in = append(in[:0], in[used:]...)
		if len(out) > 0 {
			if _, err := c.Write(out); err != nil {
				break
			}
		}
		out = out[:0]
	}
	c.Close()
}

func main() {
	mode := flag.String("mode", "echo", "echo, http (net/http) or rawhttp")
	procs := flag.Int("procs", 0, "GOMAXPROCS (0: Go's default, the CPUs in the affinity mask)")
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on")
	flag.Parse()
	if (*mode != "echo" && *mode != "http" && *mode != "rawhttp") || *procs < 0 {
		fmt.Fprintln(os.Stderr, "echo_server: want -mode echo|http|rawhttp and -procs >= 0")
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
		if *mode == "rawhttp" {
			go rawHTTP(c)
		} else {
			go echo(c)
		}
	}
}
