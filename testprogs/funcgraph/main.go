// gotrace:min-go 1.17

// Command funcgraph is the test program of `gotrace funcgraph`.  Every
// function a test traces has "fg" in its name (pattern 'main.*fg*') and
// counts its own calls and nesting depth per goroutine, then each goroutine
// prints them: an independent truth the tracer's output must match exactly.
//
// Workloads: recursion deep enough to grow the stack several times (the
// entry probe fires again after morestack), panics recovered several frames
// up, runtime.Goexit several frames deep, closures, methods on value and
// pointer receivers, and generics (Go 1.18+).  Functions that count are
// //go:noinline so every toolchain keeps them as real calls; closures are
// called through callFn so they are never inlined either.
//
// Usage: funcgraph [-n WORKERS] [-depth N] [-wait [-busy]] [-loop [-for D]] [-sigwork] [-exit CODE] [-bench N]
//
//	-wait   print "funcgraph: ready" and wait for a line on stdin before
//	        starting (for tracers that attach with -p)
//	-busy   with -wait: before the ready line, start goroutines that are
//	        busy (and one blocked inside traced calls) while a tracer
//	        attaches (below)
//	-loop   repeat the workload until killed (or for D with -for), without
//	        the per-goroutine report (soak tests)
//	-sigwork  on SIGINT or SIGTERM, run one counted round (reported as
//	        usual, on fresh goroutines), print "funcgraph: signal NAME",
//	        and exit with status 7
//	-bench N  call main.benchTarget N times, print
//	        "funcgraph: bench N calls in T ns (cpu C ns, sum S)" and exit
//	        (overhead benchmark; C is the calling thread's CPU time, which
//	        the kernel's probe traps are charged to)
//	-bench-func checked  call main.benchChecked instead: a function with
//	        the stack check most Go functions start with
//
// Output, one line each:
//
//	funcgraph: pid N
//	funcgraph: stderr passes through   (on stderr)
//	fgcount GOID FUNC CALLS     per goroutine and traced function
//	fgnest GOID N               deepest nesting of traced calls (N frames)
//	fggoexit GOID               that goroutine ends with runtime.Goexit
//	fgtime GOID IN0 IN1 OUT0 OUT1  one call of main.fgSleep (below)
//	fgbusy GOID                 (-busy) its counts start at its main.fgMark call
//	fgheld GOID                 (-busy) its counts are of the calls made
//	                            after its release, inside two traced calls
//	                            entered before the ready line
//	funcgraph: done
//
// Times: main.fgSleep sleeps 5 ms and reads CLOCK_MONOTONIC (the clock of
// bpf_ktime_get_ns) first and last thing inside (IN0, IN1); its caller
// reads it just before the call and just after it returns (OUT0, OUT1).
// A tracer's entry and return probes fire in between: the call it records
// starts in [OUT0, IN0] and ends in [IN1, OUT1].
//
// -busy: two goroutines run the workload in a loop while the tracer
// attaches; once the line on stdin came, each finishes its round, calls
// main.fgMark with a fresh tally and runs two more counted rounds: its
// fgcount lines are exactly the calls from fgMark on.  One goroutine is
// blocked inside main.fgHoldOuter -> main.fgHold (entered before the
// ready line); released after the line on stdin, it calls main.fgLeaf 3
// times from inside them, and reports those (a tracer that attached late
// sees the returns of the two calls but not their entries).
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// tally is one goroutine's own record of its traced calls.
type tally struct {
	goid  int64
	depth int
	max   int
	calls map[string]int
	names map[uintptr]string
	times [][4]int64 // fgSleep calls: in0, in1, out0, out1
	label string     // an extra line for the report ("fgbusy", "fgheld")
	quiet bool       // no report (-loop)
}

var outMu sync.Mutex

func newTally(quiet bool) *tally {
	return &tally{goid: curGoid(), calls: map[string]int{}, names: map[uintptr]string{}, quiet: quiet}
}

