// sleep_wake: how late a sleeping goroutine wakes: time.Sleep(1ms) n times (default 1000),
// mean of (woke - deadline) in µs. Go twin of weft's tools/bench/sleep_wake.cpp.
// Build: cd tools/bench/go/sleep_wake && GO111MODULE=off go build -o /tmp/weftbench/sleep_wake_go .
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"time"
)

func main() {
	n := flag.Int("n", 1000, "sleeps")
	procs := flag.Int("procs", 1, "GOMAXPROCS")
	flag.Parse()
	if *n < 1 || *procs < 1 {
		fmt.Fprintln(os.Stderr, "sleep_wake: need -n >= 1 and -procs >= 1")
		os.Exit(2)
	}
	runtime.GOMAXPROCS(*procs)
	done := make(chan time.Duration)
	go func() {
		var late time.Duration
		for i := 0; i < *n; i++ {
			deadline := time.Now().Add(time.Millisecond)
			time.Sleep(time.Millisecond)
			late += time.Since(deadline)
		}
		done <- late
	}()
	late := <-done
	fmt.Printf("name=sleep_wake value=%.1f unit=us\n", float64(late.Nanoseconds())/float64(*n)/1e3)
}
