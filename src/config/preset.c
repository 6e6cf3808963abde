#define _DEFAULT_SOURCE 1 /* strndup() */
#include "config/preset.h"

#include <stdlib.h>
#include <string.h>

#include "space/cost.h"
#include "util/ini_file.h"
#include "util/str_join.h"

/* K_NAME: a word of [A-Za-z0-9._+-] not starting with '.', since it
 * becomes a QEMU argument or a directory name. */
/* K_SIDES: an input size, "R" or "HxW", into height and width. */
enum kind { K_TEXT, K_PATH, K_NAME, K_DOUBLE, K_INT, K_U64, K_INIT, K_NTK_GRAD, K_SIDES, K_PROXIES };

struct field {
	const char *section;
	const char *key;
	enum kind kind;
	double min, max;
	size_t offset;
};

#define OFF(m) offsetof(struct mn_preset, m)
/* K_SIDES copies height and width as one block (mn_preset_override). */
_Static_assert(offsetof(struct mn_preset, width) == offsetof(struct mn_preset, height) + sizeof(int),
	       "height and width must be adjacent");
#define MAX_KB 1048576.0 /* 1 GB: far beyond any microcontroller */

/* Indexed by enum mn_preset_field. */
static const struct field fields[MN_PF_COUNT] = {
	[MN_PF_BOARD_NAME] = {"board", "name", K_TEXT, 0, 0, OFF(board_name)},
	[MN_PF_CLOCK_MHZ] = {"board", "clock_mhz", K_DOUBLE, 0.001, 10000, OFF(clock_mhz)},
	[MN_PF_SRAM_KB] = {"board", "sram_kb", K_DOUBLE, 1, MAX_KB, OFF(sram_kb)},
	[MN_PF_FLASH_KB] = {"board", "flash_kb", K_DOUBLE, 1, MAX_KB, OFF(flash_kb)},
	[MN_PF_RUNTIME_FLASH_KB] = {"board", "runtime_flash_kb", K_DOUBLE, 0, MAX_KB, OFF(runtime_flash_kb)},
	[MN_PF_LATENCY_TABLE] = {"board", "latency_table", K_PATH, 0, 0, OFF(latency_table)},
	[MN_PF_EMULATOR] = {"board", "emulator", K_NAME, 0, 0, OFF(emulator)},
	[MN_PF_FIRMWARE] = {"board", "firmware", K_NAME, 0, 0, OFF(firmware)},
	[MN_PF_CHANNELS] = {"network", "channels", K_INT, 1, 4096, OFF(channels)},
	[MN_PF_CELLS] = {"network", "cells", K_INT, 1, 100, OFF(cells)},
	[MN_PF_RESOLUTION] = {"network", "resolution", K_SIDES, 4, 1024, OFF(height)},
	[MN_PF_CLASSES] = {"network", "classes", K_INT, 2, 100000, OFF(classes)},
	[MN_PF_INPUT_CHANNELS] = {"network", "input_channels", K_INT, 1, 4096, OFF(input_channels)},
	[MN_PF_SEED] = {"search", "seed", K_U64, 0, 0, OFF(seed)},
	/* The NTK condition number needs at least two samples. */
	[MN_PF_BATCH] = {"search", "batch", K_INT, 2, 100000, OFF(batch)},
	[MN_PF_REPEAT] = {"search", "repeat", K_INT, 1, 1000, OFF(repeat)},
	[MN_PF_W_FLOPS] = {"search", "w_flops", K_DOUBLE, 0, 1000, OFF(w_flops)},
	[MN_PF_W_LATENCY] = {"search", "w_latency", K_DOUBLE, 0, 1000, OFF(w_latency)},
	[MN_PF_MAX_LATENCY_MS] = {"search", "max_latency_ms", K_DOUBLE, 0, 1e9, OFF(max_latency_ms)},
	[MN_PF_MAX_SRAM_KB] = {"search", "max_sram_kb", K_DOUBLE, 0, MAX_KB, OFF(max_sram_kb)},
	[MN_PF_MAX_FLASH_KB] = {"search", "max_flash_kb", K_DOUBLE, 0, MAX_KB, OFF(max_flash_kb)},
	[MN_PF_INIT] = {"search", "init", K_INIT, 0, 0, OFF(init)},
	[MN_PF_NTK_GRAD] = {"search", "ntk_grad", K_NTK_GRAD, 0, 0, OFF(ntk_grad)},
	[MN_PF_AZ_CHANNELS] = {"search", "az_channels", K_INT, 1, 256, OFF(az_channels)},
	[MN_PF_AZ_CELLS] = {"search", "az_cells", K_INT, 1, 20, OFF(az_cells)},
	[MN_PF_PROXIES] = {"search", "proxies", K_PROXIES, 0, 0, OFF(all_proxies)},
};

