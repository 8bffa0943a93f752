// gotrace:min-go 1.17

// Command latency is the test program of `gotrace funclatency`: functions
// that take known times, whose calls the program times itself twice with
// the monotonic clock: inside the function (from its first statement to
// its last, "inner") and around the call in its caller ("outer").  A
// tracer that times a call from its entry probe to its RET probe must see
// a latency between the two, call by call, and so for every sum, maximum
// and percentile.  The program also counts the calls that a panic or
// runtime.Goexit ends without a return, and the calls deeper than a
// tracer's per-goroutine limit.
//
// Functions traced ('main.lat*'), all //go:noinline:
//
//	latSleep   sleeps 100us-2.5ms (workers on several goroutines)
//	latSpin    spins ~20-60us on the CPU
//	latGrow    recursion with 16 KiB frames: the stack grows (copied) in
//	           its prologue, which then runs again
//	latCatch   recovers a panic raised by latPanicky n frames below; the
//	           latPanicky frames never return
//	latExit    a chain ending in runtime.Goexit: none of its frames return
//	latDeep    a recursion -deep levels deep (default 100)
//
// Usage: latency [-n CALLS] [-deep N] [-wait] [-loop]
//
//	-wait   print "latency: ready" and wait for a line on stdin (tracers
//	        that attach with -p)
//	-loop   repeat until killed, without the report
//
// Output: "latency: pid N", then per function one JSON object:
//
//	{"func":"main.latSleep","calls":N,"unwound":U,"inner_sum_ns":..,
//	 "outer_sum_ns":..,"inner_max_ns":..,"outer_max_ns":..,
//	 "inner_p50_ns":..,"outer_p50_ns":..,"inner_p90_ns":..,... p99 ...}
//
// and "latency: done".
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"sort"
	"sync"
	"time"
)

// tally is the program's own record of one function's calls.
type tally struct {
	mu           sync.Mutex
	inner, outer []int64
	unwound      int
}

var tallies = map[string]*tally{}

func tallyOf(name string) *tally {
	t := tallies[name]
	if t == nil {
		t = &tally{}
		tallies[name] = t
	}
	return t
}

func init() {
	for _, n := range []string{"main.latSleep", "main.latSpin", "main.latGrow", "main.latCatch",
		"main.latPanicky", "main.latExit", "main.latDeep"} {
		tallyOf(n)
	}
}

func (t *tally) add(inner, outer time.Duration) {
	t.mu.Lock()
	t.inner = append(t.inner, int64(inner))
	t.outer = append(t.outer, int64(outer))
	t.mu.Unlock()
}

func (t *tally) lost(n int) {
	t.mu.Lock()
	t.unwound += n
	t.mu.Unlock()
}

//go:noinline
func latSleep(d time.Duration) time.Duration {
	t0 := time.Now()
	time.Sleep(d)
	return time.Since(t0)
}

var sink int

//go:noinline
func latSpin(d time.Duration) time.Duration {
	t0 := time.Now()
	x := 0
	for time.Since(t0) < d {
		for i := 0; i < 100; i++ {
			x += i * x
		}
	}
	sink += x
	return time.Since(t0)
}

// latGrow's 16 KiB frame makes the stack grow in its prologue on most
// levels: the prologue runs again after runtime.morestack.
//
//go:noinline
func latGrow(n int) time.Duration {
	t0 := time.Now()
	var pad [16384]byte
	pad[n%16384] = byte(n)
	if n > 0 {
		t := time.Now()
		in := latGrow(n - 1)
		tallies["main.latGrow"].add(in, time.Since(t))
	}
	time.Sleep(50 * time.Microsecond)
	sink += int(pad[(n*7)%16384])
	return time.Since(t0)
}

//go:noinline
func latPanicky(n int) {
	if n == 0 {
		panic("latency boom")
	}
	latPanicky(n - 1)
	sink++
}

//go:noinline
func latCatch(n int) (d time.Duration) {
	t0 := time.Now()
	defer func() {
		recover()
		d = time.Since(t0)
	}()
	time.Sleep(100 * time.Microsecond)
	latPanicky(n)
	return 0
}

//go:noinline
func latExit(n int) {
	if n == 0 {
		runtime.Goexit()
	}
	latExit(n - 1)
	sink++
}

//go:noinline
func latDeep(n int) time.Duration {
	t0 := time.Now()
	if n > 0 {
		t := time.Now()
		in := latDeep(n - 1)
		tallies["main.latDeep"].add(in, time.Since(t))
	}
	return time.Since(t0)
}

// timed calls f and records its inner and outer times for name.
func timed(name string, f func() time.Duration) {
	t := time.Now()
	in := f()
	tallies[name].add(in, time.Since(t))
}

func round(calls, deep int) {
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < calls; i++ {
				d := time.Duration(100+w*400+(i%5)*100) * time.Microsecond
				timed("main.latSleep", func() time.Duration { return latSleep(d) })
				if i%4 == 0 {
					s := time.Duration(20+(i%3)*20) * time.Microsecond
					timed("main.latSpin", func() time.Duration { return latSpin(s) })
				}
			}
		}(w)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 3; i++ {
			timed("main.latGrow", func() time.Duration { return latGrow(20) })
			n := 2 + i
			timed("main.latCatch", func() time.Duration { return latCatch(n) })
			tallies["main.latPanicky"].lost(n + 1)
		}
		timed("main.latDeep", func() time.Duration { return latDeep(deep - 1) })
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		tallies["main.latExit"].lost(6)
		latExit(5)
	}()
	wg.Wait()
}

func pct(v []int64, p float64) int64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]int64(nil), v...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	k := int(p*float64(len(s)) + 0.999999)
	if k < 1 {
		k = 1
	}
	return s[k-1]
}

func sum(v []int64) (s int64) {
	for _, x := range v {
		s += x
	}
	return
}

func report() {
	names := make([]string, 0, len(tallies))
	for n := range tallies {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		t := tallies[n]
		o := map[string]interface{}{"func": n, "calls": len(t.inner), "unwound": t.unwound,
			"inner_sum_ns": sum(t.inner), "outer_sum_ns": sum(t.outer),
			"inner_max_ns": pct(t.inner, 1), "outer_max_ns": pct(t.outer, 1)}
		for _, p := range []int{50, 90, 99} {
			o[fmt.Sprintf("inner_p%d_ns", p)] = pct(t.inner, float64(p)/100)
			o[fmt.Sprintf("outer_p%d_ns", p)] = pct(t.outer, float64(p)/100)
		}
		b, _ := json.Marshal(o)
		fmt.Println(string(b))
	}
}

func main() {
	calls := flag.Int("n", 40, "calls of latSleep per worker")
	deep := flag.Int("deep", 100, "latDeep's recursion depth")
	wait := flag.Bool("wait", false, "wait for a line on stdin before starting")
	loop := flag.Bool("loop", false, "repeat until killed")
	flag.Parse()

	fmt.Printf("latency: pid %d\n", os.Getpid())
	if *wait {
		fmt.Println("latency: ready")
		bufio.NewReader(os.Stdin).ReadString('\n')
	}
	for {
		round(*calls, *deep)
		if !*loop {
			break
		}
	}
	report()
	fmt.Println("latency: done")
}
