#include "config.h"

#include "atlas/atlas_file.h"
#include "config/preset.h"
#include "util/cache_dir.h"
#include "util/hash.h"
#include "util/make_dirs.h"
#include "util/shell_word.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


/* The proxy_network fields that a flag of `micronas atlas` sets, with that
 * flag and the preset's int it comes from: atlas_flags writes them and
 * a refusal names them (network_field), so both say the same.  A field
 * with words takes the word for its value 0 or 1 rather than the number. */
static const struct network_flag {
	const char *field, *flag;
	const char *off, *on; /* the words for 0 and 1, or NULL */
	size_t preset_at;     /* offsetof the int in struct mn_preset */
} network_flags[] = {
	{"az_channels", "--az-channels", NULL, NULL, offsetof(struct mn_preset, az_channels)},
	{"az_cells", "--az-cells", NULL, NULL, offsetof(struct mn_preset, az_cells)},
	{"all_proxies", "--proxies", "estimate", "all", offsetof(struct mn_preset, all_proxies)},
};
#define NETWORK_FLAGS (int)(sizeof network_flags / sizeof network_flags[0])

/* "FLAG VALUE" for the field's value v (vlen bytes), as snprintf. */
static int network_flag_put(const struct network_flag *f, const char *v, int vlen, char *buf, size_t n)
{
	if (f->off)
		return snprintf(buf, n, "%s %s", f->flag, vlen == 1 && *v == '0' ? f->off : f->on);
	return snprintf(buf, n, "%s %.*s", f->flag, vlen, v);
}

/* The settings' flags of mn_atlas_command, as snprintf. */
static int atlas_flags(const struct mn_preset *p, char *buf, size_t n)
{
	size_t len = (size_t)snprintf(buf, n, " --seed %llu --batch %d --repeat %d --init %s --ntk-grad %s",
				      (unsigned long long)p->seed, p->batch, p->repeat,
				      mn_init_mode_name(p->init), mn_grad_mode_name(p->ntk_grad));
	for (int k = 0; k < NETWORK_FLAGS; k++) {
		char v[16];
		int value = *(const int *)((const char *)p + network_flags[k].preset_at);
		/* A word's 1 is the default (--proxies all) and goes unsaid. */
		if (network_flags[k].on && value)
			continue;
		int vlen = snprintf(v, sizeof v, "%d", value);
		len += (size_t)snprintf(len < n ? buf + len : NULL, len < n ? n - len : 0, " ");
		len += (size_t)network_flag_put(&network_flags[k], v, vlen, len < n ? buf + len : NULL,
						len < n ? n - len : 0);
	}
	return (int)len;
}

/* " FLAG WORD" (the word quoted for the shell) at buf + *len when it fits,
 * counting the length either way, as snprintf. */
static void put_option(char *buf, size_t n, size_t *len, const char *flag, const char *word)
{
	*len += (size_t)snprintf(*len < n ? buf + *len : NULL, *len < n ? n - *len : 0, " %s ", flag);
	*len += (size_t)mn_shell_word(word, *len < n ? buf + *len : NULL, *len < n ? n - *len : 0);
}

int mn_atlas_command(const struct mn_preset *p, const char *preset, const char *data, const char *out,
		     char *buf, size_t n)
{
	size_t len = (size_t)snprintf(buf, n, "micronas atlas");
	if (preset)
		put_option(buf, n, &len, "--preset", preset);
	if (data)
		put_option(buf, n, &len, "--data", data);
	len += (size_t)atlas_flags(p, len < n ? buf + len : NULL, len < n ? n - len : 0);
	if (out)
		put_option(buf, n, &len, "--out", out);
	return (int)len;
}

