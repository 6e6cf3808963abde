/* Trained weights in the TUI: m loads a .safetensors file (or --weights at
 * start), with deploy's int8 model file when it was deployed on another
 * computer (or --model), and v then runs the deployed int8 model on the
 * board through export/model_job.h, the calls `micronas validate --weights
 * [--model]` makes.  The result comes back in the board job's snapshot
 * (ui/model.c logs it, ui/view_progress.c draws it). */
#include "config.h"

#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "export/model_job.h"
#include "export/qmodel_file.h"

int tui_model_load(struct tui_app *a, const char *path, const char *arch_text,
		   const char *model_path, int calib, int images, struct mn_error *e,
		   enum tui_model_field *bad)
{
	struct tui_model m;
	struct mn_weights_info info;
	struct mn_parse_error pe;
	enum tui_model_field at = TUI_MF_WEIGHTS;
	memset(&m, 0, sizeof m);
	if (!path || !*path) {
		snprintf(e->msg, sizeof e->msg, "give the weights file (.safetensors from model.py)");
		goto fail;
	}
	if (strlen(path) >= sizeof m.path) {
		snprintf(e->msg, sizeof e->msg, "weights path too long (at most %zu bytes)",
			 sizeof m.path - 1);
		goto fail;
	}
	if (arch_text && *arch_text) {
		if (mn_arch_parse(arch_text, &m.arch, &pe) != 0) {
			snprintf(e->msg, sizeof e->msg, "arch: %s (leave it blank to validate the pick)",
				 pe.msg);
			at = TUI_MF_ARCH;
			goto fail;
		}
		m.has_arch = 1;
	}
	if (mn_model_weights_probe(path, &info, e->msg, sizeof e->msg) != 0)
		goto fail;
	if (model_path && *model_path) {
		at = TUI_MF_MODEL;
		if (strlen(model_path) >= sizeof m.model_path) {
			snprintf(e->msg, sizeof e->msg, "int8 model path too long (at most %zu bytes)",
				 sizeof m.model_path - 1);
			goto fail;
		}
		if (mn_qmodel_probe(model_path, &m.model_arch, e->msg, sizeof e->msg) != 0)
			goto fail;
		snprintf(m.model_path, sizeof m.model_path, "%s", model_path);
		m.has_model = 1;
	}
	snprintf(m.path, sizeof m.path, "%s", path);
	m.tensors = info.tensors;
	m.file_has_arch = info.has_arch;
	m.file_arch = info.arch;
	m.file_has_shape = info.has_shape;
	m.file_shape = info.shape;
	m.calib = calib;
	m.images = images;
	m.loaded = 1;
	a->model = m;
	return 0;
fail:
	if (bad)
		*bad = at;
	return -1;
}

void tui_model_log_loaded(struct tui_app *a)
{
	const struct tui_model *m = &a->model;
	char arch[MN_ARCH_STRLEN] = "";
	if (m->file_has_arch)
		mn_arch_format(&m->file_arch, arch, sizeof arch);
	tui_log_event(&a->log, "weights %s loaded (%d tensors%s%s), calibration %d images, %d run%s%s",
		      m->path, m->tensors, m->file_has_arch ? ", for " : "", arch, m->calib, m->images,
		      m->has_model ? ", int8 model " : "", m->has_model ? m->model_path : "");
}

int tui_model_calib(const struct tui_app *a)
{
	return a->cfg->model_calib > 0 ? a->cfg->model_calib : TUI_MODEL_CALIB;
}

int tui_model_images(const struct tui_app *a)
{
	return a->cfg->model_images > 0 ? a->cfg->model_images : TUI_MODEL_IMAGES;
}

