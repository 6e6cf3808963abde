#include "space/latency_table.h"
#include "space/cost.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/atomic_file.h"
#include "util/ini_file.h"

/* Latencies have no upper bound but the finite ones: a bound would only
 * make the error message harder to read. */
#define MAX_US DBL_MAX

/* Every entry of the file, in the order it is written. */
enum entry_kind { E_TEXT, E_DOUBLE, E_INT, E_SIDES /* "R" or "HxW" into height, width */ };

struct entry {
	const char *section;
	const char *key;
	enum entry_kind kind;
	double min, max;
	const char *hint; /* what the value is, for the "missing" error */
	size_t offset;    /* into struct mn_latency_table */
};

#define OFF(field) offsetof(struct mn_latency_table, field)
#define STAGE_ENTRIES(s)                                                                          \
	{"stage" #s, "skip_connect", E_DOUBLE, 0, MAX_US, "microseconds", OFF(op_us[s][MN_OP_SKIP])},  \
	{"stage" #s, "nor_conv_1x1", E_DOUBLE, 0, MAX_US, "microseconds", OFF(op_us[s][MN_OP_CONV1])}, \
	{"stage" #s, "nor_conv_3x3", E_DOUBLE, 0, MAX_US, "microseconds", OFF(op_us[s][MN_OP_CONV3])}, \
	{"stage" #s, "avg_pool_3x3", E_DOUBLE, 0, MAX_US, "microseconds", OFF(op_us[s][MN_OP_POOL3])}, \
	{"stage" #s, "add", E_DOUBLE, 0, MAX_US, "microseconds", OFF(add_us[s])}

static const struct entry entries[] = {
	{"meta", "board", E_TEXT, 0, 0, "the board's name", OFF(board)},
	{"meta", "source", E_TEXT, 0, 0, "where the numbers come from", OFF(source)},
	{"meta", "clock_mhz", E_DOUBLE, 0.001, 10000, "the core clock in MHz", OFF(clock_mhz)},
	{"meta", "channels", E_INT, 1, 4096, "the network's C", OFF(channels)},
	{"meta", "cells", E_INT, 1, 100, "the network's N", OFF(cells)},
	{"meta", "resolution", E_SIDES, 4, 1024, "the input size in pixels, R or HxW", OFF(height)},
	{"meta", "classes", E_INT, 2, 100000, "the number of classes", OFF(classes)},
	/* Optional so that every RGB table stays as it was written. */
	{"meta", "input_channels", E_INT, 1, 255, "the input image's channels",
	 OFF(input_channels)},
	STAGE_ENTRIES(0),
	STAGE_ENTRIES(1),
	STAGE_ENTRIES(2),
	{"fixed", "stem", E_DOUBLE, 0, MAX_US, "microseconds", OFF(stem_us)},
	{"fixed", "reduction1", E_DOUBLE, 0, MAX_US, "microseconds", OFF(reduction_us[0])},
	{"fixed", "reduction2", E_DOUBLE, 0, MAX_US, "microseconds", OFF(reduction_us[1])},
	{"fixed", "head", E_DOUBLE, 0, MAX_US, "microseconds", OFF(head_us)},
	{"fixed", "overhead", E_DOUBLE, 0, MAX_US, "microseconds", OFF(overhead_us)},
};
#define N_ENTRIES (sizeof entries / sizeof entries[0])

/* The one entry that may be absent (read as 0: RGB) and is written only
 * when it is not 3, so every RGB table reads and writes as before. */
static int optional(const struct entry *e)
{
	return e->offset == OFF(input_channels);
}

static const char *const sections[] = {"meta", "stage0", "stage1", "stage2", "fixed"};
#define N_SECTIONS (sizeof sections / sizeof sections[0])

struct read_ctx {
	struct mn_latency_table *t;
	const char *path;
	int line_of[N_ENTRIES];        /* line each entry was read on, 0 = not yet */
	int section_line[N_SECTIONS];  /* first header line of each section */
};

static int section_index(const char *name)
{
	for (size_t i = 0; i < N_SECTIONS; i++)
		if (strcmp(sections[i], name) == 0)
			return (int)i;
	return -1;
}

int mn_latency_table_section(const char *name)
{
	return section_index(name) >= 0;
}

static int on_section(void *user, const char *section, int line, char *err, size_t errn)
{
	struct read_ctx *c = user;
	int s = section_index(section);
	if (s < 0) {
		snprintf(err, errn, "%s:%d: unknown section [%.40s] (a latency table has [meta], [stage0], [stage1], [stage2] and [fixed])",
			 c->path, line, section);
		return -1;
	}
	if (!c->section_line[s])
		c->section_line[s] = line;
	return 0;
}

static void keys_of(const char *section, char *buf, size_t n)
{
	size_t len = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < N_ENTRIES && len < n; i++)
		if (strcmp(entries[i].section, section) == 0)
			len += (size_t)snprintf(buf + len, n - len, "%s%s", len ? ", " : "", entries[i].key);
}

static int text_ok(const char *s)
{
	size_t len = strlen(s);
	if (len == 0 || len >= MN_LAT_TEXT)
		return 0;
	if (s[0] == ' ' || s[0] == '\t' || s[len - 1] == ' ' || s[len - 1] == '\t')
		return 0;
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == ';')
			return 0;
	return 1;
}

static int on_entry(void *user, const char *section, const char *key, const char *value, int line,
		    char *err, size_t errn)
{
	struct read_ctx *c = user;
	char what[512], keys[256];
	if (!*section) {
		snprintf(err, errn, "%s:%d: '%.40s' comes before any section (put it under [meta], [stageN] or [fixed])",
			 c->path, line, key);
		return -1;
	}
	size_t i;
	for (i = 0; i < N_ENTRIES; i++)
		if (strcmp(entries[i].section, section) == 0 && strcmp(entries[i].key, key) == 0)
			break;
	if (i == N_ENTRIES) {
		keys_of(section, keys, sizeof keys);
		snprintf(err, errn, "%s:%d: unknown key '%.40s' in [%s] (keys there: %s)", c->path, line, key,
			 section, keys);
		return -1;
	}
	const struct entry *e = &entries[i];
	if (c->line_of[i]) {
		snprintf(err, errn, "%s:%d: [%s] %s is given twice, first on line %d (keep one)", c->path, line,
			 section, key, c->line_of[i]);
		return -1;
	}
	snprintf(what, sizeof what, "%s:%d: [%s] %s", c->path, line, section, key);
	char *dst = (char *)c->t + e->offset;
	switch (e->kind) {
	case E_TEXT:
		if (!*value) {
			snprintf(err, errn, "%s is empty (give %s)", what, e->hint);
			return -1;
		}
		if (strlen(value) >= MN_LAT_TEXT) {
			snprintf(err, errn, "%s is too long (keep it under %d characters)", what, MN_LAT_TEXT);
			return -1;
		}
		snprintf(dst, MN_LAT_TEXT, "%s", value);
		break;
	case E_DOUBLE:
	case E_INT:
		if (mn_ini_number_at(what, value, e->kind == E_INT, e->min, e->max, dst, err, errn) != 0)
			return -1;
		break;
	case E_SIDES:
		if (mn_sides_parse(value, &c->t->height, &c->t->width) != 0) {
			snprintf(err, errn, "%s = '%s' is not a size (give R or HxW, each side 4..1024, e.g. 32 or 49x10)",
				 what, value);
			return -1;
		}
		break;
	}
	c->line_of[i] = line;
	return 0;
}

int mn_latency_table_read(struct mn_latency_table *t, const char *path, char *err, size_t errn)
{
	struct read_ctx c = {.t = t, .path = path};
	int last = 0;
	memset(t, 0, sizeof *t);
	if (mn_ini_parse(path, on_entry, on_section, &c, &last, err, errn) != 0)
		return -1;
	for (size_t i = 0; i < N_ENTRIES; i++) {
		if (c.line_of[i] || optional(&entries[i]))
			continue;
		const struct entry *e = &entries[i];
		int s = section_index(e->section);
		if (c.section_line[s])
			snprintf(err, errn, "%s:%d: [%s] has no %s (add '%s = <%s>'; `micronas profile` measures the latencies)",
				 path, c.section_line[s], e->section, e->key, e->key, e->hint);
		else
			snprintf(err, errn, "%s:%d: the section [%s] is missing, with its key %s (add it; `micronas profile` writes a complete table)",
				 path, last, e->section, e->key);
		memset(t, 0, sizeof *t);
		return -1;
	}
	return 0;
}

int mn_latency_table_print(const struct mn_latency_table *t, const char *comment, FILE *f)
{
	char num[64];
	const char *prev = "";
	if (comment) {
		const char *p = comment;
		while (*p) {
			const char *nl = strchr(p, '\n');
			size_t len = nl ? (size_t)(nl - p) : strlen(p);
			/* Longer lines would exceed what inih reads in one go. */
			if (len > 150) {
				errno = EINVAL;
				return -1;
			}
			if (fprintf(f, ";%s%.*s\n", len ? " " : "", (int)len, p) < 0)
				return -1;
			p += len + (nl ? 1 : 0);
		}
	}
	for (size_t i = 0; i < N_ENTRIES; i++) {
		const struct entry *e = &entries[i];
		const char *src = (const char *)t + e->offset;
		if (strcmp(prev, e->section) != 0) {
			int s = section_index(e->section);
			if (fprintf(f, "%s[%s]\n", i ? "\n" : (comment ? "\n" : ""), e->section) < 0)
				return -1;
			if (s >= 1 && s <= MN_STAGES && t->height > 0)
				if (fprintf(f, "; %d channels at %dx%d\n", t->channels << (s - 1),
					    mn_side_after(t->height, s - 1),
					    mn_side_after(t->width ? t->width : t->height, s - 1)) < 0)
					return -1;
			prev = e->section;
		}
		switch (e->kind) {
		case E_TEXT:
			if (fprintf(f, "%s = %s\n", e->key, src) < 0)
				return -1;
			continue;
		case E_DOUBLE: {
			double v;
			memcpy(&v, src, sizeof v);
			mn_ini_format_double(v, num, sizeof num);
			break;
		}
		case E_INT: {
			int v;
			memcpy(&v, src, sizeof v);
			if (optional(e) && (v == 0 || v == 3))
				continue; /* RGB, the default */
			snprintf(num, sizeof num, "%d", v);
			break;
		}
		case E_SIDES:
			mn_sides_format(t->height, t->width, num, sizeof num);
			break;
		}
		if (fprintf(f, "%s = %s\n", e->key, num) < 0)
			return -1;
	}
	return ferror(f) ? -1 : 0;
}

struct write_args {
	const struct mn_latency_table *t;
	const char *comment;
};

static int write_cb(FILE *f, void *user)
{
	const struct write_args *a = user;
	return mn_latency_table_print(a->t, a->comment, f);
}

int mn_latency_table_write(const struct mn_latency_table *t, const char *path,
			   const char *comment, char *err, size_t errn)
{
	/* Refuse, before touching the disk, anything that would not read back
	 * as written. */
	for (size_t i = 0; i < N_ENTRIES; i++) {
		const struct entry *e = &entries[i];
		const char *src = (const char *)t + e->offset;
		if (e->kind == E_TEXT && !text_ok(src)) {
			snprintf(err, errn, "%s: [%s] %s must be 1 to %d characters without ';', control characters or surrounding blanks (fix the text)",
				 path, e->section, e->key, MN_LAT_TEXT - 1);
			return -1;
		}
		double v;
		if (e->kind == E_DOUBLE)
			memcpy(&v, src, sizeof v);
		else if (e->kind == E_INT) {
			int iv;
			memcpy(&iv, src, sizeof iv);
			if (optional(e) && iv == 0)
				continue;
			v = iv;
		} else if (e->kind == E_SIDES) {
			int w = t->width ? t->width : t->height;
			v = t->height < w ? t->height : w;
			if (t->height > e->max || w > e->max)
				v = e->max + 1;
		} else
			continue;
		if (!(v >= e->min && v <= e->max)) {
			snprintf(err, errn, "%s: [%s] %s = %g is out of range (%g to %g; fix the table)", path,
				 e->section, e->key, v, e->min, e->max);
			return -1;
		}
	}
	if (comment) {
		for (const char *p = comment; *p;) {
			size_t len = strcspn(p, "\n");
			if (len > 150) {
				snprintf(err, errn, "%s: a comment line is longer than 150 characters (wrap it)", path);
				return -1;
			}
			p += len + (p[len] ? 1 : 0);
		}
	}
	struct write_args a = {t, comment};
	return mn_atomic_write(path, write_cb, &a, err, errn);
}

int mn_latency_table_check_network(const struct mn_latency_table *t, const char *path,
				   int channels, int cells, int height, int width, int classes,
				   char *err, size_t errn)
{
	int tw = t->width ? t->width : t->height;
	if (t->channels == channels && t->cells == cells && t->height == height && tw == width &&
	    t->classes == classes)
		return 0;
	snprintf(err, errn, "%s: the table is for C=%d N=%d %dx%d %d classes, the search for C=%d N=%d %dx%d %d classes (profile the board for this network or use a matching preset)",
		 path, t->channels, t->cells, t->height, tw, t->classes, channels, cells, height,
		 width, classes);
	return -1;
}

int mn_latency_table_check_input(const struct mn_latency_table *t, const char *path,
				 int input_channels, char *err, size_t errn)
{
	int tc = t->input_channels ? t->input_channels : 3;
	if (tc == input_channels)
		return 0;
	snprintf(err, errn, "%s: the table's stem was measured on %d input channel%s, the network "
		 "has %d (profile the board with this preset, or use a matching preset)", path, tc,
		 tc == 1 ? "" : "s", input_channels);
	return -1;
}

int mn_latency_cell_adds(const struct mn_arch *a)
{
	int adds = 0;
	for (int node = 1; node < MN_NODES; node++) {
		int k = 0;
		for (int e = 0; e < MN_EDGES; e++)
			if (mn_edge_to(e) == node && a->op[e] != MN_OP_NONE)
				k++;
		if (k > 1)
			adds += k - 1;
	}
	return adds;
}

static double fixed_us(const struct mn_latency_table *t)
{
	return t->overhead_us + t->stem_us + t->reduction_us[0] + t->reduction_us[1] + t->head_us;
}

double mn_latency_arch_us(const struct mn_latency_table *t, const struct mn_arch *a)
{
	int adds = mn_latency_cell_adds(a);
	double total = fixed_us(t);
	for (int s = 0; s < MN_STAGES; s++) {
		double cell = adds * t->add_us[s];
		for (int e = 0; e < MN_EDGES; e++)
			if (a->op[e] > MN_OP_NONE && a->op[e] < MN_OP_COUNT)
				cell += t->op_us[s][a->op[e]];
		total += t->cells * cell;
	}
	return total;
}

double mn_latency_mixed_us(const struct mn_latency_table *t, const unsigned char mask[MN_EDGES])
{
	int adds = 0;
	for (int node = 1; node < MN_NODES; node++) {
		int k = 0;
		for (int e = 0; e < MN_EDGES; e++)
			if (mn_edge_to(e) == node)
				for (int op = MN_OP_NONE + 1; op < MN_OP_COUNT; op++)
					k += (mask[e] >> op) & 1;
		if (k > 1)
			adds += k - 1;
	}
	double total = fixed_us(t);
	for (int s = 0; s < MN_STAGES; s++) {
		double cell = adds * t->add_us[s];
		for (int e = 0; e < MN_EDGES; e++)
			for (int op = MN_OP_NONE + 1; op < MN_OP_COUNT; op++)
				if ((mask[e] >> op) & 1)
					cell += t->op_us[s][op];
		total += t->cells * cell;
	}
	return total;
}

double mn_latency_min_us(const struct mn_latency_table *t, const unsigned char mask[MN_EDGES],
			 struct mn_arch *best)
{
	/* An edge with nothing active is none. */
	unsigned char m[MN_EDGES];
	for (int e = 0; e < MN_EDGES; e++)
		m[e] = mask[e] & 0x1f ? mask[e] : (unsigned char)(1u << MN_OP_NONE);
	/* Index order, so the first minimum found is the first in
	 * mn_arch_to_index() order. */
	struct mn_mask_iter it;
	struct mn_arch a;
	double min = INFINITY;
	for (mn_mask_iter_init(&it, m); mn_mask_iter_next(&it, &a);) {
		double us = mn_latency_arch_us(t, &a);
		if (us < min) {
			min = us;
			if (best)
				*best = a;
		}
	}
	return min;
}
