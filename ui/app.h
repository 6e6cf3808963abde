/* The TUI's model: everything the views draw, held by the event loop
 * (ui/tui.c).  The engine and the board job are read only through their
 * snapshots; views only draw this state and never call the engine. */
#ifndef MN_TUI_APP_H
#define MN_TUI_APP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "space/arch.h"
#include "board/board_job.h"
#include "search/engine.h"
#include "atlas/atlas_pick.h"
#include "data/oracle.h"
#include "config/preset.h"
#include "search/result_json.h"
#include "search/session.h"
#include "tui.h"
#include "util/error.h"

#include "layout.h"

/* ---- styles (colour pairs, or attributes on a monochrome terminal) ---- */

enum tui_style {
	TS_NORMAL,
	TS_TITLE,    /* panel titles, table header */
	TS_DIM,      /* unevaluated, removed ops, secondary text */
	TS_PRUNE,    /* the op to be pruned on its edge */
	TS_LATEST,   /* the candidate evaluated last */
	TS_BAR,      /* progress bars */
	TS_POINT,    /* plot: candidates */
	TS_PICK,     /* plot: earlier picks */
	TS_CURRENT,  /* plot and pick line: the current pick */
	TS_LIMIT,    /* constraint lines */
	TS_ERROR,    /* errors and warnings */
	TS_OK,       /* good news (validation within the model, done) */
	TS_KEY,      /* footer key names */
	TS_SELECT,   /* selected row in lists and forms */
	TS_COUNT
};

/* ---- the rankings table's columns ------------------------------------ */

enum tui_col {
	COL_EDGE, COL_OP, COL_DK, COL_DR, COL_FLOPS, COL_LAT,
	COL_RNTK, COL_RLR, COL_RFLOPS, COL_RLAT, COL_SCORE, COL_COUNT
};

/* ---- plot history ------------------------------------------------------ */

#define TUI_MAX_POINTS 1024
#define TUI_MAX_PICKS 64

/* A candidate seen in any round of any run: the supernet after removing
 * (edge, op) from `super`. */
struct tui_point {
	uint8_t super[MN_EDGES];
	signed char edge, op;
	double latency_ms;  /* of the supernet after the removal (x) */
	double proxy;       /* TE-NAS rank sum, normalised in its round: 1 = best */
	double oracle_mean; /* mean NAS-Bench-201 accuracy of the archs left; NaN if none */
};

struct tui_pick {
	struct mn_arch arch;
	double latency_ms, flops_m, sram_kb, flash_kb;
	double proxy;  /* mean proxy of the final round's pruned candidates */
	double oracle; /* NaN without an oracle */
	double w_flops, w_latency;
};

/* ---- the atlas (ui/model_atlas.c) --------------------------------------- */

enum tui_atlas_state {
	TUI_ATLAS_NONE,   /* no atlas file for these settings (status: how to build it) */
	TUI_ATLAS_LOADED,
	TUI_ATLAS_ERROR   /* a file that could not be used (status: why) */
};

/* The atlas of the session's settings, with what the scatter draws.  The
 * pick is redone on every weight or limit change (a pass over the rows). */
struct tui_atlas {
	enum tui_atlas_state state;
	struct mn_atlas atlas;  /* costs set for the session's board */
	char status[800];       /* one line: what was loaded, or the command that builds it */
	double *y;              /* n: the scatter's y (estimate, or oracle accuracy; NaN: unknown) */
	int *front;             /* the Pareto front of y against latency, by latency */
	int n_front;
	int *row_of;            /* MN_ARCH_COUNT: arch index -> row, -1 if not in the atlas */
	struct row_key *keys;   /* n: sorting scratch (model_atlas.c) */
	int have_path;          /* path and settings below are set */
	char path[4096];        /* the atlas file of the session's settings */
	struct mn_atlas_settings settings;
	int pick;               /* row of the atlas pick, -1: none fits */
	double pick_ms;         /* how long the last pick took */
};

