/* Profiling a board into a latency table, resumable (see profile.h). */
#include "board/profile.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/atomic_file.h"
#include "util/ini_file.h"
#include "board/validate.h"

/* Fixed archs whose whole-network runs calibrate the overhead: a heavy one
 * (TE-NAS's pick in MicroNAS Table I), MicroNAS's pick, and a light one with
 * pools, skips and copies. */
static const char *const calib_archs[MN_PROFILE_CALIB_ARCHS] = {
	"|nor_conv_3x3~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|",
	"|nor_conv_1x1~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|nor_conv_1x1~2|",
	"|avg_pool_3x3~0|+|skip_connect~0|none~1|+|nor_conv_1x1~0|skip_connect~1|avg_pool_3x3~2|",
};

/* The stage items, in this order per stage: the four non-none NB201 ops
 * (NB201 index = protocol op kind), then the addition. */
static const unsigned stage_ops[5] = {MNP_OP_SKIP, MNP_OP_CONV1X1, MNP_OP_CONV3X3,
				      MNP_OP_AVGPOOL3X3, MNP_OP_ADD};
#define ITEM_STEM (5 * MN_STAGES)
#define ITEM_RED1 (ITEM_STEM + 1)
#define ITEM_RED2 (ITEM_STEM + 2)
#define ITEM_HEAD (ITEM_STEM + 3)
#define ITEM_CALIB (ITEM_STEM + 4)

const char *mn_profile_calib_arch(int i)
{
	return i >= 0 && i < MN_PROFILE_CALIB_ARCHS ? calib_archs[i] : NULL;
}

void mn_profile_opts_default(struct mn_profile_opts *o)
{
	struct mn_net_shape s = MN_SHAPE_DEFAULT;
	memset(o, 0, sizeof *o);
	o->shape = s;
	o->repeats = 5;
	o->seed = 1;
}

static void item_name(int i, char *buf, size_t n)
{
	if (i < ITEM_STEM) {
		unsigned op = stage_ops[i % 5];
		snprintf(buf, n, "stage%d.%s", i / 5, mn_board_op_name(op));
	} else if (i == ITEM_STEM) {
		snprintf(buf, n, "stem");
	} else if (i == ITEM_RED1 || i == ITEM_RED2) {
		snprintf(buf, n, "reduction%d", i - ITEM_RED1 + 1);
	} else if (i == ITEM_HEAD) {
		snprintf(buf, n, "head");
	} else {
		snprintf(buf, n, "calibration%d", i - ITEM_CALIB);
	}
}

/* The PROFILE_OP request of a non-calibration item. */
static void item_request(const struct mn_profile_opts *o, int i, struct mnp_profile_req *rq)
{
	const struct mn_net_shape *s = &o->shape;
	memset(rq, 0, sizeof *rq);
	rq->repeats = (uint16_t)o->repeats;
	rq->seed = mnp_mix32(o->seed ^ (uint32_t)(i + 1));
	if (i < ITEM_STEM) {
		int st = i / 5;
		rq->op = (uint8_t)stage_ops[i % 5];
		rq->channels = (uint16_t)(s->channels << st);
		rq->h = (uint16_t)mn_stage_height(s, st), rq->w = (uint16_t)mn_stage_width(s, st);
	} else if (i == ITEM_STEM) {
		rq->op = MNP_OP_STEM;
		rq->channels = (uint16_t)s->channels;
		/* 0 = RGB, which every firmware runs; another count needs the
		 * field (mn_board_profile_op refuses a firmware without it). */
		if (mn_shape_input_channels(s) != 3)
			rq->in_channels = (uint8_t)mn_shape_input_channels(s);
		rq->h = (uint16_t)mn_stage_height(s, 0), rq->w = (uint16_t)mn_stage_width(s, 0);
	} else if (i == ITEM_RED1 || i == ITEM_RED2) {
		int st = i - ITEM_RED1; /* input stage */
		rq->op = MNP_OP_REDUCTION;
		rq->channels = (uint16_t)(s->channels << st);
		rq->h = (uint16_t)mn_stage_height(s, st), rq->w = (uint16_t)mn_stage_width(s, st);
	} else {
		rq->op = MNP_OP_HEAD;
		rq->channels = (uint16_t)(4 * s->channels);
		rq->h = (uint16_t)mn_stage_height(s, 2), rq->w = (uint16_t)mn_stage_width(s, 2);
		rq->classes = (uint16_t)s->classes;
	}
}