// in records a call of its caller: the function name as the Go runtime
// itself reports it.
//
//go:noinline
func (t *tally) in() {
	var pcs [1]uintptr
	runtime.Callers(2, pcs[:])
	name, ok := t.names[pcs[0]]
	if !ok {
		fr, _ := runtime.CallersFrames(pcs[:]).Next()
		name = fr.Function
		t.names[pcs[0]] = name
	}
	t.calls[name]++
	t.depth++
	if t.depth > t.max {
		t.max = t.depth
	}
}

//go:noinline
func (t *tally) out() { t.depth-- }

func (t *tally) report(goexit bool) {
	if t.quiet {
		return
	}
	names := make([]string, 0, len(t.calls))
	for n := range t.calls {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "fgcount %d %s %d\n", t.goid, n, t.calls[n])
	}
	fmt.Fprintf(&b, "fgnest %d %d\n", t.goid, t.max)
	for _, x := range t.times {
		fmt.Fprintf(&b, "fgtime %d %d %d %d %d\n", t.goid, x[0], x[1], x[2], x[3])
	}
	if t.label != "" {
		fmt.Fprintf(&b, "%s %d\n", t.label, t.goid)
	}
	if goexit {
		fmt.Fprintf(&b, "fggoexit %d\n", t.goid)
	}
	outMu.Lock()
	os.Stdout.WriteString(b.String())
	outMu.Unlock()
}

func curGoid() int64 {
	var buf [64]byte
	s := string(buf[:runtime.Stack(buf[:], false)])
	s = strings.TrimPrefix(s, "goroutine ")
	id, _ := strconv.ParseInt(s[:strings.IndexByte(s, ' ')], 10, 64)
	return id
}

// mono is CLOCK_MONOTONIC in ns (a raw clock_gettime system call).
func mono() int64 {
	var ts syscall.Timespec
	syscall.RawSyscall(syscall.SYS_CLOCK_GETTIME, 1 /* CLOCK_MONOTONIC */, uintptr(unsafe.Pointer(&ts)), 0)
	return ts.Nano()
}

// fgSleep sleeps 5 ms and times itself from inside.
//
//go:noinline
func fgSleep(t *tally) (in0, in1 int64) {
	in0 = mono()
	t.in()
	time.Sleep(5 * time.Millisecond)
	t.out()
	return in0, mono()
}

// timedSleep calls fgSleep and times the call from outside.
func timedSleep(t *tally) {
	out0 := mono()
	in0, in1 := fgSleep(t)
	t.times = append(t.times, [4]int64{in0, in1, out0, mono()})
}

// callFn calls f through a func value so the compiler can't inline it.
//
//go:noinline
func callFn(f func(int) int, x int) int { return f(x) }

// fgRec recurses n deep with a 2 KiB frame: the stack grows (and is
// copied) several times on the way down.
//
//go:noinline
func fgRec(t *tally, n int) int {
	t.in()
	var pad [2048]byte
	pad[n%2048] = byte(n)
	r := int(pad[n%2048])
	if n > 0 {
		r += fgRec(t, n-1)
	} else {
		r += fgLeaf(t, n)
	}
	t.out()
	return r
}

// fgGrow has a 16 KiB frame: most stack growth happens in its prologue,
// which then runs again (morestack jumps back to the function's entry).
//
//go:noinline
func fgGrow(t *tally, n int) int {
	t.in()
	var pad [16384]byte
	pad[n%16384] = byte(n)
	r := int(pad[(n*7)%16384])
	if n > 0 {
		r += fgGrow(t, n-1)
	}
	t.out()
	return r
}

//go:noinline
func fgLeaf(t *tally, x int) int {
	t.in()
	t.out()
	return x*2 + 1
}