static const char *const sections[] = {"board", "network", "search"};
#define N_SECTIONS (sizeof sections / sizeof sections[0])

/* A preset's section, by name. */
int mn_preset_section(const char *name)
{
	for (size_t i = 0; i < N_SECTIONS; i++)
		if (strcmp(sections[i], name) == 0)
			return 1;
	return 0;
}

/* Unless a file or flag gives them, the SRAM and flash limits are the
 * board's own sram_kb and flash_kb: a search for a board keeps what can be
 * deployed on it (deploy refuses the rest).  A given 0 means no limit, as
 * TE-NAS's and MicroNAS's published searches ran (presets/nucleo-f746zg-
 * tenas.ini).  Called wherever the board's sizes or the set marks change:
 * the defaults, mn_preset_set (so also a file's every line) and an override. */
/* Whether limit f is the board's own: the SRAM or flash one, not given. */
static int follows_board(const struct mn_preset *p, int f)
{
	return (f == MN_PF_MAX_SRAM_KB || f == MN_PF_MAX_FLASH_KB) && !(p->set & (1u << f));
}

static void limits_follow_board(struct mn_preset *p)
{
	if (follows_board(p, MN_PF_MAX_SRAM_KB))
		p->max_sram_kb = p->sram_kb;
	if (follows_board(p, MN_PF_MAX_FLASH_KB))
		p->max_flash_kb = p->flash_kb;
}

void mn_preset_defaults(struct mn_preset *p)
{
	memset(p, 0, sizeof *p);
	snprintf(p->board_name, sizeof p->board_name, "%s", "NUCLEO-F746ZG");
	p->clock_mhz = 216;
	p->sram_kb = 320;
	p->flash_kb = 1024;
	/* An estimate of TensorFlow Lite Micro with the CMSIS-NN kernels of
	 * the five op types, built -Os; see presets/nucleo-f746zg.ini. */
	p->runtime_flash_kb = 100;
	p->latency_table = NULL; /* the built-in Cortex-M7 cycle model */
	/* QEMU's Cortex-M7 MPS2 image runs the M7 firmware build. */
	snprintf(p->emulator, sizeof p->emulator, "%s", "mps2-an500");
	snprintf(p->firmware, sizeof p->firmware, "%s", "qemu-mps2-an500");
	p->channels = 16;
	p->cells = 5;
	p->height = p->width = 32;
	p->classes = 10;
	p->input_channels = 3;
	/* MicroNAS's NTK batch: its Kendall-tau study found 16-32 best and
	 * adopts 32 (larger batches add cost, not ranking quality); TE-NAS's
	 * 72 is in presets/nucleo-f746zg-tenas.ini.  3 repeats as TE-NAS. */
	p->seed = 0;
	p->batch = 32;
	p->repeat = 3;
	/* MicroNAS-style: latency is what the board cares about and FLOPs is
	 * only a proxy for it, so weighting both would count speed twice. */
	p->w_flops = 0;
	p->w_latency = 1;
	/* No latency limit: the trade-off is the weights'.  SRAM and flash
	 * follow the board (limits_follow_board). */
	p->max_latency_ms = 0;
	p->init = MN_INIT_CODE;
	p->ntk_grad = MN_GRAD_EXACT;
	/* The accuracy estimate's network: AZ-NAS scores the NAS-Bench-201
	 * network itself, C=16, N=5 (tenas.c's default, proxy_set.h). */
	p->az_channels = 16;
	p->az_cells = 5;
	/* Every proxy, as issue 12's atlas stores them. */
	p->all_proxies = 1;
	p->set = 0;
	limits_follow_board(p);
}

