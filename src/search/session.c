#include "search/session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "space/latency_model.h"
#include "util/pool.h"
#include "data/dataset_source.h"

/* Synthetic images when no data is given: enough for any batch. */
#define MN_SYNTHETIC_IMAGES 1024

static void *worker_new(void *ctx, int index)
{
	struct mn_session *s = ctx;
	char err[200];
	(void)index;
	struct mn_tenas *t = mn_tenas_new(&s->tenas, &s->data, err, sizeof err);
	if (t)
		mn_tenas_set_k0_share(t, s->k0);
	return t;
}

static void worker_free(void *w) { mn_tenas_free(w); }

static int measure(void *worker, uint64_t seed, const uint8_t super[MN_EDGES], int edge, int op,
		   const atomic_int *cancel, double *dk, double *dr, char *err, size_t errn)
{
	return mn_tenas_candidate(worker, seed, super, edge, op, cancel, dk, dr, err, errn);
}

static void measured(void *ctx, const uint8_t super[MN_EDGES], int edge, int op, double dk, double dr)
{
	struct mn_session *s = ctx;
	if (s->cache)
		/* A failure is kept by the cache and reported when the search
		 * ends (mn_session_cache_write_error); the value stays in the
		 * engine's memory, so the search itself loses nothing. */
		(void)mn_eval_cache_put(s->cache, super, edge, op, dk, dr);
}

int mn_session_cache_write_error(struct mn_session *s, char *msg, size_t n)
{
	char why[400];
	if (n)
		msg[0] = '\0';
	if (!s->cache || !mn_eval_cache_error(s->cache, why, sizeof why))
		return 0;
	snprintf(msg, n, "%s; values measured after it are not kept for a rerun or resume "
		 "(free space there, or set XDG_CACHE_HOME to a writable directory)", why);
	return 1;
}

static void preload(void *ctx, const uint8_t super[MN_EDGES], int edge, int op, double dk, double dr)
{
	struct mn_session *s = ctx;
	if (mn_engine_preload(s->engine, super, edge, op, dk, dr) == 0)
		s->cache_loaded++;
}

void mn_session_cache_key(const struct mn_session *s, char *key, size_t n)
{
	/* Everything a proxy value depends on, the weights and limits aside. */
	uint64_t h = mn_dataset_fingerprint(&s->data);
	snprintf(key, n,
		 "micronas evaluation cache %d; proxy tenas: batch %d, repeat %d, regions %d x %d, "
		 "init %d, grad %d, classes %d; seed %llu; data %zu images, fingerprint %016llx",
		 MN_EVAL_CACHE_VERSION, s->tenas.batch, s->tenas.repeat, s->tenas.regions_samples,
		 s->tenas.regions_batches, (int)s->tenas.init, (int)s->tenas.grad, s->tenas.classes,
		 (unsigned long long)s->search.seed, s->data.count, (unsigned long long)h);
}

double mn_session_mask_ms(void *setup, const uint8_t mask[MN_EDGES])
{
	const struct mn_session *s = setup;
	return mn_latency_mixed_us(&s->table, mask) / 1000.0;
}

