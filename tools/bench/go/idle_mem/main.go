// idle_mem: resident memory per parked goroutine: RSS growth after n goroutines block on one channel, divided by n.
// Go twin of weft's tools/bench/idle_mem. Build: cd tools/bench/go/idle_mem && GO111MODULE=off go build -o /tmp/weftbench/idle_mem_go .
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"time"
)

// rss returns the resident set size in bytes from /proc/self/statm.
func rss() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		fmt.Fprintln(os.Stderr, "idle_mem:", err)
		os.Exit(1)
	}
	var size, resident int64
	if _, err := fmt.Sscan(string(b), &size, &resident); err != nil {
		fmt.Fprintln(os.Stderr, "idle_mem: parse statm:", err)
		os.Exit(1)
	}
	return resident * int64(os.Getpagesize())
}

// printVmPTE copies the VmPTE line of /proc/self/status to stderr.
func printVmPTE() {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "VmPTE:") {
			fmt.Fprintln(os.Stderr, "idle_mem:", sc.Text())
		}
	}
}

func main() {
	n := flag.Int("n", 1_000_000, "goroutines to park")
	procs := flag.Int("procs", 1, "GOMAXPROCS")
	flag.Parse()
	if *n < 1 || *procs < 1 {
		fmt.Fprintln(os.Stderr, "idle_mem: need -n >= 1 and -procs >= 1")
		os.Exit(2)
	}
	runtime.GOMAXPROCS(*procs)
	// No warm-up: it would pre-grow the heap and the goroutine free list.
	runtime.GC()
	before := rss()

	ch := make(chan int)
	var started int64
	for i := 0; i < *n; i++ {
		go func() {
			atomic.AddInt64(&started, 1)
			<-ch
		}()
	}
	for spins := 0; atomic.LoadInt64(&started) < int64(*n); spins++ {
		if spins < 1000 {
			runtime.Gosched()
		} else {
			time.Sleep(time.Millisecond)
		}
	}
	time.Sleep(100 * time.Millisecond) // settle
	after := rss()
	printVmPTE()
	runtime.KeepAlive(ch)
	fmt.Printf("name=idle_mem value=%.1f unit=bytes/fiber\n", float64(after-before)/float64(*n))
}
