/* A cancel honoured inside a proxy computation: the NTK's per-sample
 * backwards and the linear-region count poll the network's cancel flag,
 * return a cancelled status, leave the network usable, and a search
 * cancelled mid-NTK stores no value in the persistent evaluation cache. */
#include <dirent.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "nn/blas.h"
#include "nn/net.h"
#include "proxy/linear_regions.h"
#include "search/session.h"
#include "util/pool.h"
#include "util/clock.h"
#include "tap.h"

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* A background job: sets the flag after a delay, noting when. */
struct setter {
	atomic_int *flag;
	int delay_ms;
	double at;
};

static void set_later(void *ctx, int worker)
{
	struct setter *s = ctx;
	(void)worker;
	sleep_ms(s->delay_ms);
	atomic_store(s->flag, 1);
	s->at = mn_now_s(); /* after the store: at < the NTK's end means it was set in time */
}

static void ntk_checks(struct mn_pool *bg)
{
	struct mn_net_config cfg;
	struct mn_rng r;
	mn_net_config_ntk(&cfg);
	struct mn_net *net = mn_net_create(&cfg);
	unsigned char mask[MN_EDGES];
	for (int e = 0; e < MN_EDGES; e++)
		mask[e] = MN_MASK_NO_NONE;
	/* batch 48: one NTK takes far longer than the 20 ms before the cancel */
	const int B = 48;
	float *x = malloc(sizeof(float) * B * 3 * 32 * 32);
	if (!net || !x || mn_net_set_mask(net, mask) != 0) {
		tap_ok(0, "set-up");
		return;
	}
	mn_rng_seed(&r, 5);
	mn_net_init(net, &r, MN_INIT_CODE);
	for (int i = 0; i < B * 3 * 32 * 32; i++)
		x[i] = (float)mn_rng_normal(&r);

	double ref = 0, cond = 0, again = 0;
	int rc = mn_net_ntk_cond(net, x, B, MN_GRAD_EXACT, &ref, NULL, NULL);
	tap_ok(rc == 0 && isfinite(ref) && ref != MN_NTK_BAD_COND,
	       "without a flag the NTK runs to the end (cond %.6g)", ref);

	atomic_int flag;
	atomic_init(&flag, 0);
	mn_net_set_cancel(net, &flag);
	/* The flag is set 20 ms after the start by another thread.  On a
	 * loaded machine that thread may run only after the NTK has ended: a
	 * missed moment, not a failure, so that attempt is made again.  A
	 * flag set before the NTK returned must have stopped it. */
	int attempts = 0, missed = 0;
	struct setter st;
	double t0 = 0, t1 = 0;
	do {
		atomic_store(&flag, 0);
		st = (struct setter){&flag, 20, 0};
		t0 = mn_now_s();
		if (mn_pool_submit(bg, set_later, &st) != 0)
			break;
		rc = mn_net_ntk_cond(net, x, B, MN_GRAD_EXACT, &cond, NULL, NULL);
		t1 = mn_now_s();
		mn_pool_wait(bg);
		attempts++;
		missed = rc == 0 && st.at > t1;
	} while (missed && attempts < 5);
	tap_ok(attempts > 0 && !missed, "the cancel job set the flag while an NTK ran (%d attempt(s))",
	       attempts);
	tap_ok(rc == MN_NET_CANCELLED && cond == MN_NTK_BAD_COND,
	       "a cancel set mid-NTK returns the cancelled status and no value (rc %d)", rc);
	tap_diag("NTK batch %d: cancel set %.0f ms after the start, honoured %.1f ms later", B,
		 (st.at - t0) * 1e3, (t1 - st.at) * 1e3);

	atomic_store(&flag, 0);
	rc = mn_net_ntk_cond(net, x, B, MN_GRAD_EXACT, &again, NULL, NULL);
	tap_ok(rc == 0 && again == ref,
	       "with the flag cleared the same network gives the same value (%.9g vs %.9g)", again,
	       ref);

	atomic_store(&flag, 1);
	size_t W = mn_net_grad_width(net);
	float *G = malloc(sizeof(float) * B * W);
	rc = G ? mn_net_per_sample_grads(net, x, B, MN_GRAD_FIXED_STATS, G, W) : -1;
	tap_ok(rc == MN_NET_CANCELLED, "the fixed-stats gradients see a set flag too (rc %d)", rc);
	mn_net_set_cancel(net, NULL);
	rc = mn_net_ntk_cond(net, x, B, MN_GRAD_EXACT, &again, NULL, NULL);
	tap_ok(rc == 0 && again == ref, "no flag: the flag's value no longer matters");
	free(G);
	free(x);
	mn_net_free(net);
}

