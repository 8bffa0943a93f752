//go:build !go1.18
// +build !go1.18

package main

// Before Go 1.18 there are no generics: same result, plain code.

//go:noinline
func runGenerics(n int) int {
	s, f := 0, 0.0
	for i := 0; i < n; i++ {
		s += i
		f += float64(i) / 2
	}
	return s + int(f) + 1
}

// genericFrames has no generic function to go through before Go 1.18.
func genericFrames(pcs []uintptr) int { return frameC(pcs) }
