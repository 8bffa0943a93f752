// Command bench_funcgraph_big is the attach/detach benchmark's target: a
// binary with well over 10,000 functions (it links net/http, TLS, JSON,
// templates and the Go parser) that starts, prints its pid and then waits
// for stdin to close, so uprobes are installed in a live process.
package main

import (
	"encoding/json"
	"fmt"
	"go/parser"
	"go/token"
	"io"
	"net/http"
	"os"
	"text/template"
)

func main() {
	fmt.Printf("bench_funcgraph_big: pid %d\n", os.Getpid())
	if len(os.Args) > 1 { // never taken: keeps the packages linked
		http.ListenAndServe(os.Args[1], nil)
		json.Marshal(os.Args)
		template.Must(template.New("x").Parse(os.Args[1]))
		parser.ParseFile(token.NewFileSet(), os.Args[1], nil, 0)
	}
	io.Copy(io.Discard, os.Stdin)
}