void mn_atlas_settings_make(struct mn_atlas_settings *s, const struct mn_dataset *d, uint64_t seed,
			    const struct mn_tenas_config *cfg, enum mn_atlas_order order)
{
	memset(s, 0, sizeof *s);
	s->data_hash = mn_dataset_fingerprint(d);
	s->data_images = d->count;
	s->data_synthetic = d->synthetic;
	s->seed = seed;
	s->cfg = *cfg;
	s->order = order;
}

static void kv_set(struct mn_atlas_kv *kv, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void kv_set(struct mn_atlas_kv *kv, const char *key, const char *fmt, ...)
{
	va_list ap;
	snprintf(kv->key, sizeof kv->key, "%s", key);
	va_start(ap, fmt);
	vsnprintf(kv->value, sizeof kv->value, fmt, ap);
	va_end(ap);
}

void mn_atlas_header(char *buf, size_t n)
{
	size_t len = (size_t)snprintf(buf, n, "arch");
	for (int p = 0; p < MN_PROXY_COUNT && len < n; p++)
		len += (size_t)snprintf(buf + len, n - len, ",%s", mn_proxy_info((enum mn_proxy_id)p)->column);
}

int mn_atlas_settings_kv(const struct mn_atlas_settings *s, struct mn_atlas_kv kv[MN_ATLAS_MAX_SETTINGS])
{
	int n = 0;
	char cols[MN_ATLAS_VALUE];
	mn_atlas_header(cols, sizeof cols);
	kv_set(&kv[n++], "micronas atlas", "1");
	kv_set(&kv[n++], "version", "%s", PACKAGE_VERSION);
	kv_set(&kv[n++], "proxies", "%s", cols + strlen("arch,"));
	/* The seed before the data: the synthetic data is drawn from the seed,
	 * and the first difference named should be the one the user made. */
	kv_set(&kv[n++], "seed", "%llu", (unsigned long long)s->seed);
	kv_set(&kv[n++], "data", "fnv1a64=%016llx images=%zu %s", (unsigned long long)s->data_hash,
	       s->data_images, s->data_synthetic ? "synthetic" : "files");
	kv_set(&kv[n++], "batch", "%d", s->cfg.batch);
	kv_set(&kv[n++], "repeat", "%d", s->cfg.repeat);
	kv_set(&kv[n++], "init", "%s", mn_init_mode_name(s->cfg.init));
	kv_set(&kv[n++], "ntk_grad", "%s", mn_grad_mode_name(s->cfg.grad));
	kv_set(&kv[n++], "proxy_network",
	       "classes=%d regions_samples=%d regions_batches=%d az_channels=%d az_cells=%d "
	       "az_batch=%d all_proxies=%d az_arch=class",
	       s->cfg.classes, s->cfg.regions_samples, s->cfg.regions_batches, s->cfg.az_channels,
	       s->cfg.az_cells, s->cfg.az_batch, s->cfg.all_proxies);
	kv_set(&kv[n++], "order", "%s", s->order == MN_ATLAS_ORDER_INDEX ? "index" : "seeded");
	return n;
}

uint64_t mn_atlas_settings_hash(const struct mn_atlas_settings *s)
{
	struct mn_atlas_kv kv[MN_ATLAS_MAX_SETTINGS];
	int n = mn_atlas_settings_kv(s, kv);
	uint64_t h = MN_HASH_INIT;
	for (int i = 0; i < n; i++) {
		h = mn_hash_bytes(h, kv[i].key, strlen(kv[i].key) + 1);
		h = mn_hash_bytes(h, kv[i].value, strlen(kv[i].value) + 1);
	}
	return h;
}

int mn_atlas_default_path(const struct mn_atlas_settings *s, char *path, size_t n, char *err,
			  size_t errn)
{
	char dir[4096];
	unsigned long long h = (unsigned long long)mn_atlas_settings_hash(s);
	if (mn_cache_dir(dir, sizeof dir) != 0) {
		snprintf(err, errn, "no cache directory (set XDG_CACHE_HOME to an absolute path, or HOME): give the atlas file with --out FILE");
		return -1;
	}
	int len = snprintf(path, n, "%s/atlas-%016llx.csv", dir, h);
	if (len < 0 || (size_t)len >= n) {
		snprintf(err, errn, "the cache path is too long: give the atlas file with --out FILE");
		return -1;
	}
	return 0;
}

int mn_atlas_pick_path(struct mn_atlas_settings *s, char *path, size_t n, int *other, char *err,
		       size_t errn)
{
	*other = 0;
	if (mn_atlas_default_path(s, path, n, err, errn) != 0)
		return -1;
	if (access(path, F_OK) == 0)
		return 0;
	struct mn_atlas_settings o = *s;
	char alt[4096];
	o.cfg.all_proxies = !s->cfg.all_proxies;
	if (mn_atlas_default_path(&o, alt, sizeof alt, err, errn) != 0 || access(alt, F_OK) != 0 ||
	    strlen(alt) >= n)
		return 0;
	snprintf(path, n, "%s", alt);
	*s = o;
	*other = 1;
	return 0;
}

int mn_atlas_make_dir(const char *path, char *err, size_t errn)
{
	char dir[4096];
	if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir) {
		snprintf(err, errn, "%s: path too long", path);
		return -1;
	}
	char *slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	if (mn_make_dirs(dir) != 0) {
		snprintf(err, errn, "cannot create the directory %s: %s (check its permissions or choose another atlas file)", dir,
			 strerror(errno));
		return -1;
	}
	return 0;
}

