// echo_client: the one load generator of the TCP echo benchmarks, for every server (weft's
// net_echo_server.cpp, go/echo_server, epoll_echo_server.cpp). Each of -conns connections has
// its own goroutine that sends -size bytes and reads the whole echo back, in a loop, for
// -warmup and then -duration; only the round trips completed in the -duration window count.
// With -idle N it first opens N more connections that do one round trip each and then stay idle
// (the idle-connections benchmark), prints `idle N` and waits for a line on stdin before the
// active connections start, so that tools/bench/netbench.py can read the server's memory.
//
// Stdout, for netbench.py: `warm` when the measured window opens, `done` when it closes, then
// `result requests=R seconds=S rps=X p50_us=A p99_us=B`. Any failed dial or round trip is an
// error: a message on stderr and exit status 1.
// Build: cd tools/bench/go/echo_client && GO111MODULE=off go build -o /tmp/weftbench/echo_client_go .
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func fail(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "echo_client: "+format+"\n", a...)
	os.Exit(1)
}

// roundTrip writes msg and reads the same number of bytes back into buf; they must match.
func roundTrip(c net.Conn, msg, buf []byte) error {
	if _, err := c.Write(msg); err != nil {
		return err
	}
	if _, err := io.ReadFull(c, buf); err != nil {
		return err
	}
	if !bytes.Equal(msg, buf) {
		return fmt.Errorf("the echo differs from what was sent")
	}
	return nil
}

// Phases of the active connections, in `phase`.
const (
	warmup  = 0
	measure = 1
	stop    = 2
)

func main() {
	addr := flag.String("addr", "", "server HOST:PORT")
	conns := flag.Int("conns", 50, "active connections")
	idle := flag.Int("idle", 0, "idle connections opened first")
	size := flag.Int("size", 64, "message bytes")
	warm := flag.Duration("warmup", 500*time.Millisecond, "warm-up, not measured")
	dur := flag.Duration("duration", 3*time.Second, "measured window")
	flag.Parse()
	if *addr == "" || *conns < 1 || *idle < 0 || *size < 1 || *dur <= 0 || *warm < 0 {
		fmt.Fprintln(os.Stderr, "echo_client: want -addr HOST:PORT, -conns >= 1, -idle >= 0, -size >= 1, -duration > 0")
		os.Exit(2)
	}
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) == nil && lim.Cur < lim.Max {
		lim.Cur = lim.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
	msg := bytes.Repeat([]byte("0123456789abcdef"), (*size+15)/16)[:*size]

	// The idle connections: dialled by 64 workers, one round trip each, then kept open.
	idlers := make([]net.Conn, *idle)
	var next int64 = -1
	var wg sync.WaitGroup
	for w := 0; w < 64 && w < *idle; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, *size)
			for {
				i := atomic.AddInt64(&next, 1)
				if i >= int64(*idle) {
					return
				}
				c, err := net.DialTimeout("tcp", *addr, 5*time.Second)
				if err != nil {
					fail("idle connection %d: %v", i, err)
				}
				c.SetDeadline(time.Now().Add(5 * time.Second))
				if err := roundTrip(c, msg, buf); err != nil {
					fail("idle connection %d: %v", i, err)
				}
				c.SetDeadline(time.Time{})
				idlers[i] = c
			}
		}()
	}
	wg.Wait()
	if *idle > 0 {
		fmt.Printf("idle %d\n", *idle)
		if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
			fail("waiting for the go-ahead on stdin: %v", err)
		}
	}

	// The active connections: all dialled before any starts, so the warm-up is all traffic.
	var phase int32 = warmup
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	lat := make([][]time.Duration, *conns)
	active := make([]net.Conn, *conns)
	ready.Add(*conns)
	done.Add(*conns)
	for i := 0; i < *conns; i++ {
		go func(i int) {
			defer done.Done()
			c, err := net.DialTimeout("tcp", *addr, 5*time.Second)
			if err != nil {
				fail("connection %d: %v", i, err)
			}
			active[i] = c
			ready.Done()
			<-start
			buf := make([]byte, *size)
			mine := make([]time.Duration, 0, 1<<14)
			for {
				t0 := time.Now()
				if err := roundTrip(c, msg, buf); err != nil {
					fail("connection %d: %v", i, err)
				}
				p := atomic.LoadInt32(&phase)
				if p == stop {
					break
				}
				if p == measure {
					mine = append(mine, time.Since(t0))
				}
			}
			lat[i] = mine
			c.Close()
		}(i)
	}
	ready.Wait()
	close(start)
	time.Sleep(*warm)
	atomic.StoreInt32(&phase, measure)
	t0 := time.Now()
	fmt.Println("warm")
	time.Sleep(*dur)
	atomic.StoreInt32(&phase, stop)
	secs := time.Since(t0).Seconds()
	fmt.Println("done")
	// A server that stopped answering must not hang the run: each connection's round trip in
	// flight gets 5 s (no deadline is set while measuring: it would cost the client a timer).
	for _, c := range active {
		c.SetDeadline(time.Now().Add(5 * time.Second))
	}
	done.Wait()
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	if len(all) == 0 {
		fail("no round trip completed in the measured window")
	}
	sort.Slice(all, func(a, b int) bool { return all[a] < all[b] })
	q := func(f float64) float64 { return float64(all[int(f*float64(len(all)-1))].Nanoseconds()) / 1e3 }
	fmt.Printf("result requests=%d seconds=%.3f rps=%.1f p50_us=%.1f p99_us=%.1f\n",
		len(all), secs, float64(len(all))/secs, q(0.50), q(0.99))
	for _, c := range idlers {
		c.Close()
	}
}
