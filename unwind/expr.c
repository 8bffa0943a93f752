// SPDX-License-Identifier: MIT
/*
 * The DWARF expression subset CFI uses in practice: x86_64 PLT entries
 * (rsp + 8 + ((rip & 15) >= 11) << 3), glibc's signal trampoline
 * (rsp + 160, deref), gcc's stack-realigning prologues (rbp - 8, deref).
 * A bounded stack machine over the walk's registers and the stack copy:
 * no allocation, at most MAX_OPS operations.
 */
#include <stdbool.h>
#include <string.h>

#include "dwunw_internal.h"

#define EXPR_STACK 16
#define MAX_OPS	   64

int expr_eval(const uint8_t *blob, size_t blob_len, int32_t off, const struct unw_regs *regs,
	      const struct unw_stack *st, bool push_initial, uint64_t initial, uint64_t *out)
{
	uint64_t s[EXPR_STACK];
	int sp = 0, ops = 0;
	bool bad = false;
	const uint8_t *p, *end, *bend = blob + blob_len;
	uint64_t len;

	if (off < 0 || (size_t)off >= blob_len)
		return -DWUNW_STOP_UNSUPPORTED;
	p = blob + off;
	len = read_uleb(&p, bend, &bad);
	if (bad || len > (uint64_t)(bend - p))
		return -DWUNW_STOP_UNSUPPORTED;
	end = p + len;
	if (push_initial)
		s[sp++] = initial;

#define NEED(n) do { if (sp < (n)) return -DWUNW_STOP_UNSUPPORTED; } while (0)
#define PUSH(v) do { if (sp == EXPR_STACK) return -DWUNW_STOP_UNSUPPORTED; s[sp++] = (v); } while (0)
	while (p < end) {
		uint8_t op = *p++;
		uint64_t a, b;
		int64_t sv;

		if (++ops > MAX_OPS)
			return -DWUNW_STOP_UNSUPPORTED;
		if (op >= 0x30 && op <= 0x4f) { /* lit0..lit31 */
			PUSH(op - 0x30);
			continue;
		}
		if (op >= 0x70 && op <= 0x8f) { /* breg0..breg31 */
			unsigned int r = op - 0x70;
			sv = read_sleb(&p, end, &bad);
			if (!(regs->valid & (1ULL << r)))
				return -DWUNW_STOP_NO_REG;
			PUSH(regs->r[r] + (uint64_t)sv);
			continue;
		}
		switch (op) {
		case 0x08: a = p < end ? *p++ : (bad = true, 0); PUSH(a); break; /* const1u */
		case 0x09: a = p < end ? (uint64_t)(int64_t)(int8_t)*p++ : (bad = true, 0); PUSH(a); break;
		case 0x0a: case 0x0b: /* const2u/s */
			if (end - p < 2) return -DWUNW_STOP_UNSUPPORTED;
			a = (uint64_t)p[0] | (uint64_t)p[1] << 8;
			if (op == 0x0b) a = (uint64_t)(int64_t)(int16_t)a;
			p += 2; PUSH(a); break;
		case 0x0c: case 0x0d: /* const4u/s */
			if (end - p < 4) return -DWUNW_STOP_UNSUPPORTED;
			a = (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24;
			if (op == 0x0d) a = (uint64_t)(int64_t)(int32_t)a;
			p += 4; PUSH(a); break;
		case 0x0e: case 0x0f: /* const8u/s */
			if (end - p < 8) return -DWUNW_STOP_UNSUPPORTED;
			memcpy(&a, p, 8); p += 8; PUSH(a); break;
		case 0x10: a = read_uleb(&p, end, &bad); PUSH(a); break; /* constu */
		case 0x11: a = (uint64_t)read_sleb(&p, end, &bad); PUSH(a); break; /* consts */
		case 0x12: NEED(1); a = s[sp - 1]; PUSH(a); break; /* dup */
		case 0x13: NEED(1); sp--; break; /* drop */
		case 0x14: NEED(2); a = s[sp - 2]; PUSH(a); break; /* over */
		case 0x16: NEED(2); a = s[sp - 1]; s[sp - 1] = s[sp - 2]; s[sp - 2] = a; break; /* swap */
		case 0x06: /* deref */
			NEED(1);
			if (stack_read(st, s[sp - 1], &a))
				return -DWUNW_STOP_STACK_READ;
			s[sp - 1] = a;
			break;
		case 0x1a: NEED(2); b = s[--sp]; s[sp - 1] &= b; break; /* and */
		case 0x1c: NEED(2); b = s[--sp]; s[sp - 1] -= b; break; /* minus */
		case 0x1e: NEED(2); b = s[--sp]; s[sp - 1] *= b; break; /* mul */
		case 0x1f: NEED(1); s[sp - 1] = -s[sp - 1]; break; /* neg */
		case 0x20: NEED(1); s[sp - 1] = ~s[sp - 1]; break; /* not */
		case 0x21: NEED(2); b = s[--sp]; s[sp - 1] |= b; break; /* or */
		case 0x22: NEED(2); b = s[--sp]; s[sp - 1] += b; break; /* plus */
		case 0x23: NEED(1); s[sp - 1] += read_uleb(&p, end, &bad); break; /* plus_uconst */
		case 0x24: NEED(2); b = s[--sp]; s[sp - 1] = b < 64 ? s[sp - 1] << b : 0; break; /* shl */
		case 0x25: NEED(2); b = s[--sp]; s[sp - 1] = b < 64 ? s[sp - 1] >> b : 0; break; /* shr */
		case 0x26: NEED(2); b = s[--sp]; /* shra */
			s[sp - 1] = (uint64_t)((int64_t)s[sp - 1] >> (b < 63 ? b : 63)); break;
		case 0x27: NEED(2); b = s[--sp]; s[sp - 1] ^= b; break; /* xor */
		case 0x29: case 0x2a: case 0x2b: case 0x2c: case 0x2d: case 0x2e: { /* eq ge gt le lt ne */
			NEED(2);
			int64_t y = (int64_t)s[--sp], x = (int64_t)s[sp - 1];
			bool r = op == 0x29 ? x == y : op == 0x2a ? x >= y : op == 0x2b ? x > y :
				 op == 0x2c ? x <= y : op == 0x2d ? x < y : x != y;
			s[sp - 1] = r;
			break;
		}
		case 0x92: { /* bregx */
			uint64_t r = read_uleb(&p, end, &bad);
			sv = read_sleb(&p, end, &bad);
			if (r >= DWUNW_MAX_REGS || !(regs->valid & (1ULL << r)))
				return -DWUNW_STOP_NO_REG;
			PUSH(regs->r[r] + (uint64_t)sv);
			break;
		}
		case 0x96: break; /* nop */
		default:
			return -DWUNW_STOP_UNSUPPORTED;
		}
		if (bad)
			return -DWUNW_STOP_UNSUPPORTED;
	}
#undef NEED
#undef PUSH
	if (bad || sp < 1)
		return -DWUNW_STOP_UNSUPPORTED;
	*out = s[sp - 1];
	return 0;
}
