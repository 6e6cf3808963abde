#include "data/oracle.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum col { COL_INDEX, COL_ARCH, COL_FLOPS, COL_PARAMS, COL_ACC, COL_COUNT };
static const char *const col_names[COL_COUNT] = {
	"index", "arch", "flops_m", "params_m", "cifar10_valid_acc200",
};

#define HEADER_HINT "index,arch,flops_m,params_m,cifar10_valid_acc200"
#define MAX_FIELDS 64

/* Splits a line in place at commas.  Fields are trimmed of blanks and of
 * one pair of surrounding double quotes (arch strings hold no commas, so
 * quoting never needs to protect one).  Returns the field count, or -1 for
 * more than MAX_FIELDS. */
static int split(char *s, char **f)
{
	size_t len = strlen(s);
	while (len && (s[len - 1] == '\n' || s[len - 1] == '\r'))
		s[--len] = '\0';
	int n = 0;
	char *p = s;
	for (;;) {
		if (n == MAX_FIELDS)
			return -1;
		char *end = strchr(p, ',');
		if (end)
			*end = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		size_t l = strlen(p);
		while (l && (p[l - 1] == ' ' || p[l - 1] == '\t'))
			p[--l] = '\0';
		if (l >= 2 && p[0] == '"' && p[l - 1] == '"') {
			p[l - 1] = '\0';
			p++;
		}
		f[n++] = p;
		if (!end)
			return n;
		p = end + 1;
	}
}

static int parse_double(const char *s, double *out)
{
	char *end;
	if (!*s)
		return -1;
	errno = 0;
	double v = strtod(s, &end);
	if (*end || errno == ERANGE || !isfinite(v))
		return -1;
	*out = v;
	return 0;
}

static int parse_int(const char *s, int *out)
{
	char *end;
	if (!*s)
		return -1;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (*end || errno == ERANGE || v < 0 || v > INT_MAX)
		return -1;
	*out = (int)v;
	return 0;
}

static int parse_row(struct mn_oracle *o, const char *path, int line, char **f, int nf,
		     int ncols, const int *col, char *err, size_t errn)
{
	if (nf != ncols) {
		snprintf(err, errn, "%s:%d: the row has %d field%s, the header has %d (%s)", path, line, nf,
			 nf == 1 ? "" : "s", ncols,
			 nf < ncols ? "the row is cut short; fix or delete it" : "remove the extra commas");
		return -1;
	}
	struct mn_arch a;
	struct mn_parse_error pe;
	const char *as = f[col[COL_ARCH]];
	if (mn_arch_parse(as, &a, &pe) != 0) {
		snprintf(err, errn, "%s:%d: bad arch '%.120s': %s at character %zu (fix the arch string)",
			 path, line, as, pe.msg, pe.pos + 1);
		return -1;
	}
	struct mn_oracle_entry e = {.present = 1, .line = line};
	if (parse_int(f[col[COL_INDEX]], &e.nb201_index) != 0) {
		snprintf(err, errn, "%s:%d: index '%.40s' is not a whole number >= 0 (fix the value)", path,
			 line, f[col[COL_INDEX]]);
		return -1;
	}
	static const enum col num_cols[3] = {COL_FLOPS, COL_PARAMS, COL_ACC};
	double *dst[3] = {&e.flops_m, &e.params_m, &e.acc};
	for (int k = 0; k < 3; k++) {
		const char *v = f[col[num_cols[k]]];
		if (parse_double(v, dst[k]) != 0) {
			snprintf(err, errn, "%s:%d: %s '%.40s' is %s (fix the value)", path, line,
				 col_names[num_cols[k]], v, *v ? "not a number" : "empty");
			return -1;
		}
	}
	struct mn_oracle_entry *slot = &o->by_index[mn_arch_to_index(&a)];
	if (slot->present) {
		snprintf(err, errn, "%s:%d: duplicate arch %.120s, first on line %d (keep one row per arch)",
			 path, line, as, slot->line);
		return -1;
	}
	*slot = e;
	o->count++;
	return 0;
}