/* ---- The partial file ---------------------------------------------------- */

struct partial {
	char board[17], fw_version[17];
	unsigned long protocol, timing_kind, count_hz, core_hz;
	long channels, cells, resolution, classes, repeats;
	long width, input_channels; /* absent from older files: R, 3 */
	uint64_t seed;
	int have[MN_PROFILE_ITEMS];
	uint64_t units[MN_PROFILE_ITEMS];
	int meta_seen;
};

/* Names go into an INI file: keep them to characters that need no
 * quoting (the firmware's names are like "qemu-mps2-an500"). */
static void clean_name(char *dst, size_t n, const char *src)
{
	size_t i = 0;
	for (; src[i] && i + 1 < n; i++) {
		char c = src[i];
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			 c == '.' || c == '-' || c == '_' || c == '+';
		dst[i] = ok ? c : '_';
	}
	dst[i] = 0;
}

static void partial_from_run(struct partial *p, const struct mn_board *b,
			     const struct mn_profile_opts *o)
{
	const struct mn_board_info *in = mn_board_info(b);
	memset(p, 0, sizeof *p);
	clean_name(p->board, sizeof p->board, in->board);
	clean_name(p->fw_version, sizeof p->fw_version, in->fw_version);
	p->protocol = in->hello.proto_version;
	p->timing_kind = in->hello.timing_kind;
	p->count_hz = in->hello.count_hz;
	p->core_hz = in->hello.core_hz;
	p->channels = o->shape.channels;
	p->cells = o->shape.cells;
	p->resolution = o->shape.height;
	p->width = mn_shape_width(&o->shape);
	p->input_channels = mn_shape_input_channels(&o->shape);
	p->classes = o->shape.classes;
	p->repeats = o->repeats;
	p->seed = o->seed;
}

static int partial_write_fn(FILE *f, void *user)
{
	const struct partial *p = user;
	char name[64];
	if (fprintf(f,
		    "; micronas profile: measurements so far (timing units), kept so that an\n"
		    "; interrupted run resumes.  Run the same command again to continue;\n"
		    "; delete this file to start over.\n"
		    "[meta]\nboard = %s\nfw_version = %s\nprotocol = %lu\ntiming_kind = %lu\n"
		    "count_hz = %lu\ncore_hz = %lu\nchannels = %ld\ncells = %ld\nresolution = %ld\n"
		    "width = %ld\ninput_channels = %ld\n"
		    "classes = %ld\nrepeats = %ld\nseed = %" PRIu64 "\n[units]\n",
		    p->board, p->fw_version, p->protocol, p->timing_kind, p->count_hz, p->core_hz,
		    p->channels, p->cells, p->resolution, p->width, p->input_channels, p->classes,
		    p->repeats, p->seed) < 0)
		return -1;
	for (int i = 0; i < MN_PROFILE_ITEMS; i++) {
		if (!p->have[i])
			continue;
		item_name(i, name, sizeof name);
		if (fprintf(f, "%s = %" PRIu64 "\n", name, p->units[i]) < 0)
			return -1;
	}
	return 0;
}

struct partial_read {
	struct partial *p;
	const char *path;
};

