/* The TUI's event loop, in the manner of tmux or htop: one thread reads the
 * engine's and the board job's snapshots every 100 ms (getch with a
 * timeout), turns keys into actions, and redraws when a snapshot's version
 * changed, on a key, on a resize, or a few times a second while something
 * runs (the clocks move).  Nothing here waits for an evaluation or the
 * serial port.
 *
 * The terminal is restored on every way out: q, SIGINT, SIGTERM, SIGHUP
 * (their handler only records the signal; the loop sees it within 100 ms)
 * and errors.  The search and QEMU are stopped before returning. */
#define _DEFAULT_SOURCE 1 /* syscall(), for forwarding signals to this thread */

#include "config.h"

#include <curses.h>
#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "app.h"
#include "search/session_prepare.h"
#include "util/clock.h"

/* The one global: the last signal asked to end the session (0: none).  A
 * handler may only set such a flag; the event loop reads it. */
static volatile sig_atomic_t stop_signal;

/* Libraries start threads of their own (OpenBLAS's workers), and a signal
 * may land on any of them.  Only the main thread, which runs the event
 * loop, writes the flag: another thread hands the signal on to it. */
static void on_signal(int sig)
{
	int saved = errno;
#if defined(SYS_tgkill) && defined(SYS_gettid)
	pid_t pid = getpid();
	if ((pid_t)syscall(SYS_gettid) != pid) {
		syscall(SYS_tgkill, pid, pid, sig);
		errno = saved;
		return;
	}
#endif
	stop_signal = sig;
	errno = saved;
}

static const int handled_signals[] = {SIGINT, SIGTERM, SIGHUP};
#define N_SIGNALS (int)(sizeof handled_signals / sizeof handled_signals[0])

static int install_signals(struct sigaction old[N_SIGNALS])
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	/* No SA_RESTART: the getch() wait ends at once on a signal. */
	if (sigemptyset(&sa.sa_mask) != 0)
		return -1;
	for (int i = 0; i < N_SIGNALS; i++)
		if (sigaction(handled_signals[i], &sa, &old[i]) != 0) {
			while (--i >= 0)
				sigaction(handled_signals[i], &old[i], NULL);
			return -1;
		}
	return 0;
}

static void restore_signals(const struct sigaction old[N_SIGNALS])
{
	for (int i = 0; i < N_SIGNALS; i++)
		/* Nothing useful can be done if restoring fails; the process
		 * is about to leave the TUI anyway. */
		(void)sigaction(handled_signals[i], &old[i], NULL);
}

static void draw(struct tui_app *a)
{
	struct tui_layout l;
	/* erase() and refresh() fail only without a screen, which the loop
	 * never runs without. */
	(void)erase();
	tui_layout(LINES, COLS, tui_message_lines(a, COLS), &l);
	if (!l.ok) {
		char msg[120];
		snprintf(msg, sizeof msg, "too small (%dx%d): needs %dx%d; q quits", COLS, LINES,
			 TUI_MIN_COLS, TUI_MIN_LINES);
		tui_put(a, LINES / 2, 0, COLS, TS_ERROR, msg);
		(void)refresh();
		return;
	}
	view_status_draw(a, l.status);
	view_progress_draw(a, l.progress);
	view_pick_draw(a, l.pick);
	view_board_draw(a, l.board);
	view_rankings_draw(a, l.rankings);
	view_supernet_draw(a, l.supernet);
	if (a->atlas.state == TUI_ATLAS_LOADED && !a->plot_candidates)
		view_atlas_draw(a, l.plot);
	else
		view_plot_draw(a, l.plot);
	view_message_draw(a, l.message);
	view_footer_draw(a, l.footer);
	view_modal_draw(a);
	(void)refresh();
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s && s[1] ? s + 1 : path;
}

