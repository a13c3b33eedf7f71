// skynet: the skynet benchmark: a 10-ary tree of goroutines over n leaves (default 1M) sums its leaf numbers over channels.
// Go twin of weft's tools/bench/skynet. Build: cd tools/bench/go/skynet && GO111MODULE=off go build -o /tmp/weftbench/skynet_go .
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"time"
)

// skynet sends on c the sum of the leaf numbers num .. num+size-1.
func skynet(c chan<- int64, num, size, div int64) {
	if size == 1 {
		c <- num
		return
	}
	rc := make(chan int64) // unbuffered, as in the original benchmark
	for i := int64(0); i < div; i++ {
		go skynet(rc, num+i*(size/div), size/div, div)
	}
	var sum int64
	for i := int64(0); i < div; i++ {
		sum += <-rc
	}
	c <- sum
}

func pass(n int64) time.Duration {
	start := time.Now()
	c := make(chan int64)
	go skynet(c, 0, n, 10)
	sum := <-c
	el := time.Since(start)
	if want := n * (n - 1) / 2; sum != want {
		fmt.Fprintf(os.Stderr, "skynet: wrong sum %d, want %d\n", sum, want)
		os.Exit(1)
	}
	return el
}

func main() {
	n := flag.Int64("n", 1_000_000, "leaves (a power of 10, >= 10)")
	procs := flag.Int("procs", 1, "GOMAXPROCS")
	flag.Parse()
	p := int64(1)
	for p < *n {
		p *= 10
	}
	if *n < 10 || p != *n || *procs < 1 {
		fmt.Fprintln(os.Stderr, "skynet: need -n a power of 10 >= 10 and -procs >= 1")
		os.Exit(2)
	}
	runtime.GOMAXPROCS(*procs)
	pass(*n / 10) // warm-up
	el := pass(*n)
	fmt.Printf("name=skynet value=%.1f unit=ms\n", float64(el.Nanoseconds())/1e6)
}