void tui_model_form(struct tui_app *a)
{
	struct tui_form *f = &a->form;
	snprintf(f->title, sizeof f->title, "Trained weights for v (empty file: unload)");
	f->n = TUI_MF_MODEL + 1;
	snprintf(f->label[TUI_MF_WEIGHTS], sizeof f->label[0], "weights .safetensors");
	snprintf(f->label[TUI_MF_ARCH], sizeof f->label[0], "arch (blank: the pick)");
	snprintf(f->label[TUI_MF_CALIB], sizeof f->label[0], "calibration images");
	snprintf(f->label[TUI_MF_IMAGES], sizeof f->label[0], "images run on the board");
	snprintf(f->label[TUI_MF_MODEL], sizeof f->label[0], "int8 model file (optional)");
	if (a->model.loaded) {
		snprintf(f->value[TUI_MF_WEIGHTS], TUI_FIELD_LEN, "%s", a->model.path);
		if (a->model.has_arch)
			mn_arch_format(&a->model.arch, f->value[TUI_MF_ARCH], TUI_FIELD_LEN);
		if (a->model.has_model)
			snprintf(f->value[TUI_MF_MODEL], TUI_FIELD_LEN, "%s", a->model.model_path);
	}
	snprintf(f->value[TUI_MF_CALIB], TUI_FIELD_LEN, "%d",
		 a->model.loaded ? a->model.calib : tui_model_calib(a));
	snprintf(f->value[TUI_MF_IMAGES], TUI_FIELD_LEN, "%d",
		 a->model.loaded ? a->model.images : tui_model_images(a));
}

/* Field i as a whole number in 1..max into *out; else the form's error
 * names the field, the range and the flag it stands for, and focuses it. */
static int form_count(struct tui_form *f, int i, long max, const char *flag, int dflt, int *out)
{
	char *end;
	long v = strtol(f->value[i], &end, 10);
	if (end == f->value[i] || *end || v < 1 || v > max) {
		snprintf(f->error, sizeof f->error, "%s: a whole number in 1..%ld (%s; default %d)",
			 f->label[i], max, flag, dflt);
		f->focus = i;
		return -1;
	}
	*out = (int)v;
	return 0;
}

int tui_model_form_apply(struct tui_app *a)
{
	struct tui_form *f = &a->form;
	struct mn_error e;
	enum tui_model_field bad;
	if (!f->value[TUI_MF_WEIGHTS][0]) {
		if (a->model.loaded) {
			tui_log_event(&a->log, "weights %s unloaded", a->model.path);
			tui_message(a, 0, "weights unloaded: v checks the pick's latency again");
		}
		memset(&a->model, 0, sizeof a->model);
		return 0;
	}
	int calib, images;
	if (form_count(f, TUI_MF_CALIB, 100000, "deploy's --calib", TUI_MODEL_CALIB, &calib) != 0 ||
	    form_count(f, TUI_MF_IMAGES, 1000000, "validate's --images", TUI_MODEL_IMAGES, &images) != 0)
		return -1;
	if (tui_model_load(a, f->value[TUI_MF_WEIGHTS], f->value[TUI_MF_ARCH], f->value[TUI_MF_MODEL],
			   calib, images, &e, &bad) != 0) {
		snprintf(f->error, sizeof f->error, "%.390s", e.msg);
		f->focus = (int)bad;
		return -1;
	}
	tui_model_log_loaded(a);
	tui_message(a, 0, "weights %s loaded: v runs the deployed model on the board",
		    a->model.path);
	return 0;
}

/* 1 (logged, and said in one line naming the fix) when a file made for
 * file_arch is given for arch (what: where arch came from; kind and its
 * verb: "weights" "are", "int8 model" "is"), else 0. */
static int arch_refused(struct tui_app *a, const struct mn_arch *arch, const char *what,
			const char *kind, const char *verb, const char *path,
			const struct mn_arch *file_arch, const char *fix)
{
	char as[MN_ARCH_STRLEN], fs[MN_ARCH_STRLEN];
	mn_arch_format(arch, as, sizeof as);
	mn_arch_format(file_arch, fs, sizeof fs);
	if (!strcmp(as, fs))
		return 0;
	tui_log_event(&a->log, "not validated: the %s %s %s for %s, %s is %s", kind, path, verb, fs,
		      what, as);
	/* Compact archs: the message stays one line (the log has the full
	 * strings). */
	char ca[MN_ARCH_STRLEN], cf[MN_ARCH_STRLEN];
	tui_arch_compact(arch, ca, sizeof ca);
	tui_arch_compact(file_arch, cf, sizeof cf);
	tui_message(a, 1, "the %s %s for %s, %s is %s: %s in the form (m)", kind, verb, cf, what, ca,
		    fix);
	return 1;
}

