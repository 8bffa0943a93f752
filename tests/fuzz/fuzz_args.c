// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the --args decoder (gotrace/args/format.c): the
 * value bytes come from the traced program's memory, so any bytes, with
 * any read masks, must decode without reading outside the blob or
 * crashing.  One site with every kind of value (strings, slices of
 * strings, pointers to structs, arrays, maps, chans, funcs, interfaces,
 * floats in registers, time.Time, time.Duration) is compiled once; the
 * input is the event header's masks, the dynamic type the resolver
 * answers with, and the blob.  Built with ASan + UBSan (make fuzz).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "args/plan.c"
#include "args/format.c"

#define T(k, n, sz, al) { .kind = k, .name = n, .size = sz, .align = al }

static const struct ga_type t_int = T(GA_INT, "int", 8, 8);
static const struct ga_type t_u8 = T(GA_UINT, "uint8", 1, 1);
static const struct ga_type t_f64 = T(GA_FLOAT, "float64", 8, 8);
static const struct ga_type t_c64 = T(GA_COMPLEX, "complex64", 8, 4);
static const struct ga_type t_str = T(GA_STRING, "string", 16, 8);
static const struct ga_type t_bytes = { .kind = GA_SLICE, .name = "[]uint8", .size = 24,
					.align = 8, .elem = &t_u8 };
static const struct ga_type t_strs = { .kind = GA_SLICE, .name = "[]string", .size = 24,
				       .align = 8, .elem = &t_str };
static const struct ga_type t_arr = { .kind = GA_ARRAY, .name = "[3]string", .size = 48,
				      .align = 8, .elem = &t_str, .count = 3 };
static const struct ga_type t_map = T(GA_MAP, "map[string]int", 8, 8);
static const struct ga_type t_chan = T(GA_CHAN, "chan int", 8, 8);
static const struct ga_type t_func = T(GA_FUNC, "func()", 8, 8);
static const struct ga_type t_eface = T(GA_EFACE, "interface {}", 16, 8);
static const struct ga_type t_iface = T(GA_IFACE, "error", 16, 8);
static const struct ga_type t_dur = { .kind = GA_INT, .special = GA_SP_DURATION,
				      .name = "time.Duration", .size = 8, .align = 8 };
static const struct ga_field time_f[] = { { "wall", 0, &t_int }, { "ext", 8, &t_int },
					  { "loc", 16, &t_int } };
static const struct ga_type t_time = { .kind = GA_STRUCT, .special = GA_SP_TIME,
				       .name = "time.Time", .size = 24, .align = 8,
				       .fields = time_f, .nfields = 3 };
static struct ga_type t_node, t_pnode;
static const struct ga_field node_f[] = { { "Val", 0, &t_int }, { "Name", 8, &t_str },
					  { "Next", 24, &t_pnode }, { "F", 32, &t_f64 } };

static struct ga_site site;
static FILE *sink;
static uint8_t rt_kind;
static bool rt_direct;

static int rt(void *arg, uint64_t addr, struct ga_rt *out)
{
	static const struct ga_type *types[] = { &t_int, &t_str, &t_pnode, &t_strs, &t_node };

	snprintf(out->name, sizeof(out->name), "T%llu", (unsigned long long)(addr & 7));
	out->kind = rt_kind;
	out->direct = rt_direct;
	out->type = (addr & 7) < 5 ? types[addr & 7] : NULL;
	return (addr & 8) ? -1 : 0;
}

static const char *fn(void *arg, uint64_t pc)
{
	return (pc & 1) ? "main.f" : NULL;
}

static void setup(void)
{
	static const char *const ir[] = { "RAX", "RBX", "RCX", "RDI", "RSI", "R8", "R9", "R10", "R11" };
	static const char *const fr[] = { "X0", "X1", "X2", "X3", "X4", "X5", "X6", "X7",
					  "X8", "X9", "X10", "X11", "X12", "X13", "X14" };
	struct gosym_abi abi = { .regabi = true, .nint = 9, .nfloat = 15, .int_regs = ir,
				 .float_regs = fr, .ptr_size = 8, .stack_args = 8 };
	const struct ga_type *types[] = { &t_str, &t_bytes, &t_strs, &t_pnode, &t_arr, &t_map,
					  &t_chan, &t_func, &t_eface, &t_iface, &t_f64, &t_c64,
					  &t_time, &t_dur, &t_node };
	struct ga_opts o = GA_OPTS_DEFAULT;
	struct ga_input in[15];
	struct ga_loc loc[15];
	char why[256];
	int32_t off = 0;

	t_node = (struct ga_type){ .kind = GA_STRUCT, .name = "main.Node", .size = 40, .align = 8,
				   .fields = node_f, .nfields = 4 };
	t_pnode = (struct ga_type){ .kind = GA_PTR, .name = "*main.Node", .size = 8, .align = 8,
				    .elem = &t_node };
	o.depth = 3;
	o.blob_max = GA_BLOB_MAX;
	for (int i = 0; i < 15; i++) {
		/* the floats in registers (holes), the rest on the stack */
		if (types[i] == &t_f64 || types[i] == &t_c64) {
			loc[i] = (struct ga_loc){ .npieces = 1, .pieces = {
				{ GA_IN_FLOAT, (uint8_t)i % 15, (uint16_t)(types[i]->size / (types[i] == &t_c64 ? 2 : 1)), 0 } } };
			if (types[i] == &t_c64) {
				loc[i].npieces = 2;
				loc[i].pieces[1] = (struct ga_piece){ GA_IN_FLOAT, 1, 4, 4 };
			}
		} else {
			loc[i] = (struct ga_loc){ .stack = true, .stack_off = off };
			off += (int32_t)types[i]->size;
		}
		in[i] = (struct ga_input){ "v", types[i], &loc[i], NULL };
	}
	if (ga_site_compile(&abi, &o, in, 15, &site, why, sizeof(why)))
		__builtin_trap();
	sink = fopen("/dev/null", "w");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[sizeof(struct ga_hdr) + GA_BLOB_MAX];
	struct ga_hdr *h = (struct ga_hdr *)buf;
	struct ga_resolver r = { NULL, rt, fn };
	struct ga_event e;
	size_t n;

	if (!sink)
		setup();
	if (size < 34)
		return 0;
	memset(buf, 0, sizeof(buf));
	memcpy(h->done, data, 16);
	memcpy(h->failed, data + 16, 16);
	rt_kind = data[32] % 32;
	rt_direct = data[33] & 1;
	n = size - 34 < GA_BLOB_MAX ? size - 34 : GA_BLOB_MAX;
	memcpy(buf + sizeof(*h), data + 34, n);
	h->plan = 1;
	h->len = (uint16_t)n;
	/* the decoder only ever sees len bytes: a copy exactly that long */
	e = (struct ga_event){ &site, h, buf + sizeof(*h), (uint32_t)n };
	ga_format_text(sink, &e, &r);
	ga_format_json(sink, &e, &r);
	for (uint32_t i = 0; i < site.nvals; i++)
		ga_value_status(&e, i, &r);
	return 0;
}
