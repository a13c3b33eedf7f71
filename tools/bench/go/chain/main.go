// chain: cost per hop of passing an int down a chain of n goroutines linked by unbuffered channels, 10 passes.
// Go twin of weft's tools/bench/chain. Build: cd tools/bench/go/chain && GO111MODULE=off go build -o /tmp/weftbench/chain_go .
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"time"
)

const passes = 10

// run builds a chain of n goroutines, sends 0 through it passes times and
// checks each result is n, then closes the head so the chain exits.
// The time measured covers everything: spawning the chain (paid once, in the
// first pass) plus all passes, but not the teardown.
func run(n int) time.Duration {
	start := time.Now()
	head := make(chan int)
	in := head
	for i := 0; i < n; i++ {
		out := make(chan int)
		go func(in <-chan int, out chan<- int) {
			for v := range in {
				out <- v + 1
			}
			close(out)
		}(in, out)
		in = out
	}
	tail := in
	for p := 0; p < passes; p++ {
		head <- 0
		if v := <-tail; v != n {
			fmt.Fprintf(os.Stderr, "chain: got %d at the tail, want %d\n", v, n)
			os.Exit(1)
		}
	}
	el := time.Since(start)
	close(head)
	for range tail {
	}
	return el
}

func main() {
	n := flag.Int("n", 10_000, "goroutines in the chain")
	procs := flag.Int("procs", 1, "GOMAXPROCS")
	flag.Parse()
	if *n < 10 || *procs < 1 {
		fmt.Fprintln(os.Stderr, "chain: need -n >= 10 and -procs >= 1")
		os.Exit(2)
	}
	runtime.GOMAXPROCS(*procs)
	run(*n / 10) // warm-up
	el := run(*n)
	fmt.Printf("name=chain value=%.1f unit=ns/hop\n", float64(el.Nanoseconds())/float64(passes**n))
}
