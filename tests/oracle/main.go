// Command oracle is the independent truth the gosym tests compare gotrace
// with: Go's own debug/elf and debug/gosym, plus the small amount of glue
// they need to find a binary's pclntab and text start on their own.
//
// Usage:
//
//	oracle info  BIN          one JSON object: where the tables came from
//	oracle funcs BIN          one JSON line per function: {"name","entry","end"}
//	oracle pcs   BIN < ADDRS  one JSON line per hex address on stdin:
//	                          {"addr","func","file","line"} (func null and
//	                          file "" when the address is in no function)
//
// func is the physical function containing the address, file:line the
// innermost (inlined) position: what `go tool addr2line` prints.
//
// Text start (Go 1.18+ function entries are offsets from it), in order:
// the runtime.text symbol; runtime.firstmoduledata.text, found by symbol or,
// in stripped binaries, by looking for the moduledata whose first word
// points at the pclntab; the pclntab header's textStart word (1.18-1.25;
// Go 1.26 writes 0 there).  Data words are read with their R_*_RELATIVE
// relocation applied, which PIE binaries need.  debug/gosym itself only
// ever uses the address it is given; `go tool addr2line` gives it the .text
// section's address when there is no runtime.text symbol, which is wrong
// for stripped binaries whose .text starts with C code.
package main

import (
	"bufio"
	"debug/elf"
	"debug/gosym"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

type binaryFile struct {
	f        *elf.File
	bo       binary.ByteOrder
	ptrSize  int
	relative map[uint64]uint64 // R_*_RELATIVE: vaddr -> addend
	syms     map[string]elf.Symbol

	pclnVaddr uint64
	pcln      []byte
	pclnWhere string
	textStart uint64
	textWhere string
	table     *gosym.Table
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "oracle: "+format+"\n", args...)
	os.Exit(1)
}

func open(path string) (*binaryFile, error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, err
	}
	b := &binaryFile{f: f, bo: f.ByteOrder, ptrSize: 8, syms: map[string]elf.Symbol{}}
	if f.Class == elf.ELFCLASS32 {
		b.ptrSize = 4
	}
	if syms, err := f.Symbols(); err == nil {
		for _, s := range syms {
			if _, dup := b.syms[s.Name]; !dup {
				b.syms[s.Name] = s
			}
		}
	}
	b.loadRelative()
	if err := b.findPclntab(); err != nil {
		return nil, err
	}
	b.findTextStart()
	lt := gosym.NewLineTable(b.pcln, b.textStart)
	b.table, err = gosym.NewTable(nil, lt)
	if err != nil {
		return nil, fmt.Errorf("debug/gosym: %v", err)
	}
	return b, nil
}

// loadRelative collects the R_*_RELATIVE dynamic relocations: in a PIE
// binary a pointer in data may be stored only as such a relocation's addend.
func (b *binaryFile) loadRelative() {
	b.relative = map[uint64]uint64{}
	for _, s := range b.f.Sections {
		if s.Type != elf.SHT_RELA && s.Type != elf.SHT_REL {
			continue
		}
		data, err := s.Data()
		if err != nil {
			continue
		}
		rela := s.Type == elf.SHT_RELA
		if b.ptrSize == 8 {
			step := 16
			if rela {
				step = 24
			}
			for i := 0; i+step <= len(data); i += step {
				off := b.bo.Uint64(data[i:])
				info := b.bo.Uint64(data[i+8:])
				typ := uint32(info)
				if typ != uint32(elf.R_X86_64_RELATIVE) && typ != uint32(elf.R_AARCH64_RELATIVE) {
					continue
				}
				if rela {
					b.relative[off] = b.bo.Uint64(data[i+16:])
				} else if v, ok := b.read(off); ok {
					b.relative[off] = v
				}
			}
		} else {
			step := 8
			if rela {
				step = 12
			}
			for i := 0; i+step <= len(data); i += step {
				off := uint64(b.bo.Uint32(data[i:]))
				typ := b.bo.Uint32(data[i+4:]) & 0xff
				if typ != uint32(elf.R_386_RELATIVE) && typ != uint32(elf.R_ARM_RELATIVE) && typ != uint32(elf.R_MIPS_REL32) {
					continue
				}
				if rela {
					b.relative[off] = uint64(b.bo.Uint32(data[i+8:]))
				}
			}
		}
	}
}

