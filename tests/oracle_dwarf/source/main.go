// Command source type-checks the runtime package of the Go toolchain that
// runs it (its GOROOT/src/runtime) with go/types and the gc size rules, and
// prints what the per-version tables in gosym/version_tables.c must hold:
// the runtime.g / runtime.m field offsets and the waitReasonStrings array,
// computed from the source, not from a compiled binary.
//
// Usage: GOARCH=amd64 $TOOLCHAIN/bin/go run ./tests/oracle_dwarf/source
//
// Output: one JSON object {"goversion", "offsets": {...}, "wait_reasons": [...]}.
package main

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/build"
	"go/constant"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

func die(f string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "oracle source: "+f+"\n", a...)
	os.Exit(1)
}

// offset returns the offset of a dotted field path in struct type t, or -1.
func offset(sizes types.Sizes, t types.Type, path string) int64 {
	var off int64
	for _, name := range strings.Split(path, ".") {
		st, ok := t.Underlying().(*types.Struct)
		if !ok {
			return -1
		}
		var fields []*types.Var
		for i := 0; i < st.NumFields(); i++ {
			fields = append(fields, st.Field(i))
		}
		offs := sizes.Offsetsof(fields)
		found := false
		for i, f := range fields {
			if f.Name() == name {
				off += offs[i]
				t = f.Type()
				found = true
				break
			}
		}
		if !found {
			return -1
		}
	}
	return off
}

func main() {
	arch := build.Default.GOARCH
	ctx := build.Default
	ctx.CgoEnabled = false
	pkg, err := ctx.Import("runtime", "", 0)
	if err != nil {
		die("%v", err)
	}
	fset := token.NewFileSet()
	var files []*ast.File
	for _, name := range pkg.GoFiles {
		f, err := parser.ParseFile(fset, filepath.Join(pkg.Dir, name), nil, 0)
		if err != nil {
			die("%v", err)
		}
		files = append(files, f)
	}
	sizes := types.SizesFor("gc", arch)
	conf := types.Config{
		Importer: importer.ForCompiler(fset, "source", nil),
		Sizes:    sizes,
		// The runtime has body-less functions (assembly) and linknames:
		// keep going past whatever go/types dislikes; the types we need
		// are still complete.
		Error: func(error) {},
	}
	tpkg, _ := conf.Check("runtime", fset, files, nil)
	lookup := func(name string) types.Type {
		o := tpkg.Scope().Lookup(name)
		if o == nil {
			die("no runtime.%s", name)
		}
		return o.Type()
	}
	g, m := lookup("g"), lookup("m")
	offs := map[string]int64{
		"g_stack_lo":     offset(sizes, g, "stack.lo"),
		"g_stack_hi":     offset(sizes, g, "stack.hi"),
		"g_m":            offset(sizes, g, "m"),
		"g_sched":        offset(sizes, g, "sched"),
		"g_sched_sp":     offset(sizes, g, "sched.sp"),
		"g_sched_pc":     offset(sizes, g, "sched.pc"),
		"g_atomicstatus": offset(sizes, g, "atomicstatus"),
		"g_goid":         offset(sizes, g, "goid"),
		"g_waitreason":   offset(sizes, g, "waitreason"),
		"g_startpc":      offset(sizes, g, "startpc"),
		"g_gopc":         offset(sizes, g, "gopc"),
		"g_parentgoid":   offset(sizes, g, "parentGoid"),
		"m_curg":         offset(sizes, m, "curg"),
		"m_g0":           offset(sizes, m, "g0"),
		"m_procid":       offset(sizes, m, "procid"),
	}

	// waitReasonStrings = [...]string{ waitReasonX: "...", ... }: evaluate
	// the keys with the type checker's constant values.
	var reasons []string
	for _, f := range files {
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.VAR {
				continue
			}
			for _, s := range gd.Specs {
				vs := s.(*ast.ValueSpec)
				if len(vs.Names) != 1 || vs.Names[0].Name != "waitReasonStrings" || len(vs.Values) != 1 {
					continue
				}
				lit, ok := vs.Values[0].(*ast.CompositeLit)
				if !ok {
					die("waitReasonStrings is not a composite literal")
				}
				for _, el := range lit.Elts {
					kv, ok := el.(*ast.KeyValueExpr)
					if !ok {
						die("waitReasonStrings element without key")
					}
					id := kv.Key.(*ast.Ident)
					c, ok := tpkg.Scope().Lookup(id.Name).(*types.Const)
					if !ok {
						die("key %s is not a constant", id.Name)
					}
					i, _ := constant.Int64Val(c.Val())
					str, err := strconv.Unquote(kv.Value.(*ast.BasicLit).Value)
					if err != nil {
						die("%v", err)
					}
					for int64(len(reasons)) <= i {
						reasons = append(reasons, "")
					}
					reasons[i] = str
				}
			}
		}
	}
	if reasons == nil {
		die("no waitReasonStrings")
	}
	b, _ := json.Marshal(map[string]interface{}{
		"goversion":    runtime.Version(),
		"goarch":       arch,
		"offsets":      offs,
		"wait_reasons": reasons,
	})
	fmt.Println(string(b))
}
