//go:build go1.18
// +build go1.18

package main

type Pair[K comparable, V any] struct {
	Key K
	Val V
}

//go:noinline
func argGenPair[K comparable, V any](k K, v V) (p Pair[K, V]) {
	in("k", &k, "v", &v)
	p = Pair[K, V]{k, v}
	out("p", &p)
	return p
}

type Stack[T any] struct{ items []T }

//go:noinline
func (s *Stack[T]) argPush(v T) int {
	in("s", &s, "v", &v)
	s.items = append(s.items, v)
	r := len(s.items)
	out("~r0", &r)
	return r
}

func generics(round int) {
	argGenPair("key", round)
	argGenPair(int64(-1), 2.5)
	argGenPair(3, []string{"x"})
	s := &Stack[string]{}
	s.argPush("a")
	s.argPush("bb")
}