// read returns the file-backed pointer-sized word at vaddr, as stored.
func (b *binaryFile) read(vaddr uint64) (uint64, bool) {
	for _, p := range b.f.Progs {
		if p.Type != elf.PT_LOAD || vaddr < p.Vaddr || vaddr+uint64(b.ptrSize) > p.Vaddr+p.Filesz {
			continue
		}
		buf := make([]byte, b.ptrSize)
		if _, err := p.ReadAt(buf, int64(vaddr-p.Vaddr)); err != nil {
			return 0, false
		}
		if b.ptrSize == 8 {
			return b.bo.Uint64(buf), true
		}
		return uint64(b.bo.Uint32(buf)), true
	}
	return 0, false
}

// word is read() with a RELATIVE relocation at vaddr applied.
func (b *binaryFile) word(vaddr uint64) (uint64, bool) {
	if v, ok := b.relative[vaddr]; ok {
		return v, true
	}
	return b.read(vaddr)
}

var pclnMagics = []uint32{0xfffffffb, 0xfffffffa, 0xfffffff0, 0xfffffff1}

func (b *binaryFile) isPclnHeader(d []byte) bool {
	if len(d) < 16 {
		return false
	}
	magic := b.bo.Uint32(d)
	ok := false
	for _, m := range pclnMagics {
		ok = ok || magic == m
	}
	return ok && d[4] == 0 && d[5] == 0 && (d[6] == 1 || d[6] == 2 || d[6] == 4) && int(d[7]) == b.ptrSize
}

func (b *binaryFile) findPclntab() error {
	for _, name := range []string{".gopclntab", ".data.rel.ro.gopclntab"} {
		if s := b.f.Section(name); s != nil && s.Type != elf.SHT_NOBITS {
			d, err := s.Data()
			if err != nil {
				return err
			}
			b.pcln, b.pclnVaddr, b.pclnWhere = d, s.Addr, name
			return nil
		}
	}
	if s, ok := b.syms["runtime.pclntab"]; ok {
		if e, ok := b.syms["runtime.epclntab"]; ok && e.Value > s.Value {
			if d := b.bytesAt(s.Value, e.Value-s.Value); d != nil {
				b.pcln, b.pclnVaddr, b.pclnWhere = d, s.Value, "runtime.pclntab symbol"
				return nil
			}
		}
	}
	// Magic scan of the read-only, non-executable loaded sections; the
	// candidate debug/gosym accepts with the most functions wins.
	best := 0
	for _, s := range b.f.Sections {
		if s.Flags&elf.SHF_ALLOC == 0 || s.Flags&(elf.SHF_EXECINSTR|elf.SHF_WRITE) != 0 || s.Type == elf.SHT_NOBITS {
			continue
		}
		d, err := s.Data()
		if err != nil {
			continue
		}
		for off := 0; off+16 <= len(d); off += 4 {
			if !b.isPclnHeader(d[off:]) {
				continue
			}
			t, err := gosym.NewTable(nil, gosym.NewLineTable(d[off:], 0))
			if err == nil && len(t.Funcs) > best {
				best = len(t.Funcs)
				b.pcln, b.pclnVaddr, b.pclnWhere = d[off:], s.Addr+uint64(off), "magic scan in "+s.Name
			}
		}
	}
	if b.pcln == nil {
		return errors.New("no pclntab found")
	}
	return nil
}

func (b *binaryFile) bytesAt(vaddr, n uint64) []byte {
	for _, p := range b.f.Progs {
		if p.Type == elf.PT_LOAD && vaddr >= p.Vaddr && vaddr+n <= p.Vaddr+p.Filesz {
			buf := make([]byte, n)
			if _, err := p.ReadAt(buf, int64(vaddr-p.Vaddr)); err == nil {
				return buf
			}
		}
	}
	return nil
}

