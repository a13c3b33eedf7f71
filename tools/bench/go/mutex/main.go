// mutex: cost of a contended lock/unlock: 8 goroutines each lock a shared sync.Mutex, increment a counter and unlock, n times in all; ns per lock-unlock.
// Go twin of weft's tools/bench/mutex. Build: cd tools/bench/go/mutex && GO111MODULE=off go build -o /tmp/weftbench/mutex_go .
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"
)

const goroutines = 8

func pass(n int) time.Duration {
	var mu sync.Mutex
	counter := 0 // guarded by mu
	per := n / goroutines
	var wg sync.WaitGroup
	wg.Add(goroutines)
	start := time.Now()
	for g := 0; g < goroutines; g++ {
		go func() {
			defer wg.Done()
			for i := 0; i < per; i++ {
				mu.Lock()
				counter++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	if counter != goroutines*per {
		fmt.Fprintf(os.Stderr, "mutex: counter %d, want %d\n", counter, goroutines*per)
		os.Exit(1)
	}
	return el
}

func main() {
	n := flag.Int("n", 1_000_000, "lock/unlock pairs in all")
	procs := flag.Int("procs", 1, "GOMAXPROCS")
	flag.Parse()
	if *n < goroutines*10 || *procs < 1 {
		fmt.Fprintf(os.Stderr, "mutex: need -n >= %d and -procs >= 1\n", goroutines*10)
		os.Exit(2)
	}
	runtime.GOMAXPROCS(*procs)
	pass(*n / 10) // warm-up
	el := pass(*n)
	ops := (*n / goroutines) * goroutines
	fmt.Printf("name=mutex value=%.1f unit=ns/op\n", float64(el.Nanoseconds())/float64(ops))
}
