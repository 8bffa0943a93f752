//go:build go1.18
// +build go1.18

package main

//go:noinline
func genericWait[T any](c chan T) T { return <-c }

type box[T any] struct{ c chan T }

//go:noinline
func (b *box[T]) wait() T { return <-b.c }

func startGeneric(c chan int) {
	start(func() { genericWait(c) })
	b := &box[int]{c: c}
	start(func() { b.wait() })
}
