// SPDX-License-Identifier: MIT
/* Placeholder until the doctor subcommand lands (see its issue). */
#include <stdio.h>
#include "gotrace.h"

int cmd_doctor(int argc, char **argv)
{
	return gt_error("doctor: not built yet");
}
