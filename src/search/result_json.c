#include "search/result_json.h"

#include "space/arch.h"

const char *mn_edge_name(int edge)
{
	static const char *const names[MN_EDGES] = {"1<-0", "2<-0", "2<-1", "3<-0", "3<-1", "3<-2"};
	return edge >= 0 && edge < MN_EDGES ? names[edge] : "?";
}

int mn_json_write_string(FILE *f, const char *s)
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

/* The candidates pruned in one round, in edge order. */
static int write_pruned(FILE *f, const struct mn_round *rd)
{
	int first = 1;
	for (int e = 0; e < MN_EDGES; e++) {
		if (rd->pruned_op[e] < 0)
			continue;
		for (int i = 0; i < rd->n; i++) {
			const struct mn_candidate *c = &rd->cand[i];
			if (c->edge != e || c->op != rd->pruned_op[e])
				continue;
			if (fprintf(f,
				    "%s{\"edge\":\"%s\",\"op\":\"%s\",\"dk\":%.6g,\"dr\":%.6g,"
				    "\"rank_ntk\":%d,\"rank_lr\":%d,\"rank_flops\":%d,"
				    "\"rank_latency\":%d,\"score\":%g}",
				    first ? "" : ",", mn_edge_name(e), mn_op_name(c->op), c->dk, c->dr,
				    c->rank_ntk, c->rank_lr, c->rank_flops, c->rank_latency,
				    c->score) < 0)
				return -1;
			first = 0;
		}
	}
	return 0;
}

int mn_json_write_weights_limits(FILE *f, double w_flops, double w_latency,
				 const struct mn_constraints *limits)
{
	return fprintf(f,
		       ",\"weights\":{\"flops\":%g,\"latency\":%g},"
		       "\"limits\":{\"max_latency_ms\":%g,\"max_sram_kb\":%g,\"max_flash_kb\":%g}",
		       w_flops, w_latency, limits->max_latency_ms, limits->max_sram_kb,
		       limits->max_flash_kb) < 0
		       ? -1
		       : 0;
}

int mn_result_json_write(FILE *f, const struct mn_engine_snapshot *s, uint64_t seed,
			 const struct mn_oracle *oracle)
{
	char arch[MN_ARCH_STRLEN];
	mn_arch_format(&s->result, arch, sizeof arch);
	if (fputs("{\"arch\":", f) == EOF || mn_json_write_string(f, arch) != 0)
		return -1;
	if (fprintf(f,
		    ",\"flops_m\":%.6f,\"params_m\":%.6f,\"latency_ms\":%.4f,\"sram_kb\":%.3f,"
		    "\"flash_kb\":%.3f,\"seconds\":%.3f,\"measured\":%d,\"seed\":%llu",
		    s->result_flops_m, s->result_params_m, s->result_latency_ms, s->result_sram_kb,
		    s->result_flash_kb, s->search_seconds, s->evaluations, (unsigned long long)seed) < 0 ||
	    mn_json_write_weights_limits(f, s->w_flops, s->w_latency, &s->limits) != 0 ||
	    fputs(",\"rounds\":[", f) == EOF)
		return -1;
	for (int r = 0; r < s->n_rounds; r++) {
		if (fprintf(f, "%s{\"round\":%d,\"pruned\":[", r ? "," : "", r + 1) < 0 ||
		    write_pruned(f, &s->rounds[r]) != 0 || fputs("]}", f) == EOF)
			return -1;
	}
	if (fputc(']', f) == EOF)
		return -1;
	if (oracle) {
		const struct mn_oracle_entry *o = mn_oracle_get(oracle, &s->result);
		int rc = o ? fprintf(f, ",\"oracle_acc\":%.4f", o->acc) : fprintf(f, ",\"oracle_acc\":null");
		if (rc < 0)
			return -1;
	}
	return fputs("}\n", f) == EOF ? -1 : 0;
}
