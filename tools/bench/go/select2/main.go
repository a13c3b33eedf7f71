// select2: cost of a two-way select: one goroutine selects n times over two unbuffered channels, each fed n/2 values by its own sender; ns per select.
// Go twin of weft's tools/bench/select2. Build: cd tools/bench/go/select2 && GO111MODULE=off go build -o /tmp/weftbench/select2_go .
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"time"
)

// pass: the senders send 1 n/2 times each; the receiver selects until it has all n values.
// Both cases are usually ready, so select's random choice between ready cases is exercised.
func pass(n int) time.Duration {
	a, b := make(chan int), make(chan int)
	start := time.Now()
	for _, c := range []chan int{a, b} {
		go func(c chan<- int) {
			for i := 0; i < n/2; i++ {
				c <- 1
			}
		}(c)
	}
	fromA, fromB := 0, 0
	for i := 0; i < n; i++ {
		select {
		case v := <-a:
			fromA += v
		case v := <-b:
			fromB += v
		}
	}
	el := time.Since(start)
	if fromA != n/2 || fromB != n/2 {
		fmt.Fprintf(os.Stderr, "select2: got %d from a and %d from b, want %d each\n", fromA, fromB, n/2)
		os.Exit(1)
	}
	return el
}

func main() {
	n := flag.Int("n", 1_000_000, "selects (even)")
	procs := flag.Int("procs", 1, "GOMAXPROCS")
	flag.Parse()
	if *n < 10 || *n%2 != 0 || *procs < 1 {
		fmt.Fprintln(os.Stderr, "select2: need an even -n >= 10 and -procs >= 1")
		os.Exit(2)
	}
	runtime.GOMAXPROCS(*procs)
	pass(*n / 10 / 2 * 2) // warm-up
	el := pass(*n)
	fmt.Printf("name=select2 value=%.1f unit=ns/select\n", float64(el.Nanoseconds())/float64(*n))
}
