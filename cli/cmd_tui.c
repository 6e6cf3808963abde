/* micronas tui: the interactive front end (ui/), with the search command's
 * preset flags, the data, the oracle and the board. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_preset.h"
#include "board/profile.h"
#include "protocol.h"
#include "tui.h"

static void tui_usage(FILE *f)
{
	fprintf(f,
		"Usage: micronas tui [--preset NAME|FILE] [--data PATH] [--oracle CSV]\n"
		"                    [--port PORT | --emulate] [--threads N] [--seed S]\n"
		"                    [--w-flops X] [--w-latency Y] [--max-latency-ms L]\n"
		"                    [--max-sram-kb S] [--max-flash-kb F] [--batch B] [--repeat R]\n"
		"                    [--init code|paper] [--ntk-grad exact|fixed-stats]\n"
		"                    [--latency-table FILE] [--az-channels C] [--az-cells N]\n"
		"                    [--proxies all|estimate]\n"
		"                    [--profile-repeats N] [--log FILE]\n"
		"                    [--save BASE] [--weights W.safetensors] [--calib N]\n"
		"                    [--model M.int8.safetensors] [--images N] [--start]\n"
		"                    [--no-color] [--no-extend]\n"
		"The interactive search: live proxy rankings, pruning progress, the latency /\n"
		"accuracy trade-off, weights and limits changed live, profiling and validation\n"
		"on the board (a serial port, or the emulated board in QEMU). Press ? inside.\n"
		"  --port PORT         the board (micronas ports lists them); --emulate starts QEMU\n"
		"  --oracle CSV        plot and save NAS-Bench-201 accuracy\n"
		"  --profile-repeats N timed runs per op when p profiles the board (default 5)\n"
		"  --log FILE          append the session log to FILE as it happens\n"
		"  --save BASE         default base name for w (BASE.json, BASE.arch, BASE.log)\n"
		"  --weights W         trained weights (as m loads them): v then runs the model\n"
		"                      'micronas deploy W ARCH' wrote on the board (--data and\n"
		"                      --calib calibration images, as deploy's defaults)\n"
		"  --calib N           calibration images for the weights (default 64, as deploy)\n"
		"  --model M           with --weights: the int8 model file deploy wrote beside\n"
		"                      model.c (DIR/model.int8.safetensors): v runs its values,\n"
		"                      as validate --model (a model deployed on another computer)\n"
		"  --images N          images v runs on the board (default 32, as validate)\n"
		"  --start             start the search at once\n"
		"  --no-color          monochrome (also when NO_COLOR is set)\n"
		"  --no-extend         do not extend the atlas while the search is idle (e starts it)\n"
		"Other options are those of 'micronas search'. 'micronas' alone on a terminal\n"
		"opens the TUI with the defaults.\n");
}

int mn_cmd_tui(int argc, char **argv)
{
	static const struct option opts[] = {
		{"preset", required_argument, 0, 'p'}, {"data", required_argument, 0, 'd'},
		{"seed", required_argument, 0, 's'}, {"w-flops", required_argument, 0, 'F'},
		{"w-latency", required_argument, 0, 'L'}, {"max-latency-ms", required_argument, 0, 'l'},
		{"max-sram-kb", required_argument, 0, 'S'}, {"max-flash-kb", required_argument, 0, 'f'},
		{"oracle", required_argument, 0, 'o'}, {"batch", required_argument, 0, 'b'},
		{"repeat", required_argument, 0, 'r'}, {"init", required_argument, 0, 'i'},
		{"ntk-grad", required_argument, 0, 'g'}, {"latency-table", required_argument, 0, 't'},
		{"az-channels", required_argument, 0, MN_OPT_AZ_CHANNELS},
		{"az-cells", required_argument, 0, MN_OPT_AZ_CELLS},
		{"proxies", required_argument, 0, MN_OPT_PROXIES},
		{"threads", required_argument, 0, 'T'}, {"port", required_argument, 0, 'P'},
		{"emulate", no_argument, 0, 'E'}, {"profile-repeats", required_argument, 0, 'R'},
		{"log", required_argument, 0, 'G'}, {"save", required_argument, 0, 'W'},
		{"start", no_argument, 0, 'A'}, {"no-color", no_argument, 0, 'C'},
		{"no-extend", no_argument, 0, 0x100}, {"weights", required_argument, 0, 0x101},
		{"calib", required_argument, 0, 0x102}, {"images", required_argument, 0, 0x103},
		{"model", required_argument, 0, 0x104},
		{"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
	};
	struct mn_cli_preset cp;
	struct mn_tui_config c;
	struct mn_error e;
	int ch;

	memset(&c, 0, sizeof c);
	c.profile_repeats = 5;
	mn_cli_preset_begin(&cp);
	optind = 1;
	while ((ch = mn_cli_getopt("tui", argc, argv, "h", opts)) != -1) {
		switch (ch) {
		case 'd': c.data_path = optarg; break;
		case 'o': c.oracle_path = optarg; break;
		case 'P': c.port = optarg; break;
		case 'E': c.emulate = 1; break;
		case 'G': c.log_path = optarg; break;
		case 'W': c.save_base = optarg; break;
		case 'A': c.start = 1; break;
		case 'C': c.no_color = 1; break;
		case 0x100: c.no_extend = 1; break;
		case 0x101: c.weights_path = optarg; break;
		case 0x104: c.model_path = optarg; break;
		case 0x102:
			if (mn_cli_int("tui", "--calib", optarg, 1, 100000, &c.model_calib))
				return mn_cli_preset_quit(&cp, MN_EXIT_USAGE);
			break;
		case 0x103:
			if (mn_cli_int("tui", "--images", optarg, 1, 1000000, &c.model_images))
				return mn_cli_preset_quit(&cp, MN_EXIT_USAGE);
			break;
		case 'T':
			if (mn_cli_int("tui", "--threads", optarg, 1, 256, &c.threads))
				return mn_cli_preset_quit(&cp, MN_EXIT_USAGE);
			break;
		case 'R':
			if (mn_cli_int("tui", "--profile-repeats", optarg, 1, MNP_MAX_REPEATS,
				       &c.profile_repeats))
				return mn_cli_preset_quit(&cp, MN_EXIT_USAGE);
			break;
		case 'h': tui_usage(stdout); return mn_cli_preset_quit(&cp, MN_EXIT_OK);
		case '?':
			/* mn_cli_getopt said why. */
			return mn_cli_preset_quit(&cp, MN_EXIT_USAGE);
		default:
			if (mn_cli_preset_option(&cp, "tui", ch, optarg))
				return mn_cli_preset_quit(&cp, MN_EXIT_USAGE);
		}
	}
	if (optind < argc) {
		mn_cli_error("tui", "unexpected argument '%s' (see 'micronas tui --help')", argv[optind]);
		return mn_cli_preset_quit(&cp, MN_EXIT_USAGE);
	}
	if (c.model_path && !c.weights_path) {
		mn_cli_error("tui", "--model goes with --weights: the int8 model's weights (see "
			     "'micronas tui --help')");
		return mn_cli_preset_quit(&cp, MN_EXIT_USAGE);
	}
	if (c.port && c.emulate) {
		mn_cli_error("tui", "--port and --emulate both name the board; give one");
		return mn_cli_preset_quit(&cp, MN_EXIT_USAGE);
	}
	if (getenv("NO_COLOR") && *getenv("NO_COLOR"))
		c.no_color = 1;
	/* The preset itself is opened by the TUI (it may switch presets later);
	 * only the flags travel. */
	c.preset_name = cp.name;
	c.flags = &cp.flags;
	int rc = mn_tui_run(&c, &e);
	mn_cli_preset_end(&cp);
	if (rc != 0) {
		mn_cli_error("tui", "%s", e.msg[0] ? e.msg : "failed");
		return MN_EXIT_ERROR;
	}
	return MN_EXIT_OK;
}
