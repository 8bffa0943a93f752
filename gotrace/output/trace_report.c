// SPDX-License-Identifier: MIT
#include <inttypes.h>
#include <sys/stat.h>

#include "gotrace.h"
#include "output/trace_report.h"

void gt_trace_report(const char *cmd, const char *path, const struct chrome_trace_stats *cs)
{
	struct stat st;

	if (cs && cs->dropped)
		gt_warn("%s: '%s' is missing %" PRIu64 " events: more than %u slices; narrow the "
			"trace with --goid or --min-duration", cmd, path, cs->dropped,
			GT_TRACE_MAX_EVENTS);
	if (!stat(path, &st) && (uint64_t)st.st_size > CHROME_TRACE_BROWSER_LIMIT)
		gt_warn("%s: '%s' is %.0f MB: browser viewers (Perfetto UI, chrome://tracing) may not "
			"load it; narrow it with --goid or --min-duration", cmd, path,
			st.st_size / 1e6);
}
