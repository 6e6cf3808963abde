/* Saving the pick: BASE.json with the keys of `micronas search --json`,
 * BASE.arch with the NAS-Bench-201 string, BASE.log with the session log.
 * Each file is replaced atomically, so an interrupted save leaves the old
 * file or the new one, never half of one. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "util/atomic_file.h"

/* A JSON string literal. */
static int json_string(FILE *f, const char *s)
{
	if (fputc('"', f) == EOF)
		return -1;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		int rc;
		if (c == '"' || c == '\\')
			rc = fprintf(f, "\\%c", c);
		else if (c < 0x20)
			rc = fprintf(f, "\\u%04x", c);
		else
			rc = fputc(c, f) == EOF ? -1 : 1;
		if (rc < 0)
			return -1;
	}
	return fputc('"', f) == EOF ? -1 : 0;
}

struct json_ctx {
	const struct tui_app *a;
};

static int write_json(FILE *f, void *user)
{
	const struct json_ctx *c = user;
	const struct tui_app *a = c->a;
	const struct mn_engine_snapshot *s = &a->done_snap;
	char arch[MN_ARCH_STRLEN];
	mn_arch_format(&s->result, arch, sizeof arch);
	if (fputs("{\"arch\":", f) == EOF || json_string(f, arch) != 0)
		return -1;
	if (fprintf(f,
		    ",\"flops_m\":%.6f,\"params_m\":%.6f,\"latency_ms\":%.4f,\"sram_kb\":%.3f,"
		    "\"flash_kb\":%.3f,\"seconds\":%.3f,\"measured\":%d,\"seed\":%llu,"
		    "\"weights\":{\"flops\":%g,\"latency\":%g},\"rounds\":[",
		    s->result_flops_m, s->result_params_m, s->result_latency_ms, s->result_sram_kb,
		    s->result_flash_kb, s->search_seconds, s->evaluations,
		    (unsigned long long)a->setup->preset.seed,
		    s->w_flops, s->w_latency) < 0)
		return -1;
	for (int r = 0; r < s->n_rounds; r++) {
		const struct mn_round *rd = &s->rounds[r];
		int first = 1;
		if (fprintf(f, "%s{\"round\":%d,\"pruned\":[", r ? "," : "", r + 1) < 0)
			return -1;
		for (int e = 0; e < MN_EDGES; e++) {
			if (rd->pruned_op[e] < 0)
				continue;
			for (int i = 0; i < rd->n; i++) {
				const struct mn_candidate *cd = &rd->cand[i];
				if (cd->edge != e || cd->op != rd->pruned_op[e])
					continue;
				if (fprintf(f,
					    "%s{\"edge\":\"%s\",\"op\":\"%s\",\"dk\":%.6g,\"dr\":%.6g,"
					    "\"rank_ntk\":%d,\"rank_lr\":%d,\"rank_flops\":%d,"
					    "\"rank_latency\":%d,\"score\":%g}",
					    first ? "" : ",", tui_edge_name(e), mn_op_name(cd->op), cd->dk,
					    cd->dr, cd->rank_ntk, cd->rank_lr, cd->rank_flops,
					    cd->rank_latency, cd->score) < 0)
					return -1;
				first = 0;
			}
		}
		if (fputs("]}", f) == EOF)
			return -1;
	}
	if (fputc(']', f) == EOF)
		return -1;
	if (a->have_oracle) {
		const struct mn_oracle_entry *o = mn_oracle_get(&a->oracle, &s->result);
		int rc = o ? fprintf(f, ",\"oracle_acc\":%.4f", o->acc) : fprintf(f, ",\"oracle_acc\":null");
		if (rc < 0)
			return -1;
	}
	return fputs("}\n", f) == EOF ? -1 : 0;
}

static int write_arch(FILE *f, void *user)
{
	const struct tui_app *a = user;
	char arch[MN_ARCH_STRLEN];
	mn_arch_format(&a->done_snap.result, arch, sizeof arch);
	return fprintf(f, "%s\n", arch) < 0 ? -1 : 0;
}

static int write_log(FILE *f, void *user)
{
	const struct tui_app *a = user;
	return tui_log_write(&a->log, f);
}

int tui_save(struct tui_app *a, const char *base, char *err, size_t errn)
{
	char path[MN_PRESET_PATH + 8];
	struct json_ctx c = {a};
	if (!a->have_done) {
		snprintf(err, errn, "nothing to save yet: run the search first");
		return -1;
	}
	if (strlen(base) + 6 > MN_PRESET_PATH) {
		snprintf(err, errn, "the name is too long");
		return -1;
	}
	/* The log first: the save itself is its last line. */
	char arch[MN_ARCH_STRLEN];
	mn_arch_format(&a->done_snap.result, arch, sizeof arch);
	tui_log_event(&a->log, "saved %s to %s.json, %s.arch and %s.log", arch, base, base, base);
	snprintf(path, sizeof path, "%s.json", base);
	if (mn_atomic_write(path, write_json, &c, err, errn) != 0)
		return -1;
	snprintf(path, sizeof path, "%s.arch", base);
	if (mn_atomic_write(path, write_arch, a, err, errn) != 0)
		return -1;
	snprintf(path, sizeof path, "%s.log", base);
	if (mn_atomic_write(path, write_log, a, err, errn) != 0)
		return -1;
	tui_message(a, 0, "saved %s.json, %s.arch and %s.log", base, base, base);
	return 0;
}
