// chan_pingpong: round-trip latency of two goroutines ping-ponging an int over two unbuffered channels.
// Go twin of weft's tools/bench/chan_pingpong. Build: cd tools/bench/go/chan_pingpong && GO111MODULE=off go build -o /tmp/weftbench/chan_pingpong_go .
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"
)

func pass(n int) time.Duration {
	ping, pong := make(chan int), make(chan int)
	var wg sync.WaitGroup
	wg.Add(2)
	start := time.Now()
	go func() { // pinger
		defer wg.Done()
		for i := 0; i < n; i++ {
			ping <- i
			if v := <-pong; v != i+1 {
				fmt.Fprintf(os.Stderr, "chan_pingpong: got %d, want %d\n", v, i+1)
				os.Exit(1)
			}
		}
		close(ping)
	}()
	go func() { // ponger
		defer wg.Done()
		for v := range ping {
			pong <- v + 1
		}
	}()
	wg.Wait()
	return time.Since(start)
}

func main() {
	n := flag.Int("n", 1_000_000, "round trips")
	procs := flag.Int("procs", 1, "GOMAXPROCS")
	flag.Parse()
	if *n < 10 || *procs < 1 {
		fmt.Fprintln(os.Stderr, "chan_pingpong: need -n >= 10 and -procs >= 1")
		os.Exit(2)
	}
	runtime.GOMAXPROCS(*procs)
	pass(*n / 10) // warm-up
	el := pass(*n)
	fmt.Printf("name=chan_pingpong value=%.1f unit=ns/roundtrip\n", float64(el.Nanoseconds())/float64(*n))
}