void mn_preset_free(struct mn_preset *p)
{
	free(p->latency_table);
	p->latency_table = NULL;
}

int mn_preset_copy(struct mn_preset *dst, const struct mn_preset *src, struct mn_error *e)
{
	*dst = *src;
	if (src->latency_table && !(dst->latency_table = strdup(src->latency_table)))
		return mn_error_set(e, "out of memory copying a preset");
	return 0;
}

int mn_preset_field(const char *section, const char *key)
{
	for (int f = 0; f < MN_PF_COUNT; f++)
		if (strcmp(fields[f].section, section) == 0 && strcmp(fields[f].key, key) == 0)
			return f;
	return -1;
}

int mn_preset_field_dotted(const char *name)
{
	const char *dot = strchr(name, '.');
	char section[32];
	if (!dot || (size_t)(dot - name) >= sizeof section)
		return -1;
	memcpy(section, name, (size_t)(dot - name));
	section[dot - name] = '\0';
	return mn_preset_field(section, dot + 1);
}

const char *mn_preset_field_section(enum mn_preset_field f) { return fields[f].section; }
const char *mn_preset_field_key(enum mn_preset_field f) { return fields[f].key; }

/* dir + "/" + rel, unless rel is absolute or dir is NULL: heap. */
static char *resolve(const char *dir, const char *rel)
{
	if (rel[0] == '/' || !dir || !*dir)
		return strdup(rel);
	return mn_str_join(dir, "/", rel);
}


/* The words of the enumerated fields, with what each means where the word
 * alone does not say; both kinds of error below are made from them. */
struct choice {
	const char *word, *means;
	int value;
};
static const struct choice init_choices[] = {
	{MN_INIT_CODE_WORD, "TE-NAS's published code", MN_INIT_CODE},
	{MN_INIT_PAPER_WORD, "the paper's Kaiming init", MN_INIT_PAPER},
	{NULL, NULL, 0},
};
static const struct choice grad_choices[] = {
	{MN_GRAD_EXACT_WORD, NULL, MN_GRAD_EXACT},
	{MN_GRAD_FIXED_STATS_WORD, NULL, MN_GRAD_FIXED_STATS},
	{NULL, NULL, 0},
};
static const struct choice proxies_choices[] = {
	{"all", "every proxy", 1},
	{"estimate", "the accuracy estimate's alone, about 3 times faster", 0},
	{NULL, NULL, 0},
};

int mn_preset_choice(enum mn_preset_field f, const char *value, const char *what, int *out,
		     struct mn_error *e)
{
	const struct choice *c = fields[f].kind == K_INIT       ? init_choices
				 : fields[f].kind == K_NTK_GRAD ? grad_choices
				 : fields[f].kind == K_PROXIES  ? proxies_choices
								: NULL;
	if (!c)
		return mn_error_set(e, "%s is not a field of words", what);
	for (const struct choice *w = c; w->word; w++) {
		if (strcmp(value, w->word) == 0) {
			*out = w->value;
			return 0;
		}
	}
	/* A flag is answered in flags ("--proxies 'x' is not one of: all
	 * (every proxy), ..."), a file's key as the file writes it ("FILE:LINE:
	 * [search] proxies = 'x' is unknown (give all: every proxy, or ...)"). */
	int flag = mn_ini_names_flag(what);
	char list[400], subj[MN_PRESET_PATH + 128];
	size_t len = 0;
	list[0] = '\0';
	for (const struct choice *w = c; w->word && len < sizeof list; w++) {
		const char *sep = w == c ? "" : flag ? ", " : w->means ? ", or " : " or ";
		if (flag)
			len += (size_t)snprintf(list + len, sizeof list - len, "%s%s%s%s%s", sep, w->word,
						w->means ? " (" : "", w->means ? w->means : "", w->means ? ")" : "");
		else
			len += (size_t)snprintf(list + len, sizeof list - len, "%s%s%s%s", sep, w->word,
						w->means ? ": " : "", w->means ? w->means : "");
	}
	mn_ini_subject(subj, sizeof subj, what, value);
	if (flag)
		return mn_error_set(e, "%s is not one of: %s", subj, list);
	return mn_error_set(e, "%s is %s (give %s)", subj, *value ? "unknown" : "empty", list);
}

