// spawn: cost of creating, running and finishing one goroutine: main spawns n goroutines that each call wg.Done().
// Go twin of weft's tools/bench/spawn. Build: cd tools/bench/go/spawn && GO111MODULE=off go build -o /tmp/weftbench/spawn_go .
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
		go wg.Done()
	}
	wg.Wait()
	return time.Since(start)
}

func main() {
	n := flag.Int("n", 1_000_000, "goroutines to spawn")
	procs := flag.Int("procs", 1, "GOMAXPROCS")
	flag.Parse()
	if *n < 10 || *procs < 1 {
		fmt.Fprintln(os.Stderr, "spawn: need -n >= 10 and -procs >= 1")
		os.Exit(2)
	}
	runtime.GOMAXPROCS(*procs)
	pass(*n / 10) // warm-up (also leaves dead goroutines on the runtime's free list)
	el := pass(*n)
	fmt.Printf("name=spawn value=%.1f unit=ns/fiber\n", float64(el.Nanoseconds())/float64(*n))
}