// fgCatch recovers a panic raised n frames below it.
//
//go:noinline
func fgCatch(t *tally, n int) (recovered bool) {
	t.in()
	saved := t.depth
	defer func() {
		t.in()
		if r := recover(); r != nil {
			recovered = true
		}
		t.out()
		t.depth = saved - 1 // the panicking frames never returned
	}()
	fgPanicky(t, n)
	return false
}

//go:noinline
func fgPanicky(t *tally, n int) {
	t.in()
	if n == 0 {
		panic("fg boom")
	}
	fgPanicky(t, n-1)
	t.out()
}

// fgExitChain calls runtime.Goexit n frames down: none of them return.
//
//go:noinline
func fgExitChain(t *tally, n int) {
	t.in()
	if n == 0 {
		t.report(true)
		runtime.Goexit()
	}
	fgExitChain(t, n-1)
	t.out()
}

type fgT struct{ n int }

//go:noinline
func (p *fgT) fgPtr(t *tally, k int) int {
	t.in()
	p.n += k
	r := p.fgVal(t)
	t.out()
	return r
}

//go:noinline
func (v fgT) fgVal(t *tally) int {
	t.in()
	t.out()
	return v.n
}

//go:noinline
func fgClosures(t *tally, k int) int {
	t.in()
	acc := 0
	add := func(x int) int {
		t.in()
		acc += x
		t.out()
		return acc
	}
	for i := 0; i < k; i++ {
		callFn(add, i)
	}
	t.out()
	return acc
}

// workload runs a mix that depends on seed, so goroutines differ.
func workload(t *tally, seed int, depth int) {
	fgRec(t, depth+seed*37)
	fgGrow(t, 40+seed)
	for i := 0; i < 1+seed%3; i++ {
		fgCatch(t, 2+(seed+i)%4)
	}
	p := &fgT{}
	for i := 0; i < 2+seed%4; i++ {
		p.fgPtr(t, i)
	}
	fgClosures(t, 3+seed%5)
	fgGenerics(t, seed)
	for i := 0; i < seed%7; i++ {
		fgLeaf(t, i)
	}
}

func runRound(workers, depth int, exitDepth int, quiet bool) {
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func(seed int) {
			defer wg.Done()
			t := newTally(quiet)
			workload(t, seed, depth)
			t.report(false)
		}(i + 1)
	}
	// one goroutine that ends in runtime.Goexit
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := newTally(quiet)
		fgLeaf(t, 1)
		fgExitChain(t, exitDepth)
	}()
	// and the main goroutine itself, with two timed calls
	t := newTally(quiet)
	workload(t, 0, depth)
	timedSleep(t)
	timedSleep(t)
	wg.Wait()
	t.report(false)
}

// fgMark marks where a -busy goroutine's counts start.
//
//go:noinline
func fgMark(t *tally) {
	t.in()
	t.out()
}

// fgHoldOuter and fgHold are entered before a tracer attaches (-busy) and
// return after it did; the calls made inside them are counted in after.
//
//go:noinline
func fgHoldOuter(t, after *tally, entered chan<- struct{}, release <-chan struct{}) {
	t.in()
	fgHold(t, after, entered, release)
	t.out()
}

//go:noinline
func fgHold(t, after *tally, entered chan<- struct{}, release <-chan struct{}) {
	t.in()
	entered <- struct{}{}
	<-release
	for i := 0; i < 3; i++ {
		fgLeaf(after, i)
	}
	t.out()
}

// startBusy starts the -busy goroutines, once the held one is inside
// fgHold; the returned function, called after the line on stdin, lets
// them go on to their counted parts and waits for their reports.
func startBusy(depth int) (after func()) {
	var mark int32
	var wg sync.WaitGroup
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go func(seed int) {
			defer wg.Done()
			t := newTally(true)
			for atomic.LoadInt32(&mark) == 0 {
				workload(t, seed, depth)
			}
			t = newTally(false)
			t.label = "fgbusy"
			fgMark(t)
			for r := 0; r < 2; r++ {
				workload(t, seed, depth)
			}
			t.report(false)
		}(i + 11)
	}
	entered, release := make(chan struct{}, 1), make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		after := newTally(false)
		after.label = "fgheld"
		fgHoldOuter(newTally(true), after, entered, release)
		after.report(false)
	}()
	<-entered
	return func() {
		atomic.StoreInt32(&mark, 1)
		close(release)
		wg.Wait()
	}
}

