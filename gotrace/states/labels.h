/* SPDX-License-Identifier: MIT */
/*
 * states_labels: interned pprof label sets (struct st_labels, model.h).
 * A trace meets the same few sets again and again (every goroutine of a
 * request type, of a tenant): each distinct set is stored once and equal
 * sets are the same pointer, which group keys and outputs share.
 *
 * The table owns every set and string; all stay valid until
 * st_label_table_free().
 */
#ifndef GOTRACE_STATES_LABELS_H
#define GOTRACE_STATES_LABELS_H

#include <stddef.h>

#include "states/model.h"

struct st_label_table;

struct st_label_table *st_label_table_new(void);
void st_label_table_free(struct st_label_table *t);

/* The set of the n labels kv (sorted by key, as the runtime keeps them),
 * copied in if new; NULL when out of memory.  n = 0 gives the empty set. */
const struct st_labels *st_label_intern(struct st_label_table *t, const struct st_label *kv,
					size_t n);

/* Distinct sets held. */
size_t st_label_table_count(const struct st_label_table *t);

#endif /* GOTRACE_STATES_LABELS_H */
