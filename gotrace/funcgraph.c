// SPDX-License-Identifier: MIT
/* Placeholder until the funcgraph subcommand lands (see its issue). */
#include <stdio.h>
#include "gotrace.h"

int cmd_funcgraph(int argc, char **argv)
{
	return gt_error("funcgraph: not built yet");
}
