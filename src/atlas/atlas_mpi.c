#include "atlas/atlas_mpi.h"

#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/pool.h"

enum {
	TAG_REQ = 1,    /* worker -> 0: int, positions wanted */
	TAG_WORK = 2,   /* 0 -> worker: int pairs (position, arch); none = no more */
	TAG_RESULT = 3, /* worker -> 0: double position, then the proxy values */
	TAG_FAIL = 4,   /* worker -> 0: a one-line message */
	TAG_BYE = 5,    /* worker -> 0: done, nothing more will come */
	TAG_END = 6     /* 0 -> worker, exactly once: int 1 = stop now, cutting the
			 * archs in flight short; 0 = the answer to its BYE */
};

#define MAX_BATCH 64

int mn_atlas_mpi_launched(void)
{
	static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"};
	for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
		if (getenv(vars[i]))
			return 1;
	return 0;
}

int mn_atlas_mpi_env_rank(void)
{
	static const char *const vars[] = {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK"};
	for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
		const char *v = getenv(vars[i]);
		if (v && *v)
			return atoi(v);
	}
	return 0;
}

int mn_atlas_mpi_init(int *rank, int *size, char *err, size_t errn)
{
	int provided = 0;
	if (MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
		snprintf(err, errn, "MPI_Init_thread failed (run under mpirun or srun, or without them)");
		return -1;
	}
	if (provided < MPI_THREAD_FUNNELED) {
		snprintf(err, errn, "this MPI library does not allow threads (MPI_THREAD_FUNNELED)");
		MPI_Finalize();
		return -1;
	}
	MPI_Comm_rank(MPI_COMM_WORLD, rank);
	MPI_Comm_size(MPI_COMM_WORLD, size);
	return 0;
}

void mn_atlas_mpi_finalize(void) { MPI_Finalize(); }

int mn_atlas_mpi_all_ok(int ok)
{
	int mine = ok ? 1 : 0, all = 0;
	MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
	return all;
}

/* ---- rank 0 ---- */

struct master {
	int size;
	int byes;             /* ranks that said they are done */
	unsigned char ended[]; /* [size]: rank r has been sent its TAG_END */
};

size_t mn_atlas_mpi_master_size(int size) { return sizeof(struct master) + (size > 0 ? (size_t)size : 0); }

/* Every rank gets one TAG_END, and receives it before it leaves: no
 * message is left unreceived at MPI_Finalize. */
static void send_end(struct master *m, int rank, int stop_now)
{
	if (m->ended[rank])
		return;
	m->ended[rank] = 1;
	MPI_Send(&stop_now, 1, MPI_INT, rank, TAG_END, MPI_COMM_WORLD);
}