/* Everything that can fail before the screen is taken. */
static int prepare(struct tui_app *a, struct mn_error *e)
{
	const struct mn_tui_config *c = a->cfg;
	struct mn_prepared prep;
	struct mn_preset none;

	mn_preset_defaults(&none);
	none.set = 0;
	if (mn_preset_copy(&a->flags, c->flags ? c->flags : &none, e) != 0)
		return -1;
	a->current_pick = -1;
	a->view_round = -1;
	a->sort_col = COL_EDGE;
	struct mn_session_request req = {c->preset_name, &a->flags, c->data_path, c->oracle_path,
					 c->threads};
	if (mn_session_prepare(&prep, &req, e) != 0)
		return -1;
	/* The app takes over what was prepared. */
	a->session = prep.session;
	tui_session_ready(a);
	a->oracle = prep.oracle;
	a->have_oracle = prep.have_oracle;
	snprintf(a->preset_label, sizeof a->preset_label, "%s",
		 c->preset_name ? c->preset_name : "default");
	const struct mn_preset *p = &a->session->preset;
	a->w_flops = p->w_flops;
	a->w_latency = p->w_latency;
	a->limits = (struct mn_constraints){p->max_latency_ms, p->max_sram_kb, p->max_flash_kb};
	snprintf(a->data_label, sizeof a->data_label, "%s",
		 c->data_path ? base_name(c->data_path) : "synthetic");
	if (tui_log_open(&a->log, c->log_path, e) != 0)
		return -1;
	tui_log_event(&a->log, "session started: preset %s, data %s, latency table %s%s%s",
		      a->preset_label, c->data_path ? c->data_path : "synthetic",
		      a->session->table_origin, a->have_oracle ? ", oracle " : "",
		      a->have_oracle ? c->oracle_path : "");
	if (a->session->notice[0])
		tui_log_event(&a->log, "%s", a->session->notice);
	/* The atlas of these settings, or the command that builds it (the
	 * message line: the session's notice is in the log). */
	tui_atlas_open(a);
	tui_log_event(&a->log, "%s", a->atlas.status);
	/* The background atlas build: without it the TUI works as before. */
	a->extend_paused = c->no_extend;
	a->extend_in_file = -1;
	char xerr[256];
	a->extend = tui_extend_new(xerr, sizeof xerr);
	if (!a->extend)
		tui_log_event(&a->log, "the atlas is not extended in the background: %s", xerr);
	/* The cache's warning before the atlas status (which stays in the log
	 * and the header line). */
	if (!tui_cache_notice(a))
		tui_message(a, a->atlas.state == TUI_ATLAS_ERROR, "%s", a->atlas.status);
	a->board = mn_board_job_new(e->msg, sizeof e->msg);
	if (!a->board)
		return -1;
	if (c->emulate) {
		if (tui_board_emulate(a, e) != 0)
			return -1;
	} else if (c->port) {
		if (mn_board_job_connect(a->board, c->port, e->msg, sizeof e->msg) != 0)
			return -1;
		tui_log_event(&a->log, "board: connecting to %s", c->port);
	}
	if (c->weights_path) {
		struct mn_error we;
		enum tui_model_field bad;
		if (tui_model_load(a, c->weights_path, NULL, c->model_path, tui_model_calib(a),
				   tui_model_images(a), &we, &bad) != 0) {
			snprintf(e->msg, sizeof e->msg, "%s: %.900s",
				 bad == TUI_MF_MODEL ? "--model" : "--weights", we.msg);
			return -1;
		}
		tui_model_log_loaded(a);
	}
	return 0;
}

static void release(struct tui_app *a)
{
	/* Stop both workers first so they wind down together. */
	if (a->have_session)
		mn_engine_cancel(a->session->engine);
	if (a->board)
		mn_board_job_cancel(a->board);
	/* The atlas build reads the session's data: it ends first. */
	tui_extend_free(a->extend);
	a->extend = NULL;
	if (a->have_session)
		mn_session_free(a->session); /* joins the engine thread */
	free(a->session);
	mn_board_job_free(a->board); /* stops QEMU */
	if (a->have_oracle)
		mn_oracle_free(&a->oracle);
	mn_preset_free(&a->flags);
	tui_list_reset(&a->list);
	tui_atlas_close(a);
	if (a->rebuild)
		mn_preset_free(&a->rebuild_preset);
	tui_log_close(&a->log);
}