int mn_preset_set(struct mn_preset *p, enum mn_preset_field f, const char *value,
		  const char *what, const char *base_dir, struct mn_error *e)
{
	const struct field *fd = &fields[f];
	/* The INI value parsers write into a plain buffer. */
	char *err = e ? e->msg : NULL;
	size_t errn = e ? sizeof e->msg : 0;
	char *dst = (char *)p + fd->offset;
	switch (fd->kind) {
	case K_TEXT:
		if (!*value) {
			mn_error_set(e, "%s is empty (give the board's name)", what);
			return -1;
		}
		if (strlen(value) >= MN_PRESET_TEXT) {
			mn_error_set(e, "%s is too long (keep it under %d characters)", what, MN_PRESET_TEXT);
			return -1;
		}
		snprintf(dst, MN_PRESET_TEXT, "%s", value);
		break;
	case K_NAME:
		if (!mn_preset_valid_name(value) || strlen(value) >= MN_PRESET_TEXT) {
			char subj[MN_PRESET_PATH + 128];
			mn_ini_subject(subj, sizeof subj, what, value);
			mn_error_set(e, "%s is not a name (use letters, digits, '-', '_', '.', e.g. %s)", subj,
				     f == MN_PF_EMULATOR ? "mps2-an386" : "qemu-mps2-an386");
			return -1;
		}
		snprintf(dst, MN_PRESET_TEXT, "%s", value);
		break;
	case K_PATH: {
		char *path, **slot = (char **)(void *)dst;
		if (!*value)
			return mn_error_set(e, "%s is empty (give the path of a latency table .ini file, or remove the line to use the built-in cycle model)",
					    what);
		if (!(path = resolve(base_dir, value)))
			return mn_error_set(e, "%s: out of memory", what);
		free(*slot);
		*slot = path;
		break;
	}
	case K_DOUBLE:
	case K_INT:
		if (mn_ini_number_at(what, value, fd->kind == K_INT, fd->min, fd->max, dst, err, errn) != 0)
			return -1;
		break;
	case K_U64: {
		uint64_t v;
		if (mn_ini_u64(what, value, &v, err, errn) != 0)
			return -1;
		memcpy(dst, &v, sizeof v);
		break;
	}
	case K_SIDES:
		if (mn_sides_parse(value, &p->height, &p->width) != 0) {
			char subj[MN_PRESET_PATH + 128];
			mn_ini_subject(subj, sizeof subj, what, value);
			mn_error_set(e, "%s is not an input size (give R for R x R or HxW, each side 4..1024, e.g. 32 or 49x10)",
				     subj);
			return -1;
		}
		break;
	case K_INIT:
	case K_NTK_GRAD:
	case K_PROXIES: {
		int v;
		if (mn_preset_choice(f, value, what, &v, e) != 0)
			return -1;
		if (fd->kind == K_INIT)
			p->init = (enum mn_init_mode)v;
		else if (fd->kind == K_NTK_GRAD)
			p->ntk_grad = (enum mn_grad_mode)v;
		else
			p->all_proxies = v;
		break;
	}
	}
	p->set |= 1u << f;
	snprintf(p->origin[f], sizeof p->origin[f], "%s", what);
	limits_follow_board(p);
	return 0;
}