/* ---- modal input: a small form or a list ------------------------------- */

enum tui_mode { MODE_NORMAL, MODE_HELP, MODE_FORM, MODE_LIST };

#define TUI_FORM_FIELDS 5
#define TUI_FIELD_LEN 256

enum tui_form_kind { FORM_WEIGHTS, FORM_LIMITS, FORM_SAVE, FORM_PORT, FORM_MODEL };

struct tui_form {
	enum tui_form_kind kind;
	char title[80];
	int n, focus;
	char label[TUI_FORM_FIELDS][48];
	char value[TUI_FORM_FIELDS][TUI_FIELD_LEN];
	char error[400]; /* wrapped in the box: room for a path and the fix */
};

#define TUI_LIST_MAX 64

enum tui_list_kind { LIST_PRESETS, LIST_PORTS };

/* What picking a list entry means. */
enum tui_item {
	ITEM_VALUE,   /* the entry's value: a preset file or a serial port */
	ITEM_BUILTIN, /* the embedded default preset / the emulated board */
	ITEM_TYPED    /* a port the user types in a form */
};

struct tui_list {
	enum tui_list_kind kind;
	char title[80];
	int n, sel, top;
	char label[TUI_LIST_MAX][160];
	char *value[TUI_LIST_MAX];                /* preset path or port (heap); NULL: not ITEM_VALUE */
	enum tui_item kind_of[TUI_LIST_MAX];
	char note[200];                           /* e.g. "no serial ports found" */
};

/* ---- the session log ----------------------------------------------------- */

struct tui_log {
	char **lines;  /* "YYYY-MM-DD HH:MM:SS  event" */
	size_t n, cap;
	FILE *live;    /* --log FILE, appended as events happen; NULL if none */
	int live_failed;
};

/* ---- trained weights (ui/actions_model.c) -------------------------------- */

#define TUI_MODEL_CALIB 64  /* calibration images: deploy's and validate's default */
#define TUI_MODEL_IMAGES 32 /* images run on the board: validate's default */

struct tui_model {
	int loaded;
	char path[TUI_FIELD_LEN];
	int tensors;
	int file_has_arch;       /* the file's metadata names its arch */
	struct mn_arch file_arch;
	int file_has_shape;      /* ...and the network it was exported for */
	struct mn_net_shape file_shape;
	int has_arch;            /* an arch typed in the form: validated instead of the pick */
	struct mn_arch arch;
	int calib;
	int images;              /* run on the board by v */
	int has_model;           /* deploy's int8 model file given: v runs its values */
	char model_path[TUI_FIELD_LEN];
	struct mn_arch model_arch; /* the arch it was deployed for */
};

/* ---- the whole model ------------------------------------------------------ */

struct tui_app {
	const struct mn_tui_config *cfg;

	/* What the search runs on. */
	struct mn_preset flags;        /* command-line flags plus live edits (owned) */
	char preset_label[MN_PRESET_PATH]; /* name or path given, "default (embedded)" */
	struct mn_session *session;      /* heap: the engine keeps its address */
	int have_session;
	struct mn_oracle oracle;
	int have_oracle;
	char data_label[MN_PRESET_PATH];

	/* Pending rebuild of the session (a preset or table change), done when
	 * the engine has stopped. */
	int rebuild;
	struct mn_preset rebuild_preset; /* owned while rebuild is set */
	char rebuild_label[MN_PRESET_PATH];

	/* Snapshots, refreshed every tick. */
	struct mn_engine_snapshot snap;
	struct mn_engine_snapshot done_snap; /* the last finished run */
	int have_done;
	uint64_t snap_version;
	struct mn_board_job *board;
	struct mn_board_job_snapshot bsnap;
	uint64_t bsnap_version;

	/* Event tracking (what was logged already). */
	uint64_t seen_runs_ended; /* the snapshot's runs_ended last reported */
	int cache_error_said;     /* the session's cache write error shown */
	int last_decided;
	enum mn_board_job_state last_bstate;
	int last_emulator_exited; /* QEMU's death already said */
	uint64_t board_events_version;