int mn_oracle_load(struct mn_oracle *o, const char *path, char *err, size_t errn)
{
	memset(o, 0, sizeof *o);
	FILE *fp = fopen(path, "r");
	if (!fp) {
		snprintf(err, errn, "%s: cannot open: %s (check the path; the oracle is NAS-Bench-201's CSV with columns " HEADER_HINT ")",
			 path, strerror(errno));
		return -1;
	}
	o->by_index = calloc(MN_ARCH_COUNT, sizeof *o->by_index);
	if (!o->by_index) {
		fclose(fp);
		snprintf(err, errn, "%s: out of memory", path);
		return -1;
	}
	char *buf = NULL;
	size_t cap = 0;
	char *f[MAX_FIELDS];
	int col[COL_COUNT];
	int ncols = 0, line = 0, rc = -1;
	ssize_t len;

	/* The header. */
	while ((len = getline(&buf, &cap, fp)) >= 0) {
		line++;
		if (strspn(buf, " \t\r\n") != (size_t)len)
			break;
	}
	if (len < 0) {
		if (ferror(fp))
			snprintf(err, errn, "%s: read error: %s (check the file)", path, strerror(errno));
		else
			snprintf(err, errn, "%s: the file is empty (expected a header line '" HEADER_HINT "')", path);
		goto out;
	}
	ncols = split(buf, f);
	if (ncols < 0) {
		snprintf(err, errn, "%s:%d: more than %d columns (expected a header like '" HEADER_HINT "')",
			 path, line, MAX_FIELDS);
		goto out;
	}
	for (int c = 0; c < COL_COUNT; c++) {
		col[c] = -1;
		for (int k = 0; k < ncols; k++) {
			if (strcmp(f[k], col_names[c]) != 0)
				continue;
			if (col[c] >= 0) {
				snprintf(err, errn, "%s:%d: column '%s' appears twice in the header (keep one)",
					 path, line, col_names[c]);
				goto out;
			}
			col[c] = k;
		}
		if (col[c] < 0) {
			snprintf(err, errn, "%s:%d: the header has no column '%s' (expected columns " HEADER_HINT ")",
				 path, line, col_names[c]);
			goto out;
		}
	}

	/* The rows; blank lines (a trailing newline, say) are skipped. */
	while ((len = getline(&buf, &cap, fp)) >= 0) {
		line++;
		if (strlen(buf) != (size_t)len) {
			snprintf(err, errn, "%s:%d: the line holds a NUL byte (this is not a CSV text file)", path, line);
			goto out;
		}
		if (strspn(buf, " \t\r\n") == (size_t)len)
			continue;
		int nf = split(buf, f);
		if (nf < 0)
			nf = MAX_FIELDS + 1;
		if (parse_row(o, path, line, f, nf, ncols, col, err, errn) != 0)
			goto out;
	}
	if (ferror(fp)) {
		snprintf(err, errn, "%s:%d: read error: %s (check the file)", path, line + 1, strerror(errno));
		goto out;
	}
	if (o->count == 0) {
		snprintf(err, errn, "%s:%d: the file has a header but no rows (give the full NAS-Bench-201 CSV)",
			 path, line);
		goto out;
	}
	rc = 0;
out:
	free(buf);
	fclose(fp); /* read-only */
	if (rc != 0)
		mn_oracle_free(o);
	return rc;
}

void mn_oracle_free(struct mn_oracle *o)
{
	free(o->by_index);
	o->by_index = NULL;
	o->count = 0;
}

const struct mn_oracle_entry *mn_oracle_get_index(const struct mn_oracle *o, int index)
{
	if (!o->by_index || index < 0 || index >= MN_ARCH_COUNT || !o->by_index[index].present)
		return NULL;
	return &o->by_index[index];
}

const struct mn_oracle_entry *mn_oracle_get(const struct mn_oracle *o, const struct mn_arch *a)
{
	for (int e = 0; e < MN_EDGES; e++)
		if (a->op[e] >= MN_OP_COUNT)
			return NULL;
	return mn_oracle_get_index(o, mn_arch_to_index(a));
}
