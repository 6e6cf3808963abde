/* The steps both front ends take before a search, in one place: open the
 * preset named by --preset (or the embedded default), lay the command-line
 * flags over it, load the NAS-Bench-201 oracle when one is given, and set
 * up the session (data, evaluators, latency table, engine).  `micronas
 * search` and the TUI call this, so they start from the same state. */
#ifndef MN_SESSION_PREPARE_H
#define MN_SESSION_PREPARE_H

#include "config/preset.h"
#include "data/oracle.h"
#include "search/session.h"
#include "util/error.h"

struct mn_session_request {
	const char *preset_name;      /* --preset NAME|FILE; NULL: the embedded default */
	const struct mn_preset *flags; /* values given as flags (flags->set); may be NULL */
	const char *data_path;        /* CIFAR-10 file or directory; NULL: synthetic */
	const char *oracle_path;      /* NAS-Bench-201 CSV; NULL: none */
	int threads;                  /* evaluation workers; < 1: all cores */
};

struct mn_prepared {
	struct mn_session *session; /* heap (the engine keeps its address) */
	struct mn_oracle oracle;
	int have_oracle;
};

/* Fills p; returns 0, or -1 with e set and p holding nothing (nothing to
 * release).  The session's notice (e.g. the synthetic-data line) is for
 * the caller to show. */
int mn_session_prepare(struct mn_prepared *p, const struct mn_session_request *r,
		       struct mn_error *e);
/* Frees the session (joining its engine) and the oracle. */
void mn_session_release(struct mn_prepared *p);

#endif