/* "C=16 N=5 32x32x3, 10 classes" */
static void net_text(const struct mn_net_shape *s, char *buf, size_t n)
{
	snprintf(buf, n, "C=%d N=%d %dx%dx%d, %d classes", s->channels, s->cells, s->height,
		 mn_shape_width(s), mn_shape_input_channels(s), s->classes);
}

/* Weights exported for another network than the session's: the binding
 * would refuse them naming command-line flags, which the TUI does not
 * take; say what the TUI offers instead.  1 when refused (said). */
static int net_refused(struct tui_app *a, const struct tui_model *m)
{
	const struct mn_net_shape *f = &m->file_shape, *s = &a->session->search.shape;
	char ft[96], st[96];
	if (!m->file_has_shape ||
	    (f->channels == s->channels && f->cells == s->cells && f->height == s->height &&
	     mn_shape_width(f) == mn_shape_width(s) &&
	     mn_shape_input_channels(f) == mn_shape_input_channels(s) && f->classes == s->classes))
		return 0;
	net_text(f, ft, sizeof ft);
	net_text(s, st, sizeof st);
	tui_message(a, 1, "the weights %s are for %s, this session's network is %s: pick a preset "
		    "whose [network] has theirs (P), or export and train this one (micronas export)",
		    m->path, ft, st);
	return 1;
}

void tui_model_validate(struct tui_app *a)
{
	struct tui_model *m = &a->model;
	struct mn_model_job_opts o;
	struct mn_error e;
	char arch[MN_ARCH_STRLEN];
	const char *what;
	if (tui_board_busy(a, MN_BOARD_JOB_MODEL))
		return;
	if (!a->have_session) {
		tui_message(a, 1, "no search set up (pick a preset with P)");
		return;
	}
	if (!a->bsnap.port[0]) {
		tui_message(a, 1, "no board: pick a port or the emulated board with b");
		return;
	}
	/* The arch: the one typed in the form, else the pick, else the one
	 * the weights name. */
	memset(&o, 0, sizeof o);
	if (m->has_arch) {
		o.arch = m->arch;
		what = "the arch given";
	} else if (a->have_done) {
		o.arch = a->done_snap.result;
		what = "the pick";
	} else if (m->file_has_arch) {
		o.arch = m->file_arch;
		what = "the weights' arch";
	} else {
		tui_message(a, 1, "no arch for these weights: run the search (s) or give the arch in "
			    "the weights form (m)");
		return;
	}
	if ((m->file_has_arch &&
	     arch_refused(a, &o.arch, what, "weights", "are", m->path, &m->file_arch,
			  "load its weights, or give their arch")) ||
	    (m->has_model && arch_refused(a, &o.arch, what, "int8 model", "is", m->model_path,
					  &m->model_arch, "give the model deployed for it")) ||
	    net_refused(a, m))
		return;
	if (m->has_model)
		o.model = m->model_path;
	mn_arch_format(&o.arch, arch, sizeof arch);
	o.weights = m->path;
	o.data = a->cfg->data_path;
	o.shape = a->session->search.shape;
	o.table = &a->session->table;
	o.calib = m->calib;
	o.images = m->images;
	o.threads = a->cfg->threads;
	if (mn_model_job_start(a->board, &o, e.msg, sizeof e.msg) != 0) {
		tui_message(a, 1, "%s", e.msg);
		return;
	}
	tui_log_event(&a->log, "validating the deployed model %s (%s) on %s, %d images", m->path,
		      arch, a->bsnap.port, o.images);
	if (tui_note_stale_table(a))
		return;
	tui_message(a, 0, "running the deployed model on the board (v again or x cancels)...");
}
