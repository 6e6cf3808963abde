#include "cli_preset.h"

#include <string.h>

#include "cli.h"
#include "config/preset_find.h"

void mn_cli_preset_begin(struct mn_cli_preset *cp)
{
	memset(cp, 0, sizeof *cp);
	mn_preset_defaults(&cp->flags);
	cp->flags.set = 0;
}

static const struct {
	int ch;
	enum mn_preset_field field;
	const char *flag;
} flag_fields[] = {
	{'s', MN_PF_SEED, "--seed"},
	{'F', MN_PF_W_FLOPS, "--w-flops"},
	{'L', MN_PF_W_LATENCY, "--w-latency"},
	{'l', MN_PF_MAX_LATENCY_MS, "--max-latency-ms"},
	{'S', MN_PF_MAX_SRAM_KB, "--max-sram-kb"},
	{'f', MN_PF_MAX_FLASH_KB, "--max-flash-kb"},
	{'b', MN_PF_BATCH, "--batch"},
	{'r', MN_PF_REPEAT, "--repeat"},
	{'i', MN_PF_INIT, "--init"},
	{'g', MN_PF_NTK_GRAD, "--ntk-grad"},
	{'t', MN_PF_LATENCY_TABLE, "--latency-table"},
	{MN_OPT_AZ_CHANNELS, MN_PF_AZ_CHANNELS, "--az-channels"},
	{MN_OPT_AZ_CELLS, MN_PF_AZ_CELLS, "--az-cells"},
	{MN_OPT_PROXIES, MN_PF_PROXIES, "--proxies"},
};

int mn_cli_preset_option(struct mn_cli_preset *cp, const char *cmd, int ch, const char *value)
{
	struct mn_error e;
	if (ch == 'p') {
		cp->name = value;
		return 0;
	}
	for (size_t i = 0; i < sizeof flag_fields / sizeof flag_fields[0]; i++) {
		if (flag_fields[i].ch != ch)
			continue;
		if (mn_preset_set(&cp->flags, flag_fields[i].field, value, flag_fields[i].flag, NULL, &e)) {
			mn_cli_error(cmd, "%s", e.msg);
			cp->error = 1;
			return -1;
		}
		return 0;
	}
	mn_cli_error(cmd, "unknown option (see 'micronas %s --help')", cmd);
	return -1;
}

void mn_cli_preset_end(struct mn_cli_preset *cp)
{
	mn_preset_free(&cp->flags);
}

int mn_cli_preset_quit(struct mn_cli_preset *cp, int exit_code)
{
	mn_cli_preset_end(cp);
	return exit_code;
}

int mn_cli_load_preset(const char *cmd, const char *name, struct mn_preset *p)
{
	struct mn_error e;
	if (mn_preset_open_or_default(p, name, &e) != 0) {
		mn_cli_error(cmd, "%s", e.msg);
		return -1;
	}
	return 0;
}

int mn_cli_preset_finish(struct mn_cli_preset *cp, const char *cmd, struct mn_preset *out)
{
	struct mn_error e;
	if (cp->error || mn_cli_load_preset(cmd, cp->name, out) != 0) {
		mn_cli_preset_end(cp);
		return -1;
	}
	int rc = mn_preset_override(out, &cp->flags, &e);
	mn_cli_preset_end(cp);
	if (rc != 0) {
		mn_cli_error(cmd, "%s", e.msg);
		mn_preset_free(out);
		return -1;
	}
	return 0;
}
