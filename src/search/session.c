#include "search/session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "space/latency_model.h"

/* Synthetic images when no data is given: enough for any batch. */
#define MN_SYNTHETIC_IMAGES 1024

static void *worker_new(void *ctx, int index)
{
	struct mn_session *s = ctx;
	char err[200];
	(void)index;
	return mn_tenas_new(&s->tenas, &s->data, err, sizeof err);
}

static void worker_free(void *w) { mn_tenas_free(w); }

static int measure(void *worker, uint64_t seed, const uint8_t super[MN_EDGES], int edge, int op,
		   const atomic_int *cancel, double *dk, double *dr, char *err, size_t errn)
{
	return mn_tenas_candidate(worker, seed, super, edge, op, cancel, dk, dr, err, errn);
}

double mn_session_mask_ms(void *setup, const uint8_t mask[MN_EDGES])
{
	const struct mn_session *s = setup;
	return mn_latency_mixed_us(&s->table, mask) / 1000.0;
}

int mn_session_init(struct mn_session *s, const struct mn_preset *p, const char *data_path,
		  int threads, char *err, size_t errn)
{
	const struct mn_preset *pp = p;
	memset(s, 0, sizeof *s);
	s->preset = *pp;

	if (pp->latency_table[0]) {
		if (mn_latency_table_read(&s->table, pp->latency_table, err, errn) ||
		    mn_latency_table_check_network(&s->table, pp->latency_table, pp->channels,
						   pp->cells, pp->resolution, pp->classes, err, errn))
			return -1;
		snprintf(s->table_origin, sizeof s->table_origin, "%s", pp->latency_table);
	} else {
		if (mn_latency_model_nucleo(pp->channels, pp->cells, pp->resolution, pp->classes,
					    &s->table)) {
			snprintf(err, errn, "no latency model for C=%d N=%d R=%d", pp->channels,
				 pp->cells, pp->resolution);
			return -1;
		}
		snprintf(s->table_origin, sizeof s->table_origin,
			 "built-in Cortex-M7 cycle model (not measured)");
	}

	if (data_path) {
		if (mn_cifar_load(&s->data, data_path, err, errn))
			return -1;
	} else {
		if (mn_cifar_synthetic(&s->data, MN_SYNTHETIC_IMAGES, pp->seed, err, errn))
			return -1;
		snprintf(s->notice, sizeof s->notice, "%s", MN_CIFAR_SYNTHETIC_NOTICE);
	}

	mn_tenas_config_default(&s->tenas);
	s->tenas.batch = pp->batch;
	s->tenas.repeat = pp->repeat;
	s->tenas.init = pp->init;
	s->tenas.grad = pp->ntk_grad;
	s->tenas.classes = 10; /* the proxy networks are CIFAR-10's, as in TE-NAS */
	if ((size_t)pp->batch > s->data.count) {
		snprintf(err, errn, "batch %d is larger than the %zu images in %s (lower --batch)",
			 pp->batch, s->data.count, data_path ? data_path : "the synthetic set");
		mn_cifar_free(&s->data);
		return -1;
	}

	if (threads < 1) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		threads = n > 0 ? (int)n : 1;
	}
	/* Candidates are evaluated in parallel, one per worker; each worker's
	 * networks run on one thread (their default) and BLAS is kept
	 * single-threaded by the entry point (mn_blas_set_threads), so the
	 * workers do not compete. */
	s->search.shape = (struct mn_net_shape){pp->channels, pp->cells, pp->resolution, pp->classes};
	s->search.seed = pp->seed;
	s->search.w_flops = pp->w_flops;
	s->search.w_latency = pp->w_latency;
	s->search.limits = (struct mn_constraints){pp->max_latency_ms, pp->max_sram_kb, pp->max_flash_kb};
	s->search.runtime_flash_bytes = (uint64_t)(pp->runtime_flash_kb * 1024.0 + 0.5);
	s->search.threads = threads;

	struct mn_proxy_evaluator ev = {worker_new, worker_free, measure, s};
	struct mn_latency_model lat = {mn_session_mask_ms, s};
	s->engine = mn_engine_new(&s->search, &ev, &lat, err, errn);
	if (!s->engine) {
		mn_cifar_free(&s->data);
		return -1;
	}
	return 0;
}

void mn_session_free(struct mn_session *s)
{
	mn_engine_free(s->engine);
	s->engine = NULL;
	mn_cifar_free(&s->data);
}