	/* History for the plot. */
	struct tui_point points[TUI_MAX_POINTS];
	int n_points, next_point;
	struct tui_pick picks[TUI_MAX_PICKS];
	int n_picks;
	int current_pick; /* index into picks, -1 if none */

	/* The weights and limits asked for (the engine applies them at its
	 * next step, so its snapshot may lag behind a quick key repeat). */
	double w_flops, w_latency;
	struct mn_constraints limits;

	/* Rankings view state. */
	int sort_col, sort_desc, scroll;
	int view_round; /* -1: follow the current round */

	/* Modes. */
	enum tui_mode mode;
	int help_top; /* the first key row the help shows (it pages when short) */
	struct tui_form form;
	struct tui_list list;

	/* Message line: room for the four lines it wraps onto on a wide
	 * terminal, so that the fix at the end of a long error is not cut. */
	char message[1024];
	int message_error;

	/* Terminal capabilities. */
	int utf8;
	int colors;
	int too_small;

	struct tui_log log;
	struct tui_atlas atlas;
	struct tui_extend *extend; /* the background atlas build; NULL if it could not start */
	int extend_paused;         /* e: the user paused it (or it failed) */
	int extend_running;        /* a chunk is being built (as of the last poll) */
	int extend_active;         /* chunks follow one another (the search idle, not paused) */
	int extend_waiting;        /* it would extend, but the search or look-ahead runs */
	int extend_in_file;        /* rows in the file as the running chunk reports; -1: unknown */
	int extend_added;          /* rows added since the TUI started */
	double extend_rate;        /* archs per second while building */
	int plot_candidates; /* A: the candidates plot even when an atlas is loaded */

	/* Trained weights loaded with m (or --weights): v then runs the
	 * deployed model (export/model_job.h) instead of the latency check. */
	struct tui_model model;
	int quit;
};

/* ---- model (ui/model.c) ---------------------------------------------- */

/* Reads both snapshots; returns 1 when something the views show changed. */
int tui_poll(struct tui_app *a);
/* The round the rankings show (the viewed one, else the current), or NULL
 * when there is none yet. */
