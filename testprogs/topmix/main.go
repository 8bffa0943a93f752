// gotrace:min-go 1.17

// Command topmix is the fixture of `gotrace top`: a process whose
// goroutine mix is known, so a test can check what the screen shows
// against what the program does.
//
//	-chan N    N goroutines in main.chanBlocked, blocked for ever on a
//	           channel receive (wait reason "chan receive")
//	-spin M    M goroutines in main.spinner, each a CPU loop that never
//	           blocks (running, or runnable while another one has the CPU)
//	-sys K     K goroutines in main.inSyscall, each in a loop of
//	           nanosleep(2) calls of 100 ms made with syscall.Nanosleep:
//	           in a system call nearly all the time
//	-sleep S   S goroutines in main.sleeper, each in a loop of
//	           time.Sleep(20ms) (wait reason "sleep"), many transitions
//	-churn R   about R short-lived goroutines a second (main.shortLived:
//	           a 5 ms sleep, then exit), started by main.churner
//	-loop      run until killed; without it the program ends after 1 s
//	-exit-after D   end after D (e.g. 3s)
//
// Once every goroutine is started it prints one JSON line on stdout:
//
//	{"event":"ready","pid":1234,"go":"go1.26.8","gomaxprocs":2,
//	 "chan":20,"spin":2,"sys":3,"sleep":4,"churn":0}
//
// and it ends by itself (after 1 s, or -exit-after) with
// {"event":"exit"}.
package main

import (
	"encoding/json"
	"flag"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

var (
	spinSink uint64
	// Package-level, so every go statement below calls its function
	// with no argument: the goroutine's start function is then that
	// function in every Go release (with arguments, Go 1.17-1.21 start
	// the goroutine in a compiler-made wrapper, main.main.func1 or
	// main.main·dwrap·1).
	started    sync.WaitGroup
	block      = make(chan int)
	churnEvery time.Duration
)

//go:noinline
func chanBlocked() {
	started.Done()
	<-block
}

//go:noinline
func spinner() {
	started.Done()
	x := uint64(1)
	for {
		// xorshift: work the compiler cannot fold away; preemptible
		// (asynchronous preemption) like any loop.
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		if x == 0 {
			atomic.AddUint64(&spinSink, 1)
		}
	}
}

//go:noinline
func inSyscall() {
	started.Done()
	ts := syscall.Timespec{Nsec: 100 * 1000 * 1000}
	for {
		syscall.Nanosleep(&ts, nil)
	}
}

//go:noinline
func sleeper() {
	started.Done()
	for {
		time.Sleep(20 * time.Millisecond)
	}
}

//go:noinline
func shortLived() { time.Sleep(5 * time.Millisecond) }

//go:noinline
func churner() {
	for {
		time.Sleep(churnEvery)
		go shortLived()
	}
}

func main() {
	nchan := flag.Int("chan", 20, "goroutines blocked on a channel receive")
	nspin := flag.Int("spin", 2, "goroutines spinning on the CPU")
	nsys := flag.Int("sys", 3, "goroutines in nanosleep(2) system calls")
	nsleep := flag.Int("sleep", 4, "goroutines in time.Sleep loops")
	churn := flag.Int("churn", 0, "short-lived goroutines started per second")
	loop := flag.Bool("loop", false, "run until killed")
	exitAfter := flag.Duration("exit-after", 0, "end after this long")
	flag.Parse()

	started.Add(*nchan + *nspin + *nsys + *nsleep)
	for i := 0; i < *nchan; i++ {
		go chanBlocked()
	}
	for i := 0; i < *nspin; i++ {
		go spinner()
	}
	for i := 0; i < *nsys; i++ {
		go inSyscall()
	}
	for i := 0; i < *nsleep; i++ {
		go sleeper()
	}
	if *churn > 0 {
		churnEvery = time.Second / time.Duration(*churn)
		go churner()
	}
	started.Wait()

	enc := json.NewEncoder(os.Stdout)
	enc.Encode(map[string]interface{}{
		"event": "ready", "pid": os.Getpid(), "go": runtime.Version(),
		"gomaxprocs": runtime.GOMAXPROCS(0), "chan": *nchan, "spin": *nspin,
		"sys": *nsys, "sleep": *nsleep, "churn": *churn,
	})
	switch {
	case *exitAfter > 0:
		time.Sleep(*exitAfter)
	case *loop:
		for { // a timer keeps the runtime from calling an all-blocked mix a deadlock
			time.Sleep(time.Hour)
		}
	default:
		time.Sleep(time.Second)
	}
	enc.Encode(map[string]interface{}{"event": "exit"})
}
