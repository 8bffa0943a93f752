// gotrace:min-go 1.17
// gotrace:cgo

// Command parkedcgo is the cgo fixture of `gotrace goroutines`: goroutines
// blocked inside C (a blocking read(2) from C, a C sleep), one blocked in
// a Go callback called from C, and a few parked in Go; on SIGUSR1 it writes
// runtime.Stack(buf, true) to the -out file, as testprogs/parked does.
//
// Usage: parkedcgo -out FILE
//
// Output: {"event":"ready","pid":N,"go":"go1.26.8","dumper":1}, then
// {"event":"dumped","bytes":N} per signal.
package main

/*
#include <unistd.h>

// c_read blocks in read(2) on fd, from C.
static __attribute__((noinline)) int c_read(int fd)
{
	char b;
	return (int)read(fd, &b, 1);
}

// c_sleep sleeps in C for ever.
static __attribute__((noinline)) void c_sleep(void)
{
	for (;;)
		sleep(3600);
}

extern void goBlock(void);

// c_calls_go calls back into Go, which blocks.
static __attribute__((noinline)) void c_calls_go(void)
{
	goBlock();
}
*/
import "C"

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"
)

var never = make(chan int)

//export goBlock
func goBlock() { <-never }

//go:noinline
func inCRead(fd int) { C.c_read(C.int(fd)) }

//go:noinline
func inCSleep() { C.c_sleep() }

//go:noinline
func viaC() { C.c_calls_go() }

//go:noinline
func inGo() { <-never }

func goid() int {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	var id int
	fmt.Sscanf(string(buf), "goroutine %d ", &id)
	return id
}

func main() {
	out := flag.String("out", "", "write the runtime's goroutine dump here on SIGUSR1")
	flag.Parse()
	var p [2]int
	if err := syscall.Pipe(p[:]); err != nil {
		fmt.Fprintln(os.Stderr, "parkedcgo:", err)
		os.Exit(1)
	}
	go inCRead(p[0])
	go inCSleep()
	go viaC()
	go inGo()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGUSR1)
	time.Sleep(300 * time.Millisecond)
	enc := json.NewEncoder(os.Stdout)
	enc.Encode(map[string]interface{}{"event": "ready", "pid": os.Getpid(),
		"go": runtime.Version(), "dumper": goid()})
	for range sig {
		time.Sleep(200 * time.Millisecond)
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		if *out != "" {
			if err := os.WriteFile(*out+".tmp", buf, 0o644); err == nil {
				os.Rename(*out+".tmp", *out)
			}
		}
		enc.Encode(map[string]interface{}{"event": "dumped", "bytes": len(buf)})
	}
	_ = p[1]
}