int mn_preset_override(struct mn_preset *dst, const struct mn_preset *src, struct mn_error *e)
{
	static const size_t size[] = {
		[K_TEXT] = MN_PRESET_TEXT, [K_PATH] = sizeof(char *), [K_NAME] = MN_PRESET_TEXT,
		[K_DOUBLE] = sizeof(double),
		[K_INT] = sizeof(int), [K_U64] = sizeof(uint64_t), [K_INIT] = sizeof(enum mn_init_mode),
		[K_NTK_GRAD] = sizeof(enum mn_grad_mode), [K_SIDES] = 2 * sizeof(int),
		[K_PROXIES] = sizeof(int),
	};
	/* The one path first: only it can fail, and dst must then be as it was. */
	char *table = NULL;
	int take_table = (src->set >> MN_PF_LATENCY_TABLE) & 1u;
	if (take_table && src->latency_table && !(table = strdup(src->latency_table)))
		return mn_error_set(e, "out of memory laying the flags over the preset");
	for (int f = 0; f < MN_PF_COUNT; f++) {
		if (!(src->set & (1u << f)))
			continue;
		if (fields[f].kind == K_PATH) {
			free(dst->latency_table);
			dst->latency_table = table;
		} else {
			memcpy((char *)dst + fields[f].offset, (const char *)src + fields[f].offset,
			       size[fields[f].kind]);
		}
		memcpy(dst->origin[f], src->origin[f], sizeof dst->origin[f]);
		dst->set |= 1u << f;
	}
	limits_follow_board(dst);
	return 0;
}

/* Reading a file. */
struct load_ctx {
	struct mn_preset p; /* a copy: the caller's struct changes only on success */
	const char *path;
	char *dir;          /* the file's directory (heap), NULL: the working one */
	int line_of[MN_PF_COUNT];
};

static int on_section(void *user, const char *section, int line, char *err, size_t errn)
{
	struct load_ctx *c = user;
	if (mn_preset_section(section))
		return 0;
	snprintf(err, errn, "%s:%d: unknown section [%.40s] (a preset has [board], [network] and [search])",
		 c->path, line, section);
	return -1;
}

static int on_entry(void *user, const char *section, const char *key, const char *value, int line,
		    char *err, size_t errn)
{
	struct load_ctx *c = user;
	if (!*section) {
		snprintf(err, errn, "%s:%d: '%.40s' comes before any section (put it under [board], [network] or [search])",
			 c->path, line, key);
		return -1;
	}
	int f = mn_preset_field(section, key);
	if (f < 0) {
		char keys[256];
		size_t len = 0;
		keys[0] = '\0';
		for (int g = 0; g < MN_PF_COUNT; g++)
			if (strcmp(fields[g].section, section) == 0)
				len += (size_t)snprintf(keys + len, sizeof keys - len, "%s%s",
							len ? ", " : "", fields[g].key);
		snprintf(err, errn, "%s:%d: unknown key '%.40s' in [%s] (keys there: %s)", c->path, line, key,
			 section, keys);
		return -1;
	}
	if (c->line_of[f]) {
		snprintf(err, errn, "%s:%d: [%s] %s is given twice, first on line %d (keep one)", c->path,
			 line, section, key, c->line_of[f]);
		return -1;
	}
	char what[MN_PRESET_PATH + 64];
	struct mn_error e;
	snprintf(what, sizeof what, "%s:%d: [%s] %s", c->path, line, section, key);
	if (mn_preset_set(&c->p, (enum mn_preset_field)f, value, what, c->dir, &e) != 0) {
		snprintf(err, errn, "%s", e.msg);
		return -1;
	}
	/* The origin is kept short: the base name and line. */
	const char *base = strrchr(c->path, '/');
	snprintf(c->p.origin[f], sizeof c->p.origin[f], "%.50s:%d", base ? base + 1 : c->path, line);
	c->line_of[f] = line;
	return 0;
}

int mn_preset_load(struct mn_preset *p, const char *path, struct mn_error *e)
{
	struct load_ctx c;
	memset(&c, 0, sizeof c);
	c.path = path;
	if (mn_preset_copy(&c.p, p, e) != 0)
		return -1;
	/* Relative latency_table paths resolve against the file's directory. */
	const char *slash = strrchr(path, '/');
	if (slash) {
		size_t len = slash == path ? 1 : (size_t)(slash - path);
		if (!(c.dir = strndup(path, len))) {
			mn_preset_free(&c.p);
			return mn_error_set(e, "%s: out of memory", path);
		}
	}
	struct mn_error pe;
	int rc = mn_ini_parse(path, on_entry, on_section, &c, NULL, pe.msg, sizeof pe.msg);
	free(c.dir);
	if (rc != 0) {
		mn_preset_free(&c.p);
		return mn_error_set(e, "%s", pe.msg);
	}
	mn_preset_free(p);
	*p = c.p; /* p takes over the copy's table (mn_preset_set kept its limits) */
	return 0;
}