int mn_atlas_write_head(FILE *f, const struct mn_atlas_settings *s)
{
	struct mn_atlas_kv kv[MN_ATLAS_MAX_SETTINGS];
	char header[1024];
	int n = mn_atlas_settings_kv(s, kv);
	for (int i = 0; i < n; i++)
		if (fprintf(f, "# %s: %s\n", kv[i].key, kv[i].value) < 0)
			return -1;
	mn_atlas_header(header, sizeof header);
	if (fprintf(f, "%s\n", header) < 0)
		return -1;
	return 0;
}

int mn_atlas_format_row(char *buf, size_t n, int arch_index, const struct mn_proxy_values *v)
{
	struct mn_arch a;
	mn_arch_from_index(arch_index, &a);
	int len = mn_arch_format(&a, buf, n);
	for (int p = 0; p < MN_PROXY_COUNT && len >= 0 && (size_t)len < n; p++)
		len += snprintf(buf + len, n - (size_t)len, ",%.17g", v->v[p]);
	if (len >= 0 && (size_t)len < n)
		len += snprintf(buf + len, n - (size_t)len, "\n");
	return len;
}

void mn_atlas_rows_free(struct mn_atlas_rows *rows)
{
	free(rows->arch);
	free(rows->v);
	memset(rows, 0, sizeof *rows);
}

/* "# key: value\n" -> key, value; 0 or -1. */
static int parse_setting(char *line, char **key, char **value)
{
	size_t len = strlen(line);
	while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		line[--len] = '\0';
	if (strncmp(line, "# ", 2) != 0)
		return -1;
	char *colon = strstr(line + 2, ": ");
	if (!colon)
		return -1;
	*colon = '\0';
	*key = line + 2;
	*value = colon + 2;
	return 0;
}

