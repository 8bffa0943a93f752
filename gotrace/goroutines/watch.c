// SPDX-License-Identifier: MIT
#include "goroutines/goroutines.h"
#include "gotrace.h"
int gor_watch(struct gr_target *t, const struct gor_opts *o) { (void)t; (void)o; return gt_error("--watch: not yet"); }
