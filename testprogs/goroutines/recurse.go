package main

// runRecursion recurses depth frames deep on a fresh goroutine, whose stack
// starts small (a few KiB) and is grown (copied) many times on the way down.
//
//go:noinline
func runRecursion(depth int) int {
	ch := make(chan int)
	spawned()
	go func() { ch <- recurse(depth, 0) }()
	return <-ch
}

//go:noinline
func recurse(n int, acc int) int {
	var pad [8]int // a bigger frame: the stack grows sooner
	pad[n%8] = n
	if n == 0 {
		return acc + pad[0]
	}
	return recurse(n-1, acc+1) + pad[n%8] - n
}
