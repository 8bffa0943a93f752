package main

import (
	"runtime"
	"sync"
)

// runPanics panics three frames below a deferred recover, n times, on
// separate goroutines, and counts the recoveries.
//
//go:noinline
func runPanics(n int) int {
	var wg sync.WaitGroup
	var mu sync.Mutex
	got := 0
	for i := 0; i < n; i++ {
		wg.Add(1)
		spawned()
		go func(i int) {
			defer wg.Done()
			if catcher(i) {
				mu.Lock()
				got++
				mu.Unlock()
			}
		}(i)
	}
	wg.Wait()
	return got
}

//go:noinline
func catcher(i int) (ok bool) {
	defer func() {
		if r := recover(); r != nil {
			ok = true
		}
	}()
	panicker1(i)
	return false
}

//go:noinline
func panicker1(i int) int { return panicker2(i) + 1 }

//go:noinline
func panicker2(i int) int { return panicker3(i) + 1 }

//go:noinline
func panicker3(i int) int {
	if i >= 0 {
		panic("testprog panic")
	}
	return i
}

// runGoexits starts n goroutines that call runtime.Goexit two frames down;
// their deferred functions still run.
//
//go:noinline
func runGoexits(n int) int {
	var wg sync.WaitGroup
	var mu sync.Mutex
	exits := 0
	for i := 0; i < n; i++ {
		wg.Add(1)
		spawned()
		go func() {
			defer wg.Done()
			defer func() { mu.Lock(); exits++; mu.Unlock() }()
			exiter1()
			panic("not reached")
		}()
	}
	wg.Wait()
	return exits
}

//go:noinline
func exiter1() { exiter2() }

//go:noinline
func exiter2() { runtime.Goexit() }