/* Handles one message that MPI_Probe/Iprobe found. */
static void master_handle(struct master *m, struct mn_atlas_queue *q, const MPI_Status *st)
{
	int src = st->MPI_SOURCE;
	switch (st->MPI_TAG) {
	case TAG_REQ: {
		int want = 0, pairs[2 * MAX_BATCH], k = 0;
		MPI_Recv(&want, 1, MPI_INT, src, TAG_REQ, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
		if (want > MAX_BATCH)
			want = MAX_BATCH;
		while (k < want && mn_atlas_queue_take(q, &pairs[2 * k], &pairs[2 * k + 1]))
			k++;
		MPI_Send(pairs, 2 * k, MPI_INT, src, TAG_WORK, MPI_COMM_WORLD);
		break;
	}
	case TAG_RESULT: {
		double buf[1 + MN_PROXY_COUNT];
		struct mn_proxy_values v;
		MPI_Recv(buf, 1 + MN_PROXY_COUNT, MPI_DOUBLE, src, TAG_RESULT, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
		memcpy(v.v, buf + 1, sizeof v.v);
		mn_atlas_queue_put(q, (int)buf[0], &v);
		break;
	}
	case TAG_FAIL: {
		char msg[512], line[560];
		int len = 0;
		MPI_Get_count(st, MPI_CHAR, &len);
		if (len < 0 || len >= (int)sizeof msg)
			len = (int)sizeof msg - 1;
		MPI_Recv(msg, len, MPI_CHAR, src, TAG_FAIL, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
		msg[len] = '\0';
		snprintf(line, sizeof line, "rank %d: %s", src, msg);
		mn_atlas_queue_fail(q, line);
		break;
	}
	case TAG_BYE:
		MPI_Recv(NULL, 0, MPI_INT, src, TAG_BYE, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
		m->byes++;
		send_end(m, src, 0);
		break;
	default: {
		/* Not ours: receive and drop, so it cannot block the probe. */
		char junk[64];
		MPI_Recv(junk, (int)sizeof junk, MPI_BYTE, src, st->MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
	}
	}
}

static void master_serve(void *ctx, struct mn_atlas_queue *q)
{
	struct master *m = ctx;
	for (;;) {
		int flag = 0;
		MPI_Status st;
		MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st);
		if (!flag)
			return;
		master_handle(m, q, &st);
	}
}

/* The queue has stopped: every request now gets "no more"; on a cut, every
 * rank is told to end its archs in flight now (it sends the ones done);
 * then wait until every rank has sent what it still held and said
 * goodbye. */
static void master_finish(void *ctx, struct mn_atlas_queue *q, int cut)
{
	struct master *m = ctx;
	if (cut)
		for (int r = 1; r < m->size; r++)
			send_end(m, r, 1);
	while (m->byes < m->size - 1) {
		MPI_Status st;
		MPI_Probe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &st);
		master_handle(m, q, &st);
	}
}

void mn_atlas_mpi_master(void *ctx, int size, struct mn_atlas_remote *remote)
{
	struct master *m = ctx;
	memset(m, 0, mn_atlas_mpi_master_size(size));
	m->size = size;
	remote->serve = master_serve;
	remote->finish = master_finish;
	remote->ctx = m;
}

/* ---- the other ranks ---- */

struct result {
	int pos;
	struct mn_proxy_values v;
};

/* Positions received and not yet taken, results not yet sent. */
struct box {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int pending[2 * MAX_BATCH], n_pending; /* (position, arch) pairs, n_pending pairs */
	struct result results[MAX_BATCH * 2];
	int n_results;
	int inflight;  /* taken by a thread, not yet put */
	int no_more;   /* rank 0 has nothing more (or this rank stops) */
	int failed;
	char err[512];
};

static int box_take(void *ctx, int *pos, int *arch)
{
	struct box *b = ctx;
	int ok = 0;
	pthread_mutex_lock(&b->lock);
	while (b->n_pending == 0 && !b->no_more && !b->failed)
		pthread_cond_wait(&b->cond, &b->lock);
	if (b->n_pending > 0 && !b->failed) {
		b->n_pending--;
		*pos = b->pending[2 * b->n_pending];
		*arch = b->pending[2 * b->n_pending + 1];
		b->inflight++;
		ok = 1;
	}
	pthread_mutex_unlock(&b->lock);
	return ok;
}

static void box_put(void *ctx, int pos, const struct mn_proxy_values *v)
{
	struct box *b = ctx;
	pthread_mutex_lock(&b->lock);
	/* Room is certain: results are sent before more work is asked for,
	 * and at most 2 x MAX_BATCH positions are ever held. */
	b->results[b->n_results].pos = pos;
	b->results[b->n_results].v = *v;
	b->n_results++;
	b->inflight--;
	pthread_cond_broadcast(&b->cond);
	pthread_mutex_unlock(&b->lock);
}

static void box_fail(void *ctx, const char *msg)
{
	struct box *b = ctx;
	pthread_mutex_lock(&b->lock);
	if (!b->failed) {
		b->failed = 1;
		snprintf(b->err, sizeof b->err, "%s", msg);
	}
	pthread_cond_broadcast(&b->cond);
	pthread_mutex_unlock(&b->lock);
}

/* Sends the results collected so far (outside the lock). */
static void send_results(struct box *b)
{
	struct result out[MAX_BATCH * 2];
	pthread_mutex_lock(&b->lock);
	int n = b->n_results;
	memcpy(out, b->results, (size_t)n * sizeof *out);
	b->n_results = 0;
	pthread_mutex_unlock(&b->lock);
	for (int i = 0; i < n; i++) {
		double buf[1 + MN_PROXY_COUNT];
		buf[0] = out[i].pos;
		memcpy(buf + 1, out[i].v.v, sizeof out[i].v.v);
		MPI_Send(buf, 1 + MN_PROXY_COUNT, MPI_DOUBLE, 0, TAG_RESULT, MPI_COMM_WORLD);
	}
}

/* Rank 0's TAG_END, when it has come: 1 stop now, 0 the answer to BYE;
 * -1 when none is waiting. */
static int poll_end(void)
{
	int flag = 0, v = 0;
	MPI_Iprobe(0, TAG_END, MPI_COMM_WORLD, &flag, MPI_STATUS_IGNORE);
	if (!flag)
		return -1;
	MPI_Recv(&v, 1, MPI_INT, 0, TAG_END, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
	return v;
}

int mn_atlas_mpi_worker(const struct mn_tenas_config *cfg, const struct mn_dataset *data, uint64_t seed,
			int threads, int (*stop_requested)(void *), void *stop_ctx, char *err, size_t errn)
{
	static struct box zero;
	struct box b = zero;
	struct mn_atlas_source src = {box_take, box_put, box_fail, &b};
	int told_failure = 0, got_end = 0;
	/* Raised on this rank's own stop or rank 0's: the threads' archs in
	 * flight end inside their proxies and are dropped (put nowhere). */
	atomic_int cancel;
	atomic_init(&cancel, 0);
	if (threads < 1)
		threads = 1;
	/* Keep two positions per thread in hand, so a thread never waits for
	 * a round trip to rank 0. */
	int hold = 2 * threads > MAX_BATCH ? MAX_BATCH : 2 * threads;
	pthread_mutex_init(&b.lock, NULL);
	pthread_cond_init(&b.cond, NULL);
	struct mn_atlas_workers *w = mn_atlas_workers_start(cfg, data, seed, threads, &src, &cancel, err, errn);
	if (!w) {
		MPI_Send(err, (int)strlen(err), MPI_CHAR, 0, TAG_FAIL, MPI_COMM_WORLD);
		told_failure = 1;
		b.no_more = 1;
	}
	for (;;) {
		send_results(&b);
		/* Before BYE only a stop can come (rank 0 answers BYE with 0). */
		int stop_now = poll_end() >= 0;
		got_end |= stop_now;
		if (stop_now || (stop_requested && stop_requested(stop_ctx))) {
			/* What is done is sent below; what is in flight is cut
			 * short and dropped, what is held is given up: the next
			 * run scores them. */
			atomic_store(&cancel, 1);
			break;
		}
		pthread_mutex_lock(&b.lock);
		int failed = b.failed, no_more = b.no_more;
		int want = no_more || failed ? 0 : hold - b.n_pending - b.inflight;
		int idle = b.n_pending == 0 && b.inflight == 0 && b.n_results == 0;
		pthread_mutex_unlock(&b.lock);
		if (failed && !told_failure) {
			MPI_Send(b.err, (int)strlen(b.err), MPI_CHAR, 0, TAG_FAIL, MPI_COMM_WORLD);
			told_failure = 1;
			pthread_mutex_lock(&b.lock);
			b.no_more = 1;
			pthread_cond_broadcast(&b.cond);
			pthread_mutex_unlock(&b.lock);
			continue;
		}
		/* A failed thread never puts its position back: do not wait for
		 * it, and cut the others short (the build stops). */
		if ((no_more || failed) && (idle || (failed && told_failure))) {
			if (failed)
				atomic_store(&cancel, 1);
			break;
		}
		if (want > 0) {
			int pairs[2 * MAX_BATCH], count = 0;
			MPI_Status st;
			MPI_Send(&want, 1, MPI_INT, 0, TAG_REQ, MPI_COMM_WORLD);
			MPI_Recv(pairs, 2 * MAX_BATCH, MPI_INT, 0, TAG_WORK, MPI_COMM_WORLD, &st);
			MPI_Get_count(&st, MPI_INT, &count);
			pthread_mutex_lock(&b.lock);
			if (count <= 0) {
				b.no_more = 1;
			} else {
				/* Threads take from the end: stored reversed, the
				 * first position given is taken first. */
				for (int k = count / 2 - 1; k >= 0; k--) {
					b.pending[2 * b.n_pending] = pairs[2 * k];
					b.pending[2 * b.n_pending + 1] = pairs[2 * k + 1];
					b.n_pending++;
				}
			}
			pthread_cond_broadcast(&b.cond);
			pthread_mutex_unlock(&b.lock);
			continue;
		}
		pthread_mutex_lock(&b.lock);
		if (b.n_results == 0) {
			mn_cond_wait_ns(&b.cond, &b.lock, 50000000L);
		}
		pthread_mutex_unlock(&b.lock);
	}
	pthread_mutex_lock(&b.lock);
	b.no_more = 1;
	if (atomic_load(&cancel))
		b.n_pending = 0; /* given up: the next run scores them */
	pthread_cond_broadcast(&b.cond);
	pthread_mutex_unlock(&b.lock);
	mn_atlas_workers_join(w);
	send_results(&b);
	MPI_Send(NULL, 0, MPI_INT, 0, TAG_BYE, MPI_COMM_WORLD);
	if (!got_end)
		MPI_Recv(&got_end, 1, MPI_INT, 0, TAG_END, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
	pthread_mutex_destroy(&b.lock);
	pthread_cond_destroy(&b.cond);
	if (b.failed) {
		snprintf(err, errn, "%s", b.err);
		return -1;
	}
	return w ? 0 : -1;
}
