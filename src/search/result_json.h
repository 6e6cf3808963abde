/* A finished search as one line of JSON: what `micronas search --json`
 * prints and the TUI's save writes to BASE.json, so the two cannot drift:
 *
 *   {"arch":"|...|","flops_m":..,"params_m":..,"latency_ms":..,"sram_kb":..,
 *    "flash_kb":..,"seconds":..,"seed":N,"weights":{"flops":..,"latency":..},
 *    "limits":{"max_latency_ms":..,"max_sram_kb":..,"max_flash_kb":..},"rounds":[{"round":1,"pruned":[{"edge":"1<-0","op":"none","dk":..,
 *    "dr":..,"rank_ntk":..,"rank_lr":..,"rank_flops":..,"rank_latency":..,
 *    "score":..},...]},...],"oracle_acc":..}
 *
 * oracle_acc only with an oracle (null when the arch is not in it). */
#ifndef MN_RESULT_JSON_H
#define MN_RESULT_JSON_H

#include <stdint.h>
#include <stdio.h>

#include "data/oracle.h"
#include "search/engine.h"

/* An edge by its nodes, "1<-0" .. "3<-2" (the NB201 string's order); "?"
 * out of range. */
const char *mn_edge_name(int edge);

/* A JSON string literal with '"', '\\' and control characters escaped.
 * Returns 0, or -1 when writing failed. */
int mn_json_write_string(FILE *f, const char *s);

/* ,"weights":{...},"limits":{...} (0: no limit): the members every pick's
 * JSON has, the atlas's (search --method atlas) as this one's.  Returns 0,
 * or -1 when writing failed. */
int mn_json_write_weights_limits(FILE *f, double w_flops, double w_latency,
				 const struct mn_constraints *limits);

/* Writes s's result (s->state must be MN_ENGINE_DONE) and a newline.
 * oracle may be NULL.  Returns 0, or -1 when writing failed. */
int mn_result_json_write(FILE *f, const struct mn_engine_snapshot *s, uint64_t seed,
			 const struct mn_oracle *oracle);

#endif
