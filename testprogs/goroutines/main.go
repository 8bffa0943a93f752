// Command goroutines exercises what a goroutine tracer and a Go symbolizer
// must handle: many goroutines blocking on channels, a mutex and sleeps,
// deep recursion that grows the stack, closures, methods on value and pointer
// receivers, generics (Go 1.18+), inlined calls, panics recovered several
// frames up and runtime.Goexit.  It ends by itself well within two seconds.
//
// Usage: goroutines [-n WORKERS] [-rounds N] [-depth N] [-sleep DUR] [-frames] [-loop [-pause DUR]]
//
//	-frames  print, as JSON lines, the PCs and frames runtime.CallersFrames
//	         reports for a few known call chains (an independent truth for
//	         symbolizers; see selfframes.go) and exit
//	-loop    repeat the workload until killed (for attaching tracers),
//	         sleeping -pause (20ms) between rounds
//
// It prints "goroutines: pid N" first and a one-line summary last; its
// started=N is how many goroutines the round started (every `go` statement
// of the workload counts itself with spawned()).
package main

import (
	"flag"
	"fmt"
	"os"
	"sync/atomic"
	"time"
)

// started counts the goroutines a round starts.
var started int64

// spawned is called right before each `go` statement of the workload.
func spawned() { atomic.AddInt64(&started, 1) }

func main() {
	workers := flag.Int("n", 64, "worker goroutines")
	rounds := flag.Int("rounds", 20, "jobs per worker")
	depth := flag.Int("depth", 20000, "recursion depth (forces stack growth)")
	sleep := flag.Duration("sleep", 2*time.Millisecond, "sleep per sleeper goroutine")
	frames := flag.Bool("frames", false, "print self-reported frames as JSON lines and exit")
	loop := flag.Bool("loop", false, "repeat until killed")
	pause := flag.Duration("pause", 20*time.Millisecond, "with -loop: pause between rounds")
	flag.Parse()

	if *frames {
		printSelfFrames(os.Stdout)
		return
	}
	fmt.Printf("goroutines: pid %d\n", os.Getpid())
	for {
		start := time.Now()
		atomic.StoreInt64(&started, 0)
		s := runAll(*workers, *rounds, *depth, *sleep)
		fmt.Printf("goroutines: sum=%d depth=%d recovered=%d goexits=%d generic=%d started=%d in %v\n",
			s.sum, s.depth, s.recovered, s.goexits, s.generic, atomic.LoadInt64(&started),
			time.Since(start).Round(time.Millisecond))
		if !*loop {
			return
		}
		time.Sleep(*pause)
	}
}

type summary struct {
	sum       int64
	depth     int
	recovered int
	goexits   int
	generic   int
}

//go:noinline
func runAll(workers, rounds, depth int, sleep time.Duration) summary {
	var s summary
	s.sum = runWorkers(workers, rounds)
	s.depth = runRecursion(depth)
	s.recovered = runPanics(8)
	s.goexits = runGoexits(4)
	sleepers(16, sleep)
	s.sum += int64(runMethods(100))
	s.generic = runGenerics(50)
	return s
}
