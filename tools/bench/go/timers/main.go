// timers: cost of arming and firing n timers (default 1M) spread over 0-10 ms: time.AfterFunc
// each counting down a WaitGroup. Go twin of weft's tools/bench/timers.cpp.
// Build: cd tools/bench/go/timers && GO111MODULE=off go build -o /tmp/weftbench/timers_go .
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
	var wg sync.WaitGroup
	wg.Add(n)
	start := time.Now()
	for i := 0; i < n; i++ {
		d := time.Duration(i%10000) * time.Microsecond
		time.AfterFunc(d, wg.Done)
	}
	wg.Wait()
	return time.Since(start)
}

func main() {
	n := flag.Int("n", 1_000_000, "timers")
	procs := flag.Int("procs", 1, "GOMAXPROCS")
	flag.Parse()
	if *n < 1 || *procs < 1 {
		fmt.Fprintln(os.Stderr, "timers: need -n >= 1 and -procs >= 1")
		os.Exit(2)
	}
	runtime.GOMAXPROCS(*procs)
	pass(*n / 10) // warm-up
	el := pass(*n)
	fmt.Printf("name=timers value=%.1f unit=ns/timer\n", float64(el.Nanoseconds())/float64(*n))
}