static int partial_entry(void *user, const char *section, const char *key, const char *value,
			 int line, char *err, size_t errn)
{
	struct partial_read *r = user;
	struct partial *p = r->p;
	char what[4400];
	long v;

	snprintf(what, sizeof what, "%s:%d: [%s] %s", r->path, line, section, key);
	if (!strcmp(section, "meta")) {
		struct {
			const char *key;
			long *l;
			unsigned long *u;
		} nums[] = {
			{"channels", &p->channels, NULL}, {"cells", &p->cells, NULL},
			{"resolution", &p->resolution, NULL}, {"classes", &p->classes, NULL},
			{"width", &p->width, NULL}, {"input_channels", &p->input_channels, NULL},
			{"repeats", &p->repeats, NULL}, {"protocol", NULL, &p->protocol},
			{"timing_kind", NULL, &p->timing_kind}, {"count_hz", NULL, &p->count_hz},
			{"core_hz", NULL, &p->core_hz},
		};
		p->meta_seen = 1;
		if (!strcmp(key, "board")) {
			snprintf(p->board, sizeof p->board, "%s", value);
			return 0;
		}
		if (!strcmp(key, "fw_version")) {
			snprintf(p->fw_version, sizeof p->fw_version, "%s", value);
			return 0;
		}
		if (!strcmp(key, "seed"))
			return mn_ini_u64(what, value, &p->seed, err, errn);
		for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
			if (strcmp(key, nums[i].key))
				continue;
			if (mn_ini_int(what, value, 0, 4294967295L, &v, err, errn) != 0)
				return -1;
			if (nums[i].l)
				*nums[i].l = v;
			else
				*nums[i].u = (unsigned long)v;
			return 0;
		}
	} else if (!strcmp(section, "units")) {
		char name[64];
		for (int i = 0; i < MN_PROFILE_ITEMS; i++) {
			item_name(i, name, sizeof name);
			if (strcmp(key, name))
				continue;
			if (mn_ini_u64(what, value, &p->units[i], err, errn) != 0)
				return -1;
			p->have[i] = 1;
			return 0;
		}
	}
	snprintf(err, errn, "%s: unknown entry (delete the partial file to start over)", what);
	return -1;
}

/* 1 if the partial file exists and was loaded, 0 if there is none, -1 on
 * error (unreadable, malformed, or made for another run). */
static int partial_load(const char *path, const struct partial *want, struct partial *got,
			char *err, size_t errn)
{
	struct partial_read r = {got, path};
	char diff[200] = "";

	if (access(path, F_OK) != 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errn, "%s: cannot check it: %s (check the directory's permissions)",
			 path, strerror(errno));
		return -1;
	}
	memset(got, 0, sizeof *got);
	if (mn_ini_parse(path, partial_entry, NULL, &r, NULL, err, errn) != 0)
		return -1;
	/* Files from before non-square and grayscale profiling: R x R x 3. */
	if (got->width == 0)
		got->width = got->resolution;
	if (got->input_channels == 0)
		got->input_channels = 3;
	if (strcmp(got->board, want->board))
		snprintf(diff, sizeof diff, "board %s, now %s", got->board, want->board);
	else if (strcmp(got->fw_version, want->fw_version))
		snprintf(diff, sizeof diff, "firmware %s, now %s", got->fw_version, want->fw_version);
	else if (got->protocol != want->protocol || got->timing_kind != want->timing_kind ||
		 got->count_hz != want->count_hz || got->core_hz != want->core_hz)
		snprintf(diff, sizeof diff, "another timer or clock (%lu Hz at %lu Hz, now %lu at %lu)",
			 got->count_hz, got->core_hz, want->count_hz, want->core_hz);
	else if (got->channels != want->channels || got->cells != want->cells ||
		 got->resolution != want->resolution || got->width != want->width ||
		 got->input_channels != want->input_channels || got->classes != want->classes)
		snprintf(diff, sizeof diff, "network C=%ld N=%ld %ldx%ldx%ld K=%ld, now C=%ld N=%ld "
			 "%ldx%ldx%ld K=%ld", got->channels, got->cells, got->resolution, got->width,
			 got->input_channels, got->classes, want->channels, want->cells,
			 want->resolution, want->width, want->input_channels, want->classes);
	else if (got->repeats != want->repeats)
		snprintf(diff, sizeof diff, "--repeats %ld, now %ld", got->repeats, want->repeats);
	else if (got->seed != want->seed)
		snprintf(diff, sizeof diff, "seed %" PRIu64 ", now %" PRIu64, got->seed, want->seed);
	if (diff[0]) {
		snprintf(err, errn,
			 "%s holds measurements of another run (%s): run with the same settings to "
			 "resume, or delete it to start over", path, diff);
		return -1;
	}
	return 1;
}