static void regions_checks(void)
{
	struct mn_net_config cfg;
	struct mn_rng r;
	mn_net_config_thin(&cfg);
	struct mn_net *net = mn_net_create(&cfg);
	const int nb = 500, nbatch = 3;
	float *x = malloc(sizeof(float) * nb * nbatch * 9);
	if (!net || !x || mn_net_set_mask(net, (unsigned char[MN_EDGES]){0x1e, 0x1e, 0x1e, 0x1e, 0x1e, 0x1e}) != 0) {
		tap_ok(0, "thin set-up");
		return;
	}
	mn_rng_seed(&r, 9);
	mn_net_init(net, &r, MN_INIT_CODE);
	for (int i = 0; i < nb * nbatch * 9; i++)
		x[i] = (float)mn_rng_normal(&r);
	long ref = mn_linear_regions_count(net, x, nb, nbatch);
	atomic_int flag;
	atomic_init(&flag, 1);
	mn_net_set_cancel(net, &flag);
	long c = mn_linear_regions_count(net, x, nb, nbatch);
	tap_ok(ref > 0 && c == MN_LR_CANCELLED, "the linear-region count returns cancelled (%ld)", c);
	atomic_store(&flag, 0);
	c = mn_linear_regions_count(net, x, nb, nbatch);
	tap_ok(c == ref, "and counts the same afterwards (%ld vs %ld)", c, ref);
	free(x);
	mn_net_free(net);
}

/* The evaluation-cache files in dir. */
static int cache_files(const char *dir)
{
	DIR *d = opendir(dir);
	int n = 0;
	struct dirent *e;
	while (d && (e = readdir(d)))
		n += strncmp(e->d_name, "eval-", 5) == 0;
	if (d)
		closedir(d);
	return n;
}

static void session_checks(void)
{
	char dir[] = "/tmp/test_cancel.XXXXXX", err[400];
	struct mn_preset p;
	struct mn_session s;
	if (!mkdtemp(dir)) {
		tap_ok(0, "temporary directory");
		return;
	}
	mn_preset_defaults(&p);
	/* synthetic data, the default batch: the first candidate needs at
	 * least four NTKs, so a cancel 30 ms after the start lands in one */
	if (mn_session_init_cache(&s, &p, NULL, 2, dir, err, sizeof err) != 0) {
		tap_ok(0, "session: %s", err);
		mn_preset_free(&p);
		return;
	}
	tap_ok(s.cache != NULL, "a persistent cache in %s", dir);
	double t0 = mn_now_s();
	tap_ok(mn_engine_start(s.engine) == 0, "search started");
	struct mn_engine_snapshot snap;
	do {
		sleep_ms(2);
		mn_engine_snapshot(s.engine, &snap);
	} while (snap.state == MN_ENGINE_RUNNING && mn_now_s() - t0 < 0.03);
	double tc = mn_now_s();
	mn_engine_cancel(s.engine);
	mn_engine_wait(s.engine);
	double te = mn_now_s();
	mn_engine_snapshot(s.engine, &snap);
	tap_ok(snap.state == MN_ENGINE_CANCELLED, "the search ends cancelled (state %d)", (int)snap.state);
	tap_diag("search cancelled %.0f ms after the start, stopped %.1f ms later", (tc - t0) * 1e3,
		 (te - tc) * 1e3);
	int stored = s.cache ? mn_eval_cache_count(s.cache) : -1;
	/* Normally the cancel lands in the first candidate and nothing is
	 * measured; a main thread stalled past a whole candidate (a loaded
	 * machine) lets some finish, and those are stored.  Either way the
	 * evaluations cut short leave nothing. */
	tap_ok(stored >= 0 && stored == snap.evaluations,
	       "no value of the cancelled evaluations is in the evaluation cache (%d stored, %d measured)",
	       stored, snap.evaluations);
	mn_session_free(&s);
	/* reopened, the file holds what was stored, nothing more */
	if (mn_session_init_cache(&s, &p, NULL, 1, dir, err, sizeof err) == 0) {
		tap_ok(s.cache_loaded == stored && cache_files(dir) == 1,
		       "reopened: %d values loaded (%d stored) from %d cache file(s)", s.cache_loaded, stored,
		       cache_files(dir));
		mn_session_free(&s);
	} else
		tap_ok(0, "session reopened: %s", err);
	mn_preset_free(&p);
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[600];
	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.') {
			snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
			unlink(path);
		}
	if (d)
		closedir(d);
	rmdir(dir);
}

int main(void)
{
	char err[200];
	mn_blas_set_threads(1);
	struct mn_pool *bg = mn_pool_new(1, err, sizeof err);
	if (!tap_ok(bg != NULL, "background job pool"))
		return tap_done();
	ntk_checks(bg);
	regions_checks();
	session_checks();
	mn_pool_free(bg);
	return tap_done();
}