/* One data row: "arch,v1,...,vP\n" -> arch index and values. */
static int parse_row(char *line, int *arch, struct mn_proxy_values *v, char *why, size_t whyn)
{
	char *comma = strchr(line, ',');
	struct mn_arch a;
	struct mn_parse_error pe;
	if (!comma) {
		snprintf(why, whyn, "no comma after the arch");
		return -1;
	}
	*comma = '\0';
	if (mn_arch_parse(line, &a, &pe) != 0) {
		snprintf(why, whyn, "bad arch at column %zu: %s", pe.pos + 1, pe.msg);
		return -1;
	}
	*arch = mn_arch_to_index(&a);
	char *p = comma + 1;
	for (int k = 0; k < MN_PROXY_COUNT; k++) {
		char *end;
		errno = 0;
		double x = strtod(p, &end);
		if (end == p || errno == ERANGE) {
			snprintf(why, whyn, "%s is not a number", mn_proxy_info((enum mn_proxy_id)k)->column);
			return -1;
		}
		v->v[k] = x;
		if (k + 1 < MN_PROXY_COUNT) {
			if (*end != ',') {
				snprintf(why, whyn, "%d values expected, fewer found", MN_PROXY_COUNT);
				return -1;
			}
			p = end + 1;
		} else if (strcmp(end, "\n") != 0 && strcmp(end, "\r\n") != 0) {
			snprintf(why, whyn, "%d values expected, more found", MN_PROXY_COUNT);
			return -1;
		}
	}
	return 0;
}

/* One "name=value" field of a proxy_network line as the user sets it: the
 * flag, or the data for the classes; fields no flag sets are named as
 * written (another micronas made the file). */
static void network_field(const char *field, size_t len, char *buf, size_t n)
{
	const char *eq = memchr(field, '=', len);
	size_t klen = eq ? (size_t)(eq - field) : len;
	const char *v = eq ? eq + 1 : "";
	int vlen = eq ? (int)(len - klen - 1) : 0;
	for (int k = 0; k < NETWORK_FLAGS; k++)
		if (klen == strlen(network_flags[k].field) && !strncmp(field, network_flags[k].field, klen)) {
			network_flag_put(&network_flags[k], v, vlen, buf, n);
			return;
		}
	if (klen == 7 && !strncmp(field, "classes", klen))
		snprintf(buf, n, "data of %.*s classes", vlen, v);
	else
		snprintf(buf, n, "proxy_network %.*s", (int)len, field);
}

/* The proxy_network lines got and want differ: their first differing
 * field, each side as the user sets it ("--proxies estimate" rather than
 * all_proxies=0), so that the refusal says what to change. */
static void network_difference(const char *got, const char *want, char *g, char *w, size_t n)
{
	const char *got0 = got, *want0 = want;
	for (;;) {
		size_t gl = strcspn(got, " "), wl = strcspn(want, " ");
		int same = gl == wl && strncmp(got, want, gl) == 0;
		if (!same) {
			network_field(got, gl, g, n);
			network_field(want, wl, w, n);
			return;
		}
		if (!got[gl] || !want[wl])
			break; /* one line has more fields: both in full */
		got += gl + 1;
		want += wl + 1;
	}
	snprintf(g, n, "proxy_network %s", got0);
	snprintf(w, n, "proxy_network %s", want0);
}

/* The command that writes an atlas file of this order line. */
static const char *order_writer(const char *order)
{
	if (!strcmp(order, "index"))
		return "micronas score --all (archs in index order)";
	if (!strcmp(order, "seeded"))
		return "micronas atlas (archs in the seed's order)";
	return "another micronas (an unknown order)";
}