int mn_session_fit_to_data(struct mn_preset *p, const struct mn_dataset *d, const char *path,
			   char *notice, size_t nn, char *err, size_t errn)
{
	int h, w;
	notice[0] = '\0';
	mn_dataset_proxy_size(d, &h, &w);
	if (h < 4 || h > 1024 || w < 4 || w > 1024 || d->classes < 1 || d->classes > 100000 ||
	    d->channels > 4096) {
		snprintf(err, errn, "%s: %dx%dx%d images, %d classes: the network takes 4..1024 pixels a side, 1..4096 channels and 1..100000 classes (give other data)",
			 path, d->height, d->width, d->channels, d->classes);
		return -1;
	}
	if (p->height == h && p->width == w && p->classes == d->classes &&
	    p->input_channels == d->channels)
		return 0;
	snprintf(notice, nn, "network input %dx%dx%d, %d classes, from the data %s (the preset had %dx%dx%d, %d classes)",
		 h, w, d->channels, d->classes, path, p->height, p->width, p->input_channels,
		 p->classes);
	p->height = h;
	p->width = w;
	p->classes = d->classes;
	p->input_channels = d->channels;
	p->set |= 1u << MN_PF_RESOLUTION | 1u << MN_PF_CLASSES | 1u << MN_PF_INPUT_CHANNELS;
	snprintf(p->origin[MN_PF_RESOLUTION], sizeof p->origin[0], "--data");
	snprintf(p->origin[MN_PF_CLASSES], sizeof p->origin[0], "--data");
	snprintf(p->origin[MN_PF_INPUT_CHANNELS], sizeof p->origin[0], "--data");
	/* The preset's table was made for the preset's own network, not for
	 * the data's input: the built-in model is the honest fallback. */
	struct mn_latency_table t;
	char e[320];
	if (p->latency_table && mn_latency_table_read(&t, p->latency_table, e, sizeof e) == 0 &&
	    (mn_latency_table_check_network(&t, p->latency_table, p->channels, p->cells, p->height,
					    p->width, p->classes, e, sizeof e) != 0 ||
	     mn_latency_table_check_input(&t, p->latency_table, p->input_channels ? p->input_channels : 3,
					  e, sizeof e) != 0)) {
		size_t k = strlen(notice);
		snprintf(notice + k, nn - k, "; the latency table %s is not for %dx%dx%d, %d classes: using the built-in cycle model",
			 p->latency_table, p->height, p->width, p->input_channels ? p->input_channels : 3,
			 p->classes);
		free(p->latency_table);
		p->latency_table = NULL;
	}
	return 0;
}