/* ---- The table ----------------------------------------------------------- */

static void build_table(const struct mn_board *b, const struct mn_profile_opts *o,
			const struct partial *p, struct mn_latency_table *t,
			struct mn_profile_result *res)
{
	const struct mn_board_info *in = mn_board_info(b);
	double sum = 0;

	memset(t, 0, sizeof *t);
	snprintf(t->board, sizeof t->board, "%s", p->board);
	if (mn_board_is_emulated(b))
		snprintf(t->source, sizeof t->source,
			 "micronas profile on %s fw %s: INSTRUCTION-BASED (QEMU -icount shift=0, 1 "
			 "unit = 1 instruction), not STM32 cycles, median of %d runs",
			 p->board, p->fw_version, o->repeats);
	else
		snprintf(t->source, sizeof t->source,
			 "micronas profile on %s fw %s: measured clock cycles at %.0f MHz, median of %d "
			 "runs", p->board, p->fw_version, in->hello.core_hz / 1e6, o->repeats);
	t->clock_mhz = in->hello.core_hz / 1e6;
	t->channels = o->shape.channels;
	t->cells = o->shape.cells;
	t->height = o->shape.height;
	t->width = mn_shape_width(&o->shape);
	t->input_channels = mn_shape_input_channels(&o->shape);
	t->classes = o->shape.classes;
	for (int s = 0; s < MN_STAGES; s++) {
		for (int k = 0; k < 4; k++)
			t->op_us[s][stage_ops[k]] = mn_board_units_to_us(b, p->units[5 * s + k]);
		t->add_us[s] = mn_board_units_to_us(b, p->units[5 * s + 4]);
	}
	t->stem_us = mn_board_units_to_us(b, p->units[ITEM_STEM]);
	t->reduction_us[0] = mn_board_units_to_us(b, p->units[ITEM_RED1]);
	t->reduction_us[1] = mn_board_units_to_us(b, p->units[ITEM_RED2]);
	t->head_us = mn_board_units_to_us(b, p->units[ITEM_HEAD]);
	t->overhead_us = 0;
	for (int k = 0; k < MN_PROFILE_CALIB_ARCHS; k++) {
		struct mn_arch a;
		struct mn_parse_error pe;
		double r = 0;
		if (mn_arch_parse(calib_archs[k], &a, &pe) == 0)
			r = mn_board_units_to_us(b, p->units[ITEM_CALIB + k]) - mn_latency_arch_us(t, &a);
		res->calib_residual_us[k] = r;
		sum += r;
	}
	sum /= MN_PROFILE_CALIB_ARCHS;
	t->overhead_us = sum > 0 ? sum : 0;
}

static void table_comment(const struct mn_board *b, const struct mn_profile_opts *o,
			  const struct mn_profile_result *res, const struct mn_latency_table *t,
			  char *buf, size_t n)
{
	const struct mn_board_info *in = mn_board_info(b);
	size_t len;
	len = (size_t)snprintf(
		buf, n,
		"micronas latency table, MEASURED by 'micronas profile' over %s.\n"
		"Board %s, firmware %s, protocol %u; timer %u Hz, core %u Hz.\n"
		"%s\n"
		"Each op: PROFILE_OP at the stage's shape, median of %d timed runs after a warm-up.\n"
		"skip_connect = a no-op kernel call; add = one two-input node addition.\n"
		"overhead = mean over %d calibration archs of (RUN_ARCH measured total - this table's\n"
		"estimate of the arch without overhead), clamped at 0. Residuals (us):",
		mn_board_port(b), in->board, in->fw_version, in->hello.proto_version,
		in->hello.count_hz, in->hello.core_hz,
		mn_board_is_emulated(b)
			? "Timing is INSTRUCTION-BASED (QEMU -icount shift=0: 1 ns per instruction), "
			  "NOT STM32 cycles."
			: "Timing is in core clock cycles (DWT cycle counter), converted to us.",
		o->repeats, MN_PROFILE_CALIB_ARCHS);
	for (int k = 0; k < MN_PROFILE_CALIB_ARCHS && len < n; k++)
		len += (size_t)snprintf(buf + len, n - len, " %.3f", res->calib_residual_us[k]);
	if (len < n)
		snprintf(buf + len, n - len, " -> overhead %.3f us.", t->overhead_us);
}

