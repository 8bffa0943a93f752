// SPDX-License-Identifier: MIT
/* Placeholder until the states subcommand lands (see its issue). */
#include <stdio.h>
#include "gotrace.h"

int cmd_states(int argc, char **argv)
{
	return gt_error("states: not built yet");
}
