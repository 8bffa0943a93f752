// gotrace:min-go 1.17

// Command parked is the fixture of `gotrace goroutines`: it parks
// goroutines in every common way (channels, select, mutexes, WaitGroup,
// Cond, sleep, IO wait on a socket, a blocking system call, locked to a
// thread, closures, method values, go f(args), inlined calls, deep
// recursion, pprof labels, generics, a goroutine started by another one),
// then waits.  On SIGUSR1 it writes the runtime's own dump of every
// goroutine, runtime.Stack(buf, true), to the -out file while all of them
// are parked: the truth gotrace's dump is compared with; and its goroutine
// profile in the debug=1 text (pprof.Lookup("goroutine").WriteTo(w, 1)) to
// FILE.group, the truth of `gotrace goroutines --group`.
//
// Usage: parked -out FILE [-n N]
//
//	-n N   also park N extra goroutines in a channel receive (benchmarks)
//	-leak D   leak a goroutine (blocked in main.leakOne for ever) every D,
//	          printing {"event":"leaked","total":N} each time
//	-churn N  N pairs of goroutines passing a value back and forth for ever,
//	          through recursion of changing depth (stacks grow and shrink),
//	          yielding in between: goroutines that change state all the
//	          time, for the reader's consistency checks
//	-work     run a CPU loop and print {"event":"work","ops":N,"ns":T,"end":E}
//	          every 100 ms (E: CLOCK_MONOTONIC at the end; benchmarks: the
//	          cost of being read)
//
// Output, one JSON object per line on stdout:
//
//	{"event":"ready","pid":1234,"go":"go1.26.8","dumper":1,"parked":23,
//	 "gc_start":T0,"gc_end":T1}
//	{"event":"dumped","bytes":12345,"stack_ns":T}
//
// stack_ns is how long runtime.Stack(buf, true) took (the world is stopped
// meanwhile).
//
// "dumper" is the goroutine that writes the dump (it is "running" in the
// truth and parked in gotrace's view); it is the main goroutine.  gc_start
// and gc_end (CLOCK_MONOTONIC, ns) bracket a runtime.GC() made once every
// goroutine is parked: the runtime records the start of that collection as
// the waitsince of every waiting goroutine, the truth of wait_ns.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

var parked int32 // goroutines started (each parks right after)

// Kept reachable: a collected connection's finalizer would close it and
// end the goroutine waiting on its peer.
var keep []interface{}

// goid parses the current goroutine's id from its stack trace header.
func goid() int {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	var id int
	fmt.Sscanf(string(buf), "goroutine %d ", &id)
	return id
}

func start(f func()) {
	atomic.AddInt32(&parked, 1)
	go f()
}

//go:noinline
func chanRecv(c chan int) { <-c }

//go:noinline
func chanSend(c chan int) { c <- 1 }

//go:noinline
func nilChanRecv() {
	var c chan int
	<-c
}

//go:noinline
func selectTwo(a, b chan int) {
	select {
	case <-a:
	case b <- 1:
	}
}

//go:noinline
func selectNone() { select {} }

//go:noinline
func mutexWait(mu *sync.Mutex) { mu.Lock() }

//go:noinline
func rlockWait(rw *sync.RWMutex) { rw.RLock() }

//go:noinline
func lockWait(rw *sync.RWMutex) { rw.Lock() }

//go:noinline
func wgWait(wg *sync.WaitGroup) { wg.Wait() }

//go:noinline
func condWait(c *sync.Cond) {
	c.L.Lock()
	c.Wait()
}

//go:noinline
func sleeper() { time.Sleep(time.Hour) }

//go:noinline
func ioWait(c net.Conn) {
	var b [1]byte
	c.Read(b[:])
}

//go:noinline
func acceptWait(l net.Listener) { l.Accept() }

// A blocking read(2) on a pipe: the goroutine is in a system call.
//
//go:noinline
func syscallRead(fd int) {
	var b [1]byte
	syscall.Read(fd, b[:])
}

//go:noinline
func lockedWait(c chan int) {
	runtime.LockOSThread()
	<-c
}

// waitOn is small enough to be inlined into its callers.
func waitOn(c chan int) int { return <-c }

//go:noinline
func inlinedWait(c chan int) int { return waitOn(c) + 1 }

//go:noinline
func worker(c chan int, id int, name string) { <-c }

type server struct{ c chan int }

//go:noinline
func (s *server) serve() { <-s.c }

type value struct{ c chan int }

//go:noinline
func (v value) run() { <-v.c }

//go:noinline
func recurse(n int, c chan int) int {
	if n == 0 {
		return <-c
	}
	return recurse(n-1, c) + 1
}

//go:noinline
func labelled(c chan int) {
	pprof.Do(context.Background(), pprof.Labels("request", "r-17", "user", "ann smith"),
		func(context.Context) { <-c })
}

//go:noinline
func leakOne(c chan int) { <-c }

//go:noinline
func leaker(every time.Duration, c chan int, enc *json.Encoder) {
	for total := 1; ; total++ {
		time.Sleep(every)
		go leakOne(c)
		enc.Encode(map[string]interface{}{"event": "leaked", "total": total})
	}
}

var sink uint64

// work counts loop iterations per 100 ms: the progress a benchmark
// compares with and without a reader.
//
//go:noinline
func work(enc *json.Encoder) {
	for {
		start := time.Now()
		ops := 0
		for time.Since(start) < 100*time.Millisecond {
			for i := 0; i < 1000; i++ {
				sink = sink*6364136223846793005 + 1442695040888963407
			}
			ops += 1000
		}
		enc.Encode(map[string]interface{}{"event": "work", "ops": ops,
			"ns": time.Since(start).Nanoseconds(), "end": monoNow()})
	}
}