int mn_preset_print(const struct mn_preset *p, FILE *f)
{
	const char *prev = "";
	for (int i = 0; i < MN_PF_COUNT; i++) {
		const struct field *fd = &fields[i];
		const char *src = (const char *)p + fd->offset;
		char num[64];
		const char *val = num;
		if (strcmp(prev, fd->section) != 0) {
			if (fprintf(f, "%s[%s]\n", i ? "\n" : "", fd->section) < 0)
				return -1;
			prev = fd->section;
		}
		switch (fd->kind) {
		case K_TEXT:
		case K_NAME:
			val = src;
			break;
		case K_PATH:
			val = p->latency_table ? p->latency_table : "";
			break;
		case K_DOUBLE: {
			double v;
			memcpy(&v, src, sizeof v);
			mn_ini_format_double(v, num, sizeof num);
			break;
		}
		case K_INT: {
			int v;
			memcpy(&v, src, sizeof v);
			snprintf(num, sizeof num, "%d", v);
			break;
		}
		case K_U64: {
			uint64_t v;
			memcpy(&v, src, sizeof v);
			snprintf(num, sizeof num, "%llu", (unsigned long long)v);
			break;
		}
		case K_INIT:
			val = mn_init_mode_name(p->init);
			break;
		case K_NTK_GRAD:
			val = mn_grad_mode_name(p->ntk_grad);
			break;
		case K_SIDES:
			mn_sides_format(p->height, p->width, num, sizeof num);
			break;
		case K_PROXIES:
			val = p->all_proxies ? "all" : "estimate";
			break;
		}
		/* A limit nobody gave follows the board: a comment, so that the
		 * printed preset keeps following its own sram_kb and flash_kb. */
		if (follows_board(p, i)) {
			if (fprintf(f, "; %s not set: the board's %s (%s)\n", fd->key,
				    i == MN_PF_MAX_SRAM_KB ? "sram_kb" : "flash_kb", val) < 0)
				return -1;
			continue;
		}
		/* An empty path means "none given": leave the line out, as a file
		 * with an empty value would not load. */
		if (!*val) {
			if (fprintf(f, "; %s not set\n", fd->key) < 0)
				return -1;
			continue;
		}
		if (fprintf(f, "%s = %s\n", fd->key, val) < 0)
			return -1;
	}
	return ferror(f) ? -1 : 0;
}

int mn_preset_valid_name(const char *name)
{
	if (!*name || name[0] == '.')
		return 0;
	for (const char *s = name; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '-' || *s == '_' || *s == '.' || *s == '+'))
			return 0;
	return 1;
}

char *mn_preset_limits_text(const struct mn_preset *p, char *buf, size_t n)
{
	static const struct {
		enum mn_preset_field f;
		const char *name, *unit;
	} lim[] = {{MN_PF_MAX_LATENCY_MS, "latency", "ms"},
		   {MN_PF_MAX_SRAM_KB, "SRAM", "KB"},
		   {MN_PF_MAX_FLASH_KB, "flash", "KB"}};
	size_t len = 0;
	if (n)
		buf[0] = '\0';
	for (size_t i = 0; i < sizeof lim / sizeof lim[0] && len < n; i++) {
		double v;
		memcpy(&v, (const char *)p + fields[lim[i].f].offset, sizeof v);
		if (v <= 0)
			continue;
		int from_board = follows_board(p, lim[i].f);
		int k = snprintf(buf + len, n - len, "%s%s %g %s%s%s%s", len ? ", " : "", lim[i].name, v,
				 lim[i].unit, from_board ? " (the " : "", from_board ? p->board_name : "",
				 from_board ? "'s)" : "");
		if (k < 0)
			break;
		len += (size_t)k;
	}
	if (n && !buf[0])
		snprintf(buf, n, "none");
	return buf;
}
