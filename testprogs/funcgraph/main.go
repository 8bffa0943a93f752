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
// Usage: funcgraph [-n WORKERS] [-depth N] [-wait] [-loop] [-exit CODE] [-bench N]
//
//	-wait   print "funcgraph: ready" and wait for a line on stdin before
//	        starting (for tracers that attach with -p)
//	-loop   repeat the workload until killed, without the per-goroutine
//	        report (soak tests)
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
//	funcgraph: done
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
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
}

var (
	outMu sync.Mutex
	quiet bool
)

func newTally() *tally {
	return &tally{goid: curGoid(), calls: map[string]int{}, names: map[uintptr]string{}}
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
	if quiet {
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

func runRound(workers, depth int, exitDepth int) {
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func(seed int) {
			defer wg.Done()
			t := newTally()
			workload(t, seed, depth)
			t.report(false)
		}(i + 1)
	}
	// one goroutine that ends in runtime.Goexit
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := newTally()
		fgLeaf(t, 1)
		fgExitChain(t, exitDepth)
	}()
	// and the main goroutine itself
	t := newTally()
	workload(t, 0, depth)
	wg.Wait()
	t.report(false)
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
	exit := flag.Int("exit", 0, "exit status")
	benchN := flag.Int("bench", 0, "call benchTarget N times and exit")
	benchFunc := flag.String("bench-func", "leaf", "leaf (benchTarget) or checked (benchChecked)")
	flag.Parse()

	if *benchN > 0 {
		bench(*benchN, *benchFunc)
		return
	}

	fmt.Printf("funcgraph: pid %d\n", os.Getpid())
	fmt.Fprintln(os.Stderr, "funcgraph: stderr passes through")
	if *wait {
		fmt.Println("funcgraph: ready")
		bufio.NewReader(os.Stdin).ReadString('\n')
	}
	quiet = *loop
	for round := 1; ; round++ {
		runRound(*workers, *depth, 5)
		if !*loop {
			break
		}
		if round%50 == 0 {
			fmt.Printf("funcgraph: round %d\n", round)
		}
	}
	fmt.Println("funcgraph: done")
	os.Exit(*exit)
}
