//go:build !go1.18
// +build !go1.18

package main

//go:noinline
func fgGenerics(t *tally, seed int) {
	t.in()
	t.out()
}