// onSignal, for -sigwork: on SIGINT or SIGTERM, one counted round on
// fresh goroutines (this one included), then exit 7.
func onSignal(workers, depth int) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		s := <-ch
		runRound(workers, depth, 5, false)
		fmt.Printf("funcgraph: signal %v\n", s)
		os.Exit(7)
	}()
}

// benchTarget is the per-call overhead benchmark's function: one entry and
// one RET site.
//
//go:noinline
func benchTarget(x int) int { return x*3 + 1 }

// benchChecked is the benchmark function shaped like most Go functions: a
// frame, so it starts with the stack-bound check (cmp; jbe), and a call.
//
//go:noinline
func benchChecked(x int) int { return benchTarget(x) + 1 }

// threadCPU is the calling thread's CPU time (CLOCK_THREAD_CPUTIME_ID).
func threadCPU() int64 {
	var ts syscall.Timespec
	syscall.Syscall(syscall.SYS_CLOCK_GETTIME, 3, uintptr(unsafe.Pointer(&ts)), 0)
	return ts.Nano()
}

func bench(n int, fn string) {
	f := benchTarget
	if fn == "checked" {
		f = benchChecked
	}
	runtime.LockOSThread()
	start, cpu := time.Now(), threadCPU()
	s := 0
	for i := 0; i < n; i++ {
		s += f(i)
	}
	fmt.Printf("funcgraph: bench %d calls in %d ns (cpu %d ns, sum %d)\n", n,
		time.Since(start).Nanoseconds(), threadCPU()-cpu, s)
}

func main() {
	workers := flag.Int("n", 6, "worker goroutines")
	depth := flag.Int("depth", 1000, "recursion depth (forces stack growth)")
	wait := flag.Bool("wait", false, "wait for a line on stdin before starting")
	loop := flag.Bool("loop", false, "repeat until killed")
	loopFor := flag.Duration("for", 0, "with -loop: stop after this long")
	busy := flag.Bool("busy", false, "with -wait: goroutines busy while a tracer attaches")
	sigwork := flag.Bool("sigwork", false, "on SIGINT/SIGTERM: a counted round, then exit 7")
	exit := flag.Int("exit", 0, "exit status")
	benchN := flag.Int("bench", 0, "call benchTarget N times and exit")
	benchFunc := flag.String("bench-func", "leaf", "leaf (benchTarget) or checked (benchChecked)")
	flag.Parse()

	if *benchN > 0 {
		bench(*benchN, *benchFunc)
		return
	}

	start := time.Now()
	fmt.Printf("funcgraph: pid %d\n", os.Getpid())
	fmt.Fprintln(os.Stderr, "funcgraph: stderr passes through")
	if *sigwork {
		onSignal(*workers, *depth)
	}
	var afterBusy func()
	if *wait {
		if *busy {
			afterBusy = startBusy(*depth)
		}
		fmt.Println("funcgraph: ready")
		bufio.NewReader(os.Stdin).ReadString('\n')
	}
	for round := 1; ; round++ {
		runRound(*workers, *depth, 5, *loop)
		if !*loop || (*loopFor > 0 && time.Since(start) > *loopFor) {
			break
		}
		if round%50 == 0 {
			fmt.Printf("funcgraph: round %d\n", round)
		}
	}
	if afterBusy != nil {
		afterBusy()
	}
	fmt.Println("funcgraph: done")
	os.Exit(*exit)
}
