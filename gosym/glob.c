// SPDX-License-Identifier: MIT
/* Glob matching for function names: `*`, `?` and `[...]`, where `*` also
 * crosses '/' and '.', so `net/http.*` means every function of net/http. */
#include <stdbool.h>

#include "gosym.h"

/* Match one [...] class at *pp against c; advances *pp past the class. */
static bool class_match(const char **pp, char c, bool *ok)
{
	const char *p = *pp + 1;
	bool neg = false, hit = false;

	if (*p == '!' || *p == '^') {
		neg = true;
		p++;
	}
	for (bool first = true; *p && (first || *p != ']'); first = false, p++) {
		if (p[1] == '-' && p[2] && p[2] != ']') {
			if (c >= p[0] && c <= p[2])
				hit = true;
			p += 2;
		} else if (*p == c) {
			hit = true;
		}
	}
	if (*p != ']') { /* unterminated: treat '[' literally */
		*ok = c == '[';
		*pp += 1;
		return true;
	}
	*pp = p + 1;
	*ok = hit != neg;
	return true;
}

bool gosym_glob_match(const char *pat, const char *s)
{
	const char *star_p = NULL, *star_s = NULL;

	while (*s) {
		if (*pat == '*') {
			star_p = ++pat;
			star_s = s;
			continue;
		}
		if (*pat == '?') {
			pat++;
			s++;
			continue;
		}
		if (*pat == '[') {
			const char *p = pat;
			bool ok;

			class_match(&p, *s, &ok);
			if (ok) {
				pat = p;
				s++;
				continue;
			}
		} else if (*pat == '\\' && pat[1] && pat[1] == *s) {
			pat += 2;
			s++;
			continue;
		} else if (*pat && *pat == *s) {
			pat++;
			s++;
			continue;
		}
		if (!star_p)
			return false;
		pat = star_p;
		s = ++star_s;
	}
	while (*pat == '*')
		pat++;
	return !*pat;
}