int mn_atlas_read(const char *path, const struct mn_atlas_settings *expect, struct mn_atlas_rows *rows,
		  long *good_end, char *err, size_t errn)
{
	struct mn_atlas_kv kv[MN_ATLAS_MAX_SETTINGS];
	int nkv = mn_atlas_settings_kv(expect, kv);
	char header[1024], line[2048], why[200];
	int lineno = 0, rc = -1;
	unsigned char *seen = NULL;
	memset(rows, 0, sizeof *rows);
	*good_end = 0;
	mn_atlas_header(header, sizeof header);

	FILE *f = fopen(path, "r");
	if (!f) {
		if (errno == ENOENT)
			return 1;
		snprintf(err, errn, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	/* The settings lines, in order. */
	for (int i = 0; i <= nkv; i++) {
		if (!fgets(line, sizeof line, f)) {
			if (lineno == 0) {
				fclose(f);
				return 1; /* empty: start over */
			}
			snprintf(err, errn, "%s:%d: the file ends inside its settings lines (remove it and rerun)",
				 path, lineno + 1);
			goto out;
		}
		lineno++;
		if (i == nkv)
			break; /* the header, checked below */
		char *key, *value;
		if (parse_setting(line, &key, &value) != 0) {
			snprintf(err, errn, "%s:%d: not a micronas atlas for these settings (expected '# %s: %s'); "
				 "choose another atlas file or remove this one", path, lineno, kv[i].key, kv[i].value);
			goto out;
		}
		if (strcmp(key, kv[i].key) != 0) {
			snprintf(err, errn, "%s:%d: setting '%s' where '%s' was expected (written by another "
				 "micronas version?); choose another atlas file or remove this one", path, lineno, key,
				 kv[i].key);
			goto out;
		}
		if (strcmp(value, kv[i].value) != 0 && !strcmp(key, "proxy_network")) {
			char got[160], want[160];
			network_difference(value, kv[i].value, got, want, sizeof got);
			snprintf(err, errn, "%s:%d: made with %s, not %s: a file never mixes settings; use the "
				 "same settings, or another atlas file", path, lineno, got, want);
			goto out;
		}
		if (strcmp(value, kv[i].value) != 0 && !strcmp(key, "order")) {
			/* The order says which command wrote the file: name it. */
			snprintf(err, errn, "%s:%d: written by %s; this needs a file written by %s "
				 "(a file never mixes settings)", path, lineno, order_writer(value),
				 order_writer(kv[i].value));
			goto out;
		}
		if (strcmp(value, kv[i].value) != 0) {
			snprintf(err, errn, "%s:%d: made with %s %s, not %s: a file never mixes settings; use the same "
				 "settings, or another atlas file", path, lineno, key, value, kv[i].value);
			goto out;
		}
	}
	{
		size_t len = strlen(line);
		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (strcmp(line, header) != 0) {
			snprintf(err, errn, "%s:%d: the header is not '%s' (another proxy table?); choose another "
				 "atlas file or remove this one", path, lineno, header);
			goto out;
		}
	}
	*good_end = ftell(f);
	seen = calloc(MN_ARCH_COUNT, 1);
	rows->arch = malloc(MN_ARCH_COUNT * sizeof *rows->arch);
	rows->v = malloc(MN_ARCH_COUNT * sizeof *rows->v);
	if (!seen || !rows->arch || !rows->v) {
		snprintf(err, errn, "out of memory reading %s", path);
		goto out;
	}
	while (fgets(line, sizeof line, f)) {
		lineno++;
		size_t len = strlen(line);
		if (len == 0 || line[len - 1] != '\n') {
			if (fgetc(f) == EOF)
				break; /* a torn last line from an interruption: dropped */
			snprintf(err, errn, "%s:%d: line too long; fix or remove the file", path, lineno);
			goto out;
		}
		int a;
		struct mn_proxy_values v;
		if (parse_row(line, &a, &v, why, sizeof why) != 0) {
			snprintf(err, errn, "%s:%d: malformed row (%s); fix or remove the file", path, lineno, why);
			goto out;
		}
		if (seen[a]) {
			snprintf(err, errn, "%s:%d: the arch appears twice; fix or remove the file", path, lineno);
			goto out;
		}
		if (rows->n >= MN_ARCH_COUNT) {
			snprintf(err, errn, "%s:%d: more rows than archs; fix or remove the file", path, lineno);
			goto out;
		}
		seen[a] = 1;
		rows->arch[rows->n] = a;
		rows->v[rows->n] = v;
		rows->n++;
		*good_end = ftell(f);
	}
	if (ferror(f)) {
		snprintf(err, errn, "reading %s failed: %s", path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	fclose(f);
	free(seen);
	if (rc != 0)
		mn_atlas_rows_free(rows);
	return rc;
}
