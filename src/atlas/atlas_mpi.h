/* The atlas build split among MPI ranks (compiled only with Open MPI; see
 * configure's HAVE_MPI).  Rank 0 reads and writes the file and hands out
 * positions of its queue (atlas_build.h) on request; every other rank runs
 * worker threads that ask rank 0 for positions a few at a time and send the
 * values back.  The values are a function of (settings, arch) only, and
 * rank 0 writes rows in queue order, so the file is the same row for row as
 * a single process writes.  A rank that dies takes only the positions it
 * held with it: the rows already written stay, and a rerun resumes.
 *
 * Only the thread that called mn_atlas_mpi_init calls MPI
 * (MPI_THREAD_FUNNELED). */
#ifndef MN_ATLAS_MPI_H
#define MN_ATLAS_MPI_H

#include <stddef.h>
#include <stdint.h>

#include "atlas/atlas_build.h"

/* 1 when an MPI launcher (mpirun, mpiexec, srun with PMIx or PMI) started
 * this process: only then is MPI initialised, so a plain run never touches
 * MPI. */
int mn_atlas_mpi_launched(void);
/* This process's rank as the launcher's environment gives it, before MPI
 * is initialised (0 when none says). */
int mn_atlas_mpi_env_rank(void);

/* 0 with this rank and the number of ranks, or -1 with err. */
int mn_atlas_mpi_init(int *rank, int *size, char *err, size_t errn);
void mn_atlas_mpi_finalize(void);

/* 1 when every rank passed ok != 0 (a collective call). */
int mn_atlas_mpi_all_ok(int ok);

/* Rank 0's side: fills remote with the serve/finish pair for
 * mn_atlas_build.remote.  ctx is caller storage of
 * mn_atlas_mpi_master_size(size) bytes, alive during the build.  When the
 * build ends early (finish's cut), every rank is told to stop at once. */
size_t mn_atlas_mpi_master_size(int size);
void mn_atlas_mpi_master(void *ctx, int size, struct mn_atlas_remote *remote);

/* Any other rank's side: scores what rank 0 hands out with `threads`
 * worker threads until rank 0 has no more.  When stop_requested (may be
 * NULL) says so, or rank 0 says stop, the rank cuts its archs in flight
 * short inside their proxies (as a single process does), sends what is
 * done and leaves; the archs cut and held are scored by the next run.
 * 0, or -1 with err (rank 0 was told). */
int mn_atlas_mpi_worker(const struct mn_tenas_config *cfg, const struct mn_dataset *data, uint64_t seed,
			int threads, int (*stop_requested)(void *), void *stop_ctx, char *err, size_t errn);

#endif