// moduledataText returns firstmoduledata.text for pclntab formats 1.16+,
// whose moduledata starts {pcHeader *pcHeader; funcnametab, cutab, filetab,
// pctab, pclntable, ftab []T; findfunctab, minpc, maxpc, text uintptr}.
func (b *binaryFile) moduledataText() (uint64, string) {
	ps := uint64(b.ptrSize)
	const textWord = 1 + 6*3 + 3
	if s, ok := b.syms["runtime.firstmoduledata"]; ok {
		if v, ok := b.word(s.Value + textWord*ps); ok {
			return v, "runtime.firstmoduledata.text"
		}
	}
	// Stripped: find the moduledata by its first word, which points at the
	// pclntab, and its second, funcnametab.ptr = pclntab + funcnameOffset.
	funcnameOff, ok := b.headerWord(3)
	if !ok {
		return 0, ""
	}
	for _, s := range b.f.Sections {
		if s.Flags&elf.SHF_ALLOC == 0 || s.Flags&elf.SHF_EXECINSTR != 0 || s.Type == elf.SHT_NOBITS {
			continue
		}
		for a := s.Addr; a+textWord*ps+ps <= s.Addr+s.Size; a += ps {
			if v, ok := b.word(a); !ok || v != b.pclnVaddr {
				continue
			}
			if v, ok := b.word(a + ps); !ok || v != b.pclnVaddr+funcnameOff {
				continue
			}
			if v, ok := b.word(a + textWord*ps); ok {
				return v, "moduledata.text (found in " + s.Name + ")"
			}
		}
	}
	return 0, ""
}

// headerWord is pclntab header word i (after the 8-byte prefix).
func (b *binaryFile) headerWord(i int) (uint64, bool) {
	off := 8 + i*b.ptrSize
	if off+b.ptrSize > len(b.pcln) {
		return 0, false
	}
	if b.ptrSize == 8 {
		return b.bo.Uint64(b.pcln[off:]), true
	}
	return uint64(b.bo.Uint32(b.pcln[off:])), true
}

func (b *binaryFile) findTextStart() {
	magic := b.bo.Uint32(b.pcln)
	if magic != 0xfffffff0 && magic != 0xfffffff1 {
		b.textWhere = "unused (entries are absolute before Go 1.18)"
		return
	}
	if s, ok := b.syms["runtime.text"]; ok {
		b.textStart, b.textWhere = s.Value, "runtime.text symbol"
		return
	}
	if v, where := b.moduledataText(); where != "" {
		b.textStart, b.textWhere = v, where
		return
	}
	// The header's textStart word (header word 2), relocated if PIE.
	if v, ok := b.word(b.pclnVaddr + 8 + 2*uint64(b.ptrSize)); ok && v != 0 {
		b.textStart, b.textWhere = v, "pclntab header"
		return
	}
	if s := b.f.Section(".text"); s != nil {
		b.textStart, b.textWhere = s.Addr, ".text section (guess)"
	}
}

type funcOut struct {
	Name  string `json:"name"`
	Entry string `json:"entry"`
	End   string `json:"end"`
}

type pcOut struct {
	Addr string  `json:"addr"`
	Func *string `json:"func"`
	File string  `json:"file"`
	Line int     `json:"line"`
}

func hex(v uint64) string { return "0x" + strconv.FormatUint(v, 16) }

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: oracle info|funcs|pcs BIN")
		os.Exit(2)
	}
	b, err := open(os.Args[2])
	if err != nil {
		fail("%s: %v", os.Args[2], err)
	}
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	enc := json.NewEncoder(w)
	funcs := b.table.Funcs
	switch os.Args[1] {
	case "info":
		textSection := ""
		if s := b.f.Section(".text"); s != nil {
			textSection = hex(s.Addr)
		}
		enc.Encode(map[string]interface{}{
			"text_section": textSection,
			"pclntab": b.pclnWhere, "pclntab_vaddr": hex(b.pclnVaddr),
			"magic":      hex(uint64(b.bo.Uint32(b.pcln))),
			"text_start": hex(b.textStart), "text_start_from": b.textWhere,
			"nfuncs": len(funcs),
		})
	case "funcs":
		for _, f := range funcs {
			enc.Encode(funcOut{f.Name, hex(f.Entry), hex(f.End)})
		}
	case "pcs":
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			s := strings.TrimSpace(sc.Text())
			if s == "" {
				continue
			}
			pc, err := strconv.ParseUint(strings.TrimPrefix(s, "0x"), 16, 64)
			if err != nil {
				fail("stdin: %q is not a hex address", s)
			}
			out := pcOut{Addr: hex(pc)}
			if file, line, fn := b.table.PCToLine(pc); fn != nil {
				name := fn.Name
				out.Func, out.File, out.Line = &name, file, line
			}
			enc.Encode(out)
		}
	default:
		fail("unknown mode %q", os.Args[1])
	}
}