// churnRecurse goes n frames deep (1 KiB each, so deep calls grow the
// stack) before passing v on.
//
//go:noinline
func churnRecurse(n int, out chan int, v int) int {
	var pad [1024]byte
	pad[n%1024] = byte(v)
	if n == 0 {
		out <- v
		runtime.Gosched()
		return int(pad[0])
	}
	return churnRecurse(n-1, out, v) + int(pad[n%1024])
}

//go:noinline
func churnLoop(in, out chan int) {
	for v := range in {
		churnRecurse(v%40, out, v+1)
	}
}

func startChurn(pairs int) {
	for i := 0; i < pairs; i++ {
		a, b := make(chan int), make(chan int)
		go churnLoop(a, b)
		go churnLoop(b, a)
		a <- i
	}
}

//go:noinline
func spawner(c chan int, done chan struct{}) {
	start(func() { chanRecv(c) })
	close(done)
	<-c
}

// monoNow reads CLOCK_MONOTONIC, the clock of the runtime's nanotime().
func monoNow() int64 {
	var ts syscall.Timespec
	syscall.Syscall(syscall.SYS_CLOCK_GETTIME, 1, uintptr(unsafe.Pointer(&ts)), 0)
	return ts.Nano()
}

// writeFile replaces name with data, never showing a partial file.
func writeFile(name string, data []byte) {
	if err := os.WriteFile(name+".tmp", data, 0o644); err == nil {
		os.Rename(name+".tmp", name)
	}
}

func main() {
	out := flag.String("out", "", "write the runtime's goroutine dump here on SIGUSR1")
	extra := flag.Int("n", 0, "extra goroutines parked in a channel receive")
	leak := flag.Duration("leak", 0, "leak a goroutine every this long")
	doWork := flag.Bool("work", false, "run a CPU loop and report its rate")
	churn := flag.Int("churn", 0, "pairs of goroutines changing state all the time")
	flag.Parse()

	never := make(chan int)  // nobody sends: receivers park
	nobody := make(chan int) // nobody receives: senders park
	var mu sync.Mutex
	var rw sync.RWMutex
	var wg sync.WaitGroup
	cond := sync.NewCond(&sync.Mutex{})
	mu.Lock()
	rw.Lock()
	wg.Add(1)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "parked:", err)
		os.Exit(1)
	}
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		fmt.Fprintln(os.Stderr, "parked:", err)
		os.Exit(1)
	}
	conn, err := ln.Accept()
	if err != nil {
		fmt.Fprintln(os.Stderr, "parked:", err)
		os.Exit(1)
	}
	var pfd [2]int
	if err := syscall.Pipe(pfd[:]); err != nil {
		fmt.Fprintln(os.Stderr, "parked:", err)
		os.Exit(1)
	}

	start(func() { chanRecv(never) })
	start(func() { chanSend(nobody) })
	start(nilChanRecv)
	start(func() { selectTwo(never, nobody) })
	start(selectNone)
	start(func() { mutexWait(&mu) })
	start(func() { rlockWait(&rw) })
	start(func() { lockWait(&rw) })
	start(func() { wgWait(&wg) })
	start(func() { condWait(cond) })
	start(sleeper)
	start(func() { ioWait(conn) })
	start(func() { acceptWait(ln) })
	start(func() { syscallRead(pfd[0]) })
	start(func() { lockedWait(never) })
	start(func() { inlinedWait(never) })
	atomic.AddInt32(&parked, 1)
	go worker(never, 42, "w")
	s := &server{c: never}
	atomic.AddInt32(&parked, 1)
	go s.serve()
	v := value{c: never}
	atomic.AddInt32(&parked, 1)
	go v.run()
	f := v.run
	atomic.AddInt32(&parked, 1)
	go f()
	start(func() { recurse(120, never) })
	start(func() { recurse(30, never) })
	start(func() { labelled(never) })
	startGeneric(never)
	done := make(chan struct{})
	start(func() { spawner(never, done) })
	<-done
	for i := 0; i < *extra; i++ {
		atomic.AddInt32(&parked, 1)
		go chanRecv(never)
	}
	keep = append(keep, client, conn, ln)

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGUSR1)
	// Let every goroutine reach its parking place, then have a collection
	// see them all waiting.
	time.Sleep(300 * time.Millisecond)
	gcStart := monoNow()
	runtime.GC()
	gcEnd := monoNow()
	enc := json.NewEncoder(os.Stdout)
	enc.Encode(map[string]interface{}{"event": "ready", "pid": os.Getpid(),
		"go": runtime.Version(), "dumper": goid(), "parked": atomic.LoadInt32(&parked),
		"gc_start": gcStart, "gc_end": gcEnd})
	if *leak > 0 {
		go leaker(*leak, never, enc)
	}
	if *doWork {
		go work(enc)
	}
	startChurn(*churn)
	for range sig {
		// The signal goroutine goes back to waiting for the next one.
		time.Sleep(200 * time.Millisecond)
		buf := make([]byte, 256<<20)
		t0 := monoNow()
		buf = buf[:runtime.Stack(buf, true)]
		stackNs := monoNow() - t0
		if *out != "" {
			var group bytes.Buffer
			pprof.Lookup("goroutine").WriteTo(&group, 1)
			writeFile(*out+".group", group.Bytes())
			writeFile(*out, buf)
		}
		enc.Encode(map[string]interface{}{"event": "dumped", "bytes": len(buf),
			"stack_ns": stackNs})
	}
}
