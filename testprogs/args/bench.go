package main

import (
	"fmt"
	"time"
)

// Benchmark targets (not main.arg*: the truth printer stays out of them).

//go:noinline
func benchScalars(a, b, c int) int { return a + b + c }

//go:noinline
func benchStrSlice(s string, b []byte) int { return len(s) + len(b) }

//go:noinline
func benchPtr3(n *Node) int { return n.Val }

func runBench(n int) {
	s := "a string of some length"
	b := make([]byte, 100)
	n3 := &Node{Val: 3, Name: "third"}
	nd := &Node{Val: 1, Name: "first", Next: &Node{Val: 2, Name: "second", Next: n3}}
	total := 0
	t0 := time.Now()
	for i := 0; i < n; i++ {
		total += benchScalars(i, 2, 3)
	}
	fmt.Printf("args: bench scalars %d calls in %d ns\n", n, time.Since(t0).Nanoseconds())
	t0 = time.Now()
	for i := 0; i < n; i++ {
		total += benchStrSlice(s, b)
	}
	fmt.Printf("args: bench strslice %d calls in %d ns\n", n, time.Since(t0).Nanoseconds())
	t0 = time.Now()
	for i := 0; i < n; i++ {
		total += benchPtr3(nd)
	}
	fmt.Printf("args: bench ptr3 %d calls in %d ns\n", n, time.Since(t0).Nanoseconds())
	sink = total
}
