// switch: cost of one cooperative context switch: two goroutines each call runtime.Gosched() n times.
// Go twin of weft's tools/bench/switch. Build: cd tools/bench/go/switch && GO111MODULE=off go build -o /tmp/weftbench/switch_go .
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
	wg.Add(2)
	start := time.Now()
	for g := 0; g < 2; g++ {
		go func() {
			defer wg.Done()
			for i := 0; i < n; i++ {
				runtime.Gosched()
			}
		}()
	}
	wg.Wait()
	return time.Since(start)
}

func main() {
	n := flag.Int("n", 10_000_000, "Gosched calls per goroutine")
	procs := flag.Int("procs", 1, "GOMAXPROCS")
	flag.Parse()
	if *n < 10 || *procs < 1 {
		fmt.Fprintln(os.Stderr, "switch: need -n >= 10 and -procs >= 1")
		os.Exit(2)
	}
	runtime.GOMAXPROCS(*procs)
	pass(*n / 10) // warm-up
	el := pass(*n)
	fmt.Printf("name=switch value=%.1f unit=ns/switch\n", float64(el.Nanoseconds())/float64(2**n))
}