static int session_init(struct mn_session *s, const struct mn_preset *p, const char *data_path,
			int threads, const char *cache_dir, char *err, size_t errn)
{
	const struct mn_preset *pp = p;
	memset(s, 0, sizeof *s);
	if (mn_preset_copy(&s->preset, pp, NULL) != 0) {
		snprintf(err, errn, "out of memory");
		return -1;
	}

	if (data_path) {
		if (mn_dataset_load(&s->data, data_path, err, errn))
			return -1;
		if (mn_session_fit_to_data(&s->preset, &s->data, data_path, s->notice,
					   sizeof s->notice, err, errn)) {
			mn_dataset_free(&s->data);
			return -1;
		}
	} else {
		/* At the preset's input, so the proxies see what the network
		 * will (the default preset's is CIFAR-10's 32x32x3). */
		if (mn_dataset_synthetic_shape(&s->data, MN_SYNTHETIC_IMAGES, pp->height,
					       pp->width, pp->input_channels, pp->classes,
					       pp->seed, err, errn))
			return -1;
		snprintf(s->notice, sizeof s->notice, "%s", MN_DATASET_SYNTHETIC_NOTICE);
	}
	pp = &s->preset;

	if (pp->latency_table) {
		if (mn_latency_table_read(&s->table, pp->latency_table, err, errn) ||
		    mn_latency_table_check_network(&s->table, pp->latency_table, pp->channels,
						   pp->cells, pp->height, pp->width, pp->classes, err,
						   errn) ||
		    mn_latency_table_check_input(&s->table, pp->latency_table,
						 pp->input_channels ? pp->input_channels : 3, err, errn)) {
			mn_dataset_free(&s->data);
			return -1;
		}
		snprintf(s->table_origin, sizeof s->table_origin, "%s", pp->latency_table);
	} else {
		if (mn_latency_model_nucleo(pp->channels, pp->cells, pp->height, pp->width,
					    pp->classes, &s->table)) {
			snprintf(err, errn, "no latency model for C=%d N=%d %dx%d", pp->channels,
				 pp->cells, pp->height, pp->width);
			mn_dataset_free(&s->data);
			return -1;
		}
		snprintf(s->table_origin, sizeof s->table_origin,
			 "built-in Cortex-M7 cycle model (not measured)");
		/* The model's stem takes RGB; another input changes its cost. */
		if (pp->input_channels != 3)
			s->table.stem_us = mn_latency_model_stem_us(&mn_cycle_model_cortex_m7, s->table.clock_mhz,
								    pp->input_channels, pp->channels,
								    pp->height, pp->width);
	}

	mn_tenas_config_default(&s->tenas);
	s->tenas.batch = pp->batch;
	s->tenas.repeat = pp->repeat;
	s->tenas.init = pp->init;
	s->tenas.grad = pp->ntk_grad;
	s->tenas.az_channels = pp->az_channels;
	s->tenas.az_cells = pp->az_cells;
	s->tenas.all_proxies = pp->all_proxies;
	/* The proxy networks end in the data's classes, as TE-NAS's do (10 for
	 * CIFAR-10 and the synthetic set). */
	s->tenas.classes = s->data.classes;
	if ((size_t)pp->batch > s->data.count) {
		snprintf(err, errn, "batch %d is larger than the %zu images in %s (lower --batch)",
			 pp->batch, s->data.count, data_path ? data_path : "the synthetic set");
		mn_dataset_free(&s->data);
		return -1;
	}
	/* The data's shape must suit the proxy networks: say so now, in one
	 * line, rather than from inside a worker. */
	struct mn_tenas *probe = mn_tenas_new(&s->tenas, &s->data, err, errn);
	if (!probe) {
		mn_dataset_free(&s->data);
		return -1;
	}
	mn_tenas_free(probe);

	threads = mn_threads_or_all(threads);
	/* Candidates are evaluated in parallel, one per worker; each worker's
	 * networks run on one thread (their default) and BLAS is kept
	 * single-threaded by the entry point (mn_blas_set_threads), so the
	 * workers do not compete. */
	s->search.shape = (struct mn_net_shape){pp->channels, pp->cells, pp->height, pp->classes,
						pp->input_channels, pp->width};
	s->search.seed = pp->seed;
	s->search.w_flops = pp->w_flops;
	s->search.w_latency = pp->w_latency;
	s->search.limits = (struct mn_constraints){pp->max_latency_ms, pp->max_sram_kb, pp->max_flash_kb};
	s->search.runtime_flash_bytes = (uint64_t)(pp->runtime_flash_kb * 1024.0 + 0.5);
	s->search.threads = threads;

	/* one K(supernet) per round and repeat for all the workers; without
	 * the board (out of memory) each worker computes its own, as before */
	s->k0 = mn_k0_share_new(s->tenas.repeat);
	struct mn_proxy_evaluator ev = {worker_new, worker_free, measure, s, measured};
	struct mn_latency_model lat = {mn_session_mask_ms, s};
	s->engine = mn_engine_new(&s->search, &ev, &lat, err, errn);
	if (!s->engine) {
		mn_k0_share_free(s->k0);
		s->k0 = NULL;
		mn_dataset_free(&s->data);
		return -1;
	}
	if (!cache_dir || cache_dir[0]) {
		char key[512], cerr[400];
		mn_session_cache_key(s, key, sizeof key);
		s->cache = mn_eval_cache_open(cache_dir, key, preload, s, s->cache_notice,
					      sizeof s->cache_notice, cerr, sizeof cerr);
		if (!s->cache)
			snprintf(s->cache_notice, sizeof s->cache_notice,
				 "%s; searching without a persistent cache", cerr);
	}
	return 0;
}


int mn_session_init_cache(struct mn_session *s, const struct mn_preset *p, const char *data_path,
			  int threads, const char *cache_dir, char *err, size_t errn)
{
	if (session_init(s, p, data_path, threads, cache_dir, err, errn) != 0) {
		mn_preset_free(&s->preset); /* s is empty again */
		return -1;
	}
	return 0;
}

int mn_session_init(struct mn_session *s, const struct mn_preset *p, const char *data_path,
		  int threads, char *err, size_t errn)
{
	return mn_session_init_cache(s, p, data_path, threads, NULL, err, errn);
}

void mn_session_free(struct mn_session *s)
{
	mn_engine_free(s->engine); /* joins the workers before the cache goes */
	s->engine = NULL;
	mn_k0_share_free(s->k0); /* the workers are gone */
	s->k0 = NULL;
	mn_eval_cache_close(s->cache);
	s->cache = NULL;
	mn_dataset_free(&s->data);
	mn_preset_free(&s->preset);
}
