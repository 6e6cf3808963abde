#include "search/session_prepare.h"

#include <stdlib.h>
#include <string.h>

#include "config/preset_find.h"

int mn_session_prepare(struct mn_prepared *p, const struct mn_session_request *r,
		       struct mn_error *e)
{
	struct mn_preset preset;
	memset(p, 0, sizeof *p);
	if (mn_preset_open_or_default(&preset, r->preset_name, e) != 0 ||
	    (r->flags && mn_preset_override(&preset, r->flags, e) != 0)) {
		mn_preset_free(&preset);
		return -1;
	}
	/* The oracle before the session: a bad CSV must not cost the data
	 * load and the evaluators' set-up. */
	if (r->oracle_path) {
		if (mn_oracle_load(&p->oracle, r->oracle_path, e->msg, sizeof e->msg) != 0) {
			mn_preset_free(&preset);
			return -1;
		}
		p->have_oracle = 1;
	}
	p->session = calloc(1, sizeof *p->session);
	if (!p->session) {
		mn_error_set(e, "out of memory");
		goto fail;
	}
	if (mn_session_init(p->session, &preset, r->data_path, r->threads, e->msg, sizeof e->msg) != 0)
		goto fail;
	mn_preset_free(&preset); /* the session holds its own copy */
	return 0;
fail:
	free(p->session);
	p->session = NULL;
	if (p->have_oracle)
		mn_oracle_free(&p->oracle);
	p->have_oracle = 0;
	mn_preset_free(&preset);
	return -1;
}

void mn_session_release(struct mn_prepared *p)
{
	if (p->session) {
		mn_session_free(p->session);
		free(p->session);
		p->session = NULL;
	}
	if (p->have_oracle)
		mn_oracle_free(&p->oracle);
	p->have_oracle = 0;
}