/* ---- File names ------------------------------------------------------------ */

char *mn_profile_partial_path(const struct mn_profile_opts *o)
{
	if (o->partial && *o->partial)
		return strdup(o->partial);
	size_t n = strlen(o->output);
	char *s = malloc(n + sizeof ".partial");
	if (s) {
		memcpy(s, o->output, n);
		memcpy(s + n, ".partial", sizeof ".partial");
	}
	return s;
}

char *mn_profile_table_name(const char *board)
{
	static const char suffix[] = "-latency.ini";
	size_t n = 0;
	if (!board || !*board)
		board = "board";
	/* Board names are short (16 bytes in HELLO); 64 keeps any name sane. */
	while (n < 64 && board[n])
		n++;
	char *s = malloc(n + sizeof suffix);
	if (!s)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		char c = board[i];
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			 c == '-' || c == '_' || c == '.';
		s[i] = ok ? c : '_';
	}
	memcpy(s + n, suffix, sizeof suffix);
	return s;
}

/* ---- The run ------------------------------------------------------------- */

static int run(struct mn_board *b, const struct mn_profile_opts *o, const char *partial,
	       struct mn_latency_table *tout, struct mn_profile_result *res, int *board_rc,
	       char *err, size_t errn)
{
	struct partial want, p;
	struct mn_latency_table t;
	char name[64], comment[2048];
	int lr;

	*board_rc = 0;
	memset(res, 0, sizeof *res);
	res->total = MN_PROFILE_ITEMS;
	if (o->repeats < 1 || o->repeats > (int)MNP_MAX_REPEATS) {
		snprintf(err, errn, "repeats %d: the firmware times 1..%u runs per op", o->repeats,
			 MNP_MAX_REPEATS);
		return -1;
	}
	/* The network must be one the firmware can run (the same limits as
	 * RUN_ARCH, which the calibration uses). */
	{
		struct mn_arch a;
		struct mn_parse_error pe;
		struct mnp_run_req rq;
		if (mn_arch_parse(calib_archs[0], &a, &pe) != 0 ||
		    mn_validate_request(&a, &o->shape, o->seed, &rq, NULL, err, errn) != 0)
			return -1;
	}

	partial_from_run(&want, b, o);
	lr = partial_load(partial, &want, &p, err, errn);
	if (lr < 0)
		return -1;
	if (lr == 0) {
		p = want;
	} else {
		for (int i = 0; i < MN_PROFILE_ITEMS; i++)
			res->resumed += p.have[i];
	}
	/* Written before the first measurement, so a directory that cannot
	 * hold it fails now rather than after minutes of profiling. */
	if (mn_atomic_write(partial, partial_write_fn, &p, err, errn) != 0)
		return -1;

	for (int i = 0; i < MN_PROFILE_ITEMS; i++) {
		int r;
		if (p.have[i])
			continue;
		item_name(i, name, sizeof name);
		if (o->progress)
			o->progress(o->progress_arg, res->resumed + res->measured, MN_PROFILE_ITEMS,
				    name);
		if (i < ITEM_CALIB) {
			struct mnp_profile_req rq;
			struct mnp_profile_reply rp;
			item_request(o, i, &rq);
			r = mn_board_profile_op(b, &rq, &rp, err, errn);
			if (r == MN_BOARD_OK)
				p.units[i] = rp.median;
		} else {
			struct mn_arch a;
			struct mn_parse_error pe;
			struct mnp_run_req rq;
			struct mnp_run_reply rp;
			if (mn_arch_parse(calib_archs[i - ITEM_CALIB], &a, &pe) != 0 ||
			    mn_validate_request(&a, &o->shape, o->seed, &rq, NULL, err, errn) != 0)
				return -1;
			r = mn_board_run_arch(b, &rq, &rp, err, errn);
			if (r == MN_BOARD_OK)
				p.units[i] = rp.cycles;
		}
		if (r != MN_BOARD_OK) {
			*board_rc = r;
			/* A file without a measurement keeps nothing, and would
			 * refuse the next run on another board or firmware (the
			 * right one, after this one refused its first request). */
			if (res->resumed + res->measured == 0)
				unlink(partial);
			return -1;
		}
		p.have[i] = 1;
		res->measured++;
		if (mn_atomic_write(partial, partial_write_fn, &p, err, errn) != 0)
			return -1;
	}
	if (o->progress)
		o->progress(o->progress_arg, MN_PROFILE_ITEMS, MN_PROFILE_ITEMS, NULL);

	build_table(b, o, &p, &t, res);
	table_comment(b, o, res, &t, comment, sizeof comment);
	if (mn_latency_table_write(&t, o->output, comment, err, errn) != 0)
		return -1;
	/* The table holds everything now; a partial file left behind would
	 * only be resumed into the same table. */
	if (unlink(partial) != 0 && errno != ENOENT) {
		snprintf(err, errn, "%s written, but %s could not be removed: %s (delete it by hand)",
			 o->output, partial, strerror(errno));
		return -1;
	}
	if (tout)
		*tout = t;
	return 0;
}

