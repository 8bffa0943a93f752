// Command cgo calls small C functions from Go, from several goroutines, and
// has C call back into Go: a binary with C code, .eh_frame, a C runtime and
// the cgo TLS layout.  Built only where a C compiler exists (CGO_ENABLED=1).
// It ends by itself well within two seconds.
//
// Usage: cgo [-n CALLS] [-loop [-pause DUR]]
package main

/*
#include <stdint.h>
#include <unistd.h>

// c_mix is plain C, compiled by the system C compiler.
static __attribute__((noinline)) uint64_t c_mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return x;
}

// c_work loops in C so a sampler or tracer can catch a thread inside C code.
static uint64_t c_work(uint64_t seed, int rounds)
{
	for (int i = 0; i < rounds; i++)
		seed = c_mix(seed + (uint64_t)i);
	return seed;
}

// c_nap blocks in a system call from C.
static void c_nap(int usec)
{
	usleep(usec);
}

// Exported from Go (see goCallback below).
extern int64_t goCallback(int64_t);

static int64_t c_calls_go(int64_t x)
{
	return goCallback(x) + 1;
}
*/
import "C"

import (
	"flag"
	"fmt"
	"os"
	"sync"
	"time"
)

//export goCallback
func goCallback(x C.int64_t) C.int64_t {
	return x * 2
}

//go:noinline
func callC(seed uint64, rounds int) uint64 {
	return uint64(C.c_work(C.uint64_t(seed), C.int(rounds)))
}

//go:noinline
func runCgo(n int) (uint64, int64) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var acc uint64
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < n; i++ {
				v := callC(uint64(g*n+i), 1000)
				mu.Lock()
				acc ^= v
				mu.Unlock()
			}
			C.c_nap(1000)
		}(g)
	}
	wg.Wait()
	back := int64(C.c_calls_go(C.int64_t(20)))
	return acc, back
}

func main() {
	n := flag.Int("n", 200, "C calls per goroutine")
	loop := flag.Bool("loop", false, "repeat until killed")
	pause := flag.Duration("pause", 20*time.Millisecond, "with -loop: pause between rounds")
	flag.Parse()
	fmt.Printf("cgo: pid %d\n", os.Getpid())
	for {
		start := time.Now()
		acc, back := runCgo(*n)
		fmt.Printf("cgo: acc=%#x callback=%d in %v\n", acc, back, time.Since(start).Round(time.Millisecond))
		if !*loop {
			return
		}
		time.Sleep(*pause)
	}
}