static int event_loop(struct tui_app *a)
{
	double last_draw = 0;
	int dirty = 1, first = 1;
	while (!a->quit && !stop_signal) {
		if (tui_poll(a))
			dirty = 1;
		if (tui_extend_poll(a))
			dirty = 1;
		if (a->rebuild) {
			tui_apply_rebuild(a);
			dirty = 1;
		}
		if (first && a->cfg->start) {
			tui_key(a, 's');
			first = 0;
			dirty = 1;
		}
		int busy = a->snap.state == MN_ENGINE_RUNNING || a->bsnap.state == MN_BOARD_JOB_RUNNING ||
			   a->extend_running || a->extend_active;
		double t = mn_now_s();
		/* The clocks move while something runs: redraw a few times a
		 * second even when no snapshot changed. */
		if (dirty || (busy && t - last_draw > 0.25)) {
			draw(a);
			last_draw = t;
			dirty = 0;
		}
		int ch = getch();
		if (ch == ERR)
			continue; /* the 100 ms timeout, or a signal */
		if (ch == KEY_RESIZE) {
			/* ncurses has updated LINES and COLS; everything is laid
			 * out again from them. */
			dirty = 1;
			continue;
		}
		tui_key(a, ch);
		dirty = 1;
	}
	return stop_signal ? (int)stop_signal : 0;
}

int mn_tui_run(const struct mn_tui_config *c, struct mn_error *e)
{
	struct sigaction old[N_SIGNALS];
	struct tui_app *a;
	SCREEN *scr;
	int sig;

	mn_error_clear(e);
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		mn_error_set(e, "the TUI needs a terminal on stdin and stdout (use 'micronas "
			 "search' in scripts)");
		return 1;
	}
	/* The locale's character set decides between braille and ASCII plots
	 * (and ncursesw needs it for UTF-8 output).  Numbers stay in the C
	 * locale: saved JSON, presets and typed values use a decimal point. */
	if (setlocale(LC_ALL, "") == NULL)
		(void)setlocale(LC_ALL, "C"); /* an unknown locale: plain ASCII then */
	if (setlocale(LC_NUMERIC, "C") == NULL) {
		mn_error_set(e, "cannot select the C locale for numbers");
		return 1;
	}
	a = calloc(1, sizeof *a);
	if (!a) {
		mn_error_set(e, "out of memory");
		return 1;
	}
	a->cfg = c;
	const char *cs = nl_langinfo(CODESET);
	a->utf8 = cs && (!strcmp(cs, "UTF-8") || !strcmp(cs, "utf8"));
	if (prepare(a, e) != 0) {
		release(a);
		free(a);
		return 1;
	}
	stop_signal = 0;
	if (install_signals(old) != 0) {
		mn_error_set(e, "cannot install the signal handlers");
		release(a);
		free(a);
		return 1;
	}
	/* newterm, unlike initscr, returns an error instead of exiting. */
	scr = newterm(NULL, stdout, stdin);
	if (!scr) {
		const char *term = getenv("TERM");
		mn_error_set(e, "cannot use the terminal (TERM=%s; set TERM to your terminal's type, "
			 "e.g. xterm-256color)", term ? term : "unset");
		restore_signals(old);
		release(a);
		free(a);
		return 1;
	}
	if (set_term(scr) == NULL || cbreak() == ERR || noecho() == ERR ||
	    keypad(stdscr, TRUE) == ERR) {
		(void)endwin(); /* best effort: we are failing already */
		delscreen(scr);
		mn_error_set(e, "cannot set up the terminal's input modes");
		restore_signals(old);
		release(a);
		free(a);
		return 1;
	}
	timeout(100);
	/* Invisible cursor where the terminal can; a visible one is harmless. */
	(void)curs_set(0);
	/* Esc must close a box at once, not wait a second for a sequence;
	 * if the terminal refuses, Esc is only slower. */
	(void)set_escdelay(25);
	tui_styles_init(a);

	sig = event_loop(a);

	/* endwin() fails only when the terminal is gone (SIGHUP); nothing is
	 * left to restore then. */
	(void)endwin();
	delscreen(scr);
	restore_signals(old);
	if (a->have_session && a->snap.state == MN_ENGINE_RUNNING)
		fprintf(stderr, "micronas tui: stopping the search...\n");
	if (sig)
		tui_log_event(&a->log, "session ended by signal %d (%s)", sig, strsignal(sig));
	else
		tui_log_event(&a->log, "session ended");
	release(a);
	free(a);
	if (sig) {
		mn_error_set(e, "interrupted by %s: search and board stopped, terminal restored",
			 sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "SIGHUP");
		return 1;
	}
	return 0;
}
