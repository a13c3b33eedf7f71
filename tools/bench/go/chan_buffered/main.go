// chan_buffered: throughput of one buffered channel (capacity 128) between 4 producers and 4 consumers, n ints in all; ns per item.
// Go twin of weft's tools/bench/chan_buffered. Build: cd tools/bench/go/chan_buffered && GO111MODULE=off go build -o /tmp/weftbench/chan_buffered_go .
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

const (
	producers = 4
	consumers = 4
	capacity  = 128
)

// pass sends n/producers ints (0, 1, ...) from each producer; the consumers drain the channel
// until it is closed (after every producer is done) and add what they got. The sum is checked.
func pass(n int) time.Duration {
	ch := make(chan int, capacity)
	var produced, consumed sync.WaitGroup
	produced.Add(producers)
	consumed.Add(consumers)
	var total int64
	per := n / producers
	start := time.Now()
	for p := 0; p < producers; p++ {
		go func() {
			defer produced.Done()
			for i := 0; i < per; i++ {
				ch <- i
			}
		}()
	}
	for c := 0; c < consumers; c++ {
		go func() {
			defer consumed.Done()
			sum := 0
			for v := range ch {
				sum += v
			}
			atomic.AddInt64(&total, int64(sum))
		}()
	}
	produced.Wait()
	close(ch)
	consumed.Wait()
	el := time.Since(start)
	if want := int64(producers * (per * (per - 1) / 2)); total != want {
		fmt.Fprintf(os.Stderr, "chan_buffered: sum %d, want %d\n", total, want)
		os.Exit(1)
	}
	return el
}

func main() {
	n := flag.Int("n", 1_000_000, "items in all")
	procs := flag.Int("procs", 1, "GOMAXPROCS")
	flag.Parse()
	if *n < producers*10 || *procs < 1 {
		fmt.Fprintf(os.Stderr, "chan_buffered: need -n >= %d and -procs >= 1\n", producers*10)
		os.Exit(2)
	}
	runtime.GOMAXPROCS(*procs)
	pass(*n / 10) // warm-up
	el := pass(*n)
	items := (*n / producers) * producers
	fmt.Printf("name=chan_buffered value=%.1f unit=ns/item\n", float64(el.Nanoseconds())/float64(items))
}