int mn_profile_run(struct mn_board *b, const struct mn_profile_opts *o,
		   struct mn_latency_table *tout, struct mn_profile_result *res, int *board_rc,
		   char *err, size_t errn)
{
	char *partial = mn_profile_partial_path(o);
	if (!partial) {
		*board_rc = 0;
		memset(res, 0, sizeof *res);
		res->total = MN_PROFILE_ITEMS;
		snprintf(err, errn, "out of memory");
		return -1;
	}
	int rc = run(b, o, partial, tout, res, board_rc, err, errn);
	free(partial);
	return rc;
}

int mn_profile_table_firmware(const struct mn_latency_table *t, char *ver, size_t n)
{
	static const char prefix[] = "micronas profile on ";
	const char *src = t->source;
	if (n == 0 || strncmp(src, prefix, sizeof prefix - 1) != 0)
		return -1;
	/* the version ends at the first ": " (board names and versions are
	 * cleaned of blanks and colons when the table is written); the last
	 * " fw " before it starts it */
	const char *end = strstr(src, ": ");
	if (!end)
		return -1;
	const char *fw = NULL;
	for (const char *p = src + sizeof prefix - 1; p + 4 <= end; p++)
		if (!strncmp(p, " fw ", 4))
			fw = p + 4;
	if (!fw || fw >= end || (size_t)(end - fw) >= n)
		return -1;
	memcpy(ver, fw, (size_t)(end - fw));
	ver[end - fw] = '\0';
	return 0;
}

int mn_profile_table_stale(const struct mn_latency_table *t, const char *fw, char *msg, size_t n)
{
	char ver[MN_LAT_TEXT], now[MN_LAT_TEXT];
	if (!fw || !*fw || mn_profile_table_firmware(t, ver, sizeof ver) != 0)
		return 0;
	clean_name(now, sizeof now, fw); /* as the table wrote it */
	/* the release, before any build suffix: "0.2.0-model" (the deployed
	 * model's image) runs 0.2.0's kernels */
	size_t rel = strcspn(ver, "-");
	if (rel == strcspn(now, "-") && !strncmp(ver, now, rel))
		return 0;
	snprintf(msg, n, "the latency table was profiled on firmware %s and the board runs %s, "
		 "whose kernels may take other times: run 'micronas profile' again for estimates "
		 "of this firmware", ver, now);
	return 1;
}
