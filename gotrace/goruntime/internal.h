/* SPDX-License-Identifier: MIT */
/*
 * Internals shared by the files of gotrace/goruntime.  Not an API.
 */
#ifndef GOTRACE_GORUNTIME_INTERNAL_H
#define GOTRACE_GORUNTIME_INTERNAL_H

#include "dwunw.h"
#include "goruntime/traceback.h"
#include "goruntime/allgs.h"

#define START_CACHE 1024
struct start_ent {
	uint64_t pc;		/* key: link-time startpc; 0 = empty */
	bool ok, runtime;
	uint8_t special;
};

struct gr_target {
	struct gr_target_info info;
	struct start_ent start[START_CACHE];	/* gr_is_system() */
	struct gr_mem *mem;
	char *exe;
	bool own_go;
};

/* traceback.c, dumptext.c: */
/* Logical frames of one sympc (link-time), from the symbolization cache. */
struct sym_ent {
	uint64_t sympc;		/* key; 0 = empty */
	uint32_t first, n;	/* into tb->pool */
};

struct pool_ent {
	const char *func, *file;
	int line;
	bool inlined, wrapper;
	uint8_t special;
	uint64_t sympc;		/* link-time pc of this logical frame */
};

/* The "created by" of one gopc. */
#define CREATED_CACHE 4096
struct created_ent {
	uint64_t pc;		/* key: link-time gopc; 0 = empty */
	const char *func, *file;
	int line;
	uint64_t off;
	bool ok, shown;
};

/* printArgs() data of one pc (dumptext.c). */
#define ARGS_CACHE 4096
struct args_ent {
	uint64_t sympc, vaddr;		/* key (link-time); 0 = empty */
	const uint8_t *prog, *live;	/* ArgInfo, ArgLiveInfo (NULL: none) */
	size_t avail, live_avail;
	int32_t live_idx;
};

/* A traceback engine (traceback.h). */
struct gr_tb {
	struct gr_target *t;
	const struct gr_target_info *in;
	struct dwunw_go_cache *cache;
	struct sym_ent *sym;
	size_t sym_mask, sym_used;
	struct pool_ent *pool;
	size_t npool, pool_cap;
	uint64_t sym_hits, sym_misses;
	struct dwunw_go_frame *phys;
	int phys_cap;
	struct gr_frame *f;
	int f_cap;
	struct gr_stack st;
	struct created_ent *created;	/* CREATED_CACHE entries */
	struct args_ent *args;		/* ARGS_CACHE entries */
	char name[1024];
	/* the stack the last gr_tb_stack walked (for args) */
	const uint8_t *bytes;
	uint64_t base;
	size_t len;
};


/* labels.c: the pprof labels of every OK goroutine of s. */
int gr_labels__read(struct gr_target *t, struct gr_snapshot *s);

/* Record a message for gr_errmsg() and return err. */
int gr__err(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif /* GOTRACE_GORUNTIME_INTERNAL_H */