const struct mn_round *tui_shown_round(const struct tui_app *a, int *index);
/* Mean oracle accuracy over the archs a mask leaves (NaN without oracle). */
double tui_oracle_mean(const struct tui_app *a, const uint8_t mask[MN_EDGES]);
void tui_message(struct tui_app *a, int error, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Clears the history (after the session changed: old latencies no longer apply). */
void tui_clear_history(struct tui_app *a);

/* ---- the atlas (ui/model_atlas.c) -------------------------------------- */

/* Loads the atlas for the session's settings (none: the status names the
 * command that builds it), picks from it and hands its ranking to the
 * engine for the provisional pick.  Never fails: the status says what
 * happened. */
void tui_atlas_open(struct tui_app *a);
/* Takes over a freshly read atlas (costs set) in place of the loaded one. */
void tui_atlas_adopt(struct tui_app *a, struct mn_atlas *fresh);
/* Re-picks at the current weights and limits (and re-ranks for the engine). */
void tui_atlas_repick(struct tui_app *a);
void tui_atlas_close(struct tui_app *a);
/* The row of an arch in the atlas, -1 if it is not there. */
int tui_atlas_row(const struct tui_app *a, const struct mn_arch *arch);
/* The exact `micronas atlas` command for the session's settings. */
void tui_atlas_command(const struct tui_app *a, char *buf, size_t n);

/* ---- extending the atlas in the background (ui/atlas_extend.c) --------- */

struct tui_extend;
struct tui_extend *tui_extend_new(char *err, size_t errn);
/* Stops a chunk in progress (after its archs in flight) and frees. */
void tui_extend_free(struct tui_extend *x);
/* 1 while a chunk runs (and asks it to stop): the session must outlive it. */
int tui_extend_busy(struct tui_extend *x);
/* Every tick: takes a fresh atlas, starts a chunk when the engine is idle,
 * stops one when a search runs.  1 when something shown changed. */
int tui_extend_poll(struct tui_app *a);

/* ---- the session log (ui/session_log.c) -------------------------------- */

int tui_log_open(struct tui_log *l, const char *live_path, struct mn_error *e);
void tui_log_event(struct tui_log *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int tui_log_write(const struct tui_log *l, FILE *f);
void tui_log_close(struct tui_log *l);

/* ---- actions (ui/actions.c) ------------------------------------------- */

void tui_key(struct tui_app *a, int ch);
/* Marks the session usable and turns on the engine's look-ahead. */
void tui_session_ready(struct tui_app *a);
/* Says (log and message line) why the session's evaluation cache is not
 * used, when it is not: 1 when something was said. */
int tui_cache_notice(struct tui_app *a);
/* Applies a pending session rebuild once the engine has stopped. */
void tui_apply_rebuild(struct tui_app *a);
/* Empties a list box, freeing its values. */
void tui_list_reset(struct tui_list *l);

/* ---- the board keys' checks (ui/board_checks.c) ------------------------ */

/* 1 when a board job runs (the same kind's key cancels it, another says
 * the board is busy), else 0. */
int tui_board_busy(struct tui_app *a, enum mn_board_job_kind kind);
/* After a validation started: when the session's latency table was
 * profiled on another firmware than the board's, logs so and says it on
 * the message line, returning 1 (the caller's own message is then left
 * out); else 0. */
int tui_note_stale_table(struct tui_app *a);
/* Starts the emulated counterpart of the session's preset (its [board]
 * emulator and firmware, as 'micronas emulate --preset' does) and logs
 * it; 0, or -1 with e. */
int tui_board_emulate(struct tui_app *a, struct mn_error *e);

/* ---- trained weights (ui/actions_model.c) ------------------------------- */

/* The weights form's fields, in order; also what tui_model_load says was
 * at fault. */
enum tui_model_field { TUI_MF_WEIGHTS, TUI_MF_ARCH, TUI_MF_CALIB, TUI_MF_IMAGES, TUI_MF_MODEL };
_Static_assert(TUI_MF_MODEL < TUI_FORM_FIELDS, "the weights form has room for its fields");
/* Loads a weights file (its header checked, its arch read); arch_text may
 * be NULL or "" (the pick is validated); model_path NULL or "" (the
 * weights quantized here) or deploy's model.int8.safetensors (checked to
 * be one); calib calibration images, images run on the board by v.  0, or
 * -1 with one line in e and the input at fault in *bad (bad may be NULL). */
int tui_model_load(struct tui_app *a, const char *path, const char *arch_text,
		   const char *model_path, int calib, int images, struct mn_error *e,
		   enum tui_model_field *bad);
/* Logs the weights loaded (the file, its arch, the counts, the int8 model
 * file), for --weights and the form alike. */
void tui_model_log_loaded(struct tui_app *a);
/* The counts --calib and --images gave, else deploy's and validate's defaults. */
int tui_model_calib(const struct tui_app *a);
int tui_model_images(const struct tui_app *a);
/* Fills the form with the weights loaded (or empty fields). */
void tui_model_form(struct tui_app *a);
/* Applies the form; 0 when it may close, -1 with the form's error set. */
int tui_model_form_apply(struct tui_app *a);
/* v with weights loaded: the deployed model on the board in the background. */
void tui_model_validate(struct tui_app *a);

/* ---- saving (ui/save.c) ----------------------------------------------- */

/* Writes BASE.json (as micronas search --json), BASE.arch and BASE.log;
 * 0, or -1 with e naming the file. */
int tui_save(struct tui_app *a, const char *base, struct mn_error *e);

/* ---- drawing helpers (ui/draw.c) -------------------------------------- */

void tui_styles_init(struct tui_app *a);
int tui_attr(const struct tui_app *a, enum tui_style s);
/* Writes at most w columns of s at (y, x) (UTF-8: each sequence is one
 * column; the TUI only uses single-width glyphs).  Returns columns written. */
int tui_put(const struct tui_app *a, int y, int x, int w, enum tui_style st, const char *s);
int tui_putf(const struct tui_app *a, int y, int x, int w, enum tui_style st, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
void tui_fill(int y, int x, int w, int ch);
/* "  NAME kb KB" of a pick; over the board's memory (a search without
 * limits, or with limits above the board's; board_kb 0: unknown) in the
 * error colour with what the board has, as search's note on the command
 * line says.  always 0: only when over.  Returns the columns written. */
int tui_put_memory(const struct tui_app *a, int y, int x, int w, const char *name, int decimals,
		   double kb, double board_kb, int always);
/* A glyph by name with its ASCII fallback. */
const char *tui_glyph(const struct tui_app *a, const char *utf8, const char *ascii);
/* A progress bar of w columns. */
void tui_bar(const struct tui_app *a, int y, int x, int w, double frac);
/* A number in at most w columns with as many decimals (<= dec) as fit. */
void tui_fmt_num(char *buf, size_t n, double v, int w, int dec, int sign);
/* v rounded to dec decimals shows as zero: 0.0, else v (no "-0.0"). */
double tui_unsigned_zero(double v, int dec);
/* Wraps s into lines of at most w columns, breaking after spaces where it
 * can: line i is s[start[i]] for len[i] bytes.  Returns the number of
 * lines, at most max (the rest of s is dropped). */
int tui_wrap(const char *s, int w, int *start, int *len, int max);
/* The lines the message line needs at this width (1 to 4). */
int tui_message_lines(const struct tui_app *a, int cols);
/* Key rows the help screen shows from row top on a terminal of this size
 * (their texts wrap), and the top of the page before. */
int view_help_fit(int top, int lines, int cols);
int view_help_back(int top, int lines, int cols);
/* v with dec decimals and its sign ("+1.5", "-0.3"), but "0.0" when it
 * rounds to zero; returns buf. */
const char *tui_signed(char *buf, size_t n, double v, int dec);
/* Short op names ("c3x3") and the compact arch ("c1 | c1 c1 | c3 sk c1"). */
const char *tui_op_short(int op);
const char *tui_op_tiny(int op);
void tui_arch_compact(const struct mn_arch *a, char *buf, size_t n);

/* ---- views (ui/view_*.c) ------------------------------------------------ */

void view_status_draw(const struct tui_app *a, struct tui_rect r);
void view_progress_draw(const struct tui_app *a, struct tui_rect r);
void view_pick_draw(const struct tui_app *a, struct tui_rect r);
void view_board_draw(const struct tui_app *a, struct tui_rect r);
void view_supernet_draw(const struct tui_app *a, struct tui_rect r);
void view_rankings_draw(const struct tui_app *a, struct tui_rect r);
/* Width the rankings table wants at this terminal width. */
int view_rankings_width(int cols);
/* Rows of candidates the table shows in a panel of height h. */
int view_rankings_rows(int h);
void view_plot_draw(const struct tui_app *a, struct tui_rect r);
/* The atlas scatter (ui/view_atlas.c), drawn instead of the plot when an
 * atlas is loaded. */
void view_atlas_draw(const struct tui_app *a, struct tui_rect r);
void view_footer_draw(const struct tui_app *a, struct tui_rect r);
void view_message_draw(const struct tui_app *a, struct tui_rect r);
void view_help_draw(const struct tui_app *a);
void view_modal_draw(const struct tui_app *a);

/* Names of the sortable columns (for the header and messages). */
/* Into buf; returns buf. */
const char *tui_col_name(int col, char *buf, size_t n);
/* Sorts the indices of r's candidates by the app's sort column. */
void tui_sort_candidates(const struct tui_app *a, const struct mn_round *r, int *idx);

#endif
