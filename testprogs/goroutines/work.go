package main

import (
	"sync"
	"time"
)

// counter is shared by the workers behind a mutex, so some of them block on it.
type counter struct {
	mu    sync.Mutex
	total int64
	hits  int
}

//go:noinline
func (c *counter) add(v int64) {
	c.mu.Lock()
	c.total += v
	c.hits++
	c.mu.Unlock()
}

// runWorkers fans jobs out to n goroutines over an unbuffered channel and
// collects results over a buffered one: goroutines block on send, receive,
// the mutex and a WaitGroup.
//
//go:noinline
func runWorkers(n, rounds int) int64 {
	jobs := make(chan int)
	results := make(chan int64, n)
	var c counter
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		spawned()
		go worker(i, jobs, results, &c, &wg)
	}
	spawned()
	go func() { // a closure goroutine capturing n and rounds
		for j := 0; j < n*rounds; j++ {
			jobs <- j
		}
		close(jobs)
	}()
	done := make(chan struct{})
	var sum int64
	spawned()
	go func() {
		for r := range results {
			sum += r
		}
		close(done)
	}()
	wg.Wait()
	close(results)
	<-done
	return sum + c.total
}

//go:noinline
func worker(id int, jobs <-chan int, results chan<- int64, c *counter, wg *sync.WaitGroup) {
	defer wg.Done()
	for j := range jobs {
		v := square(int64(j)) + int64(id)
		c.add(v)
		results <- v
		if j%97 == 0 {
			time.Sleep(100 * time.Microsecond)
		}
	}
}

// square is small enough to be inlined into worker.
func square(x int64) int64 { return x * x }

// sleepers start n goroutines that sleep d, n/2 of them behind a select
// with a timer, and wait for all of them.
//
//go:noinline
func sleepers(n int, d time.Duration) {
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		i := i
		spawned()
		go func() {
			defer wg.Done()
			if i%2 == 0 {
				time.Sleep(d)
				return
			}
			never := make(chan int)
			select {
			case <-never:
			case <-time.After(d):
			}
		}()
	}
	wg.Wait()
}
