/* The NAS-Bench-201 accuracy oracle: a fixture written here, every
 * malformed-file error, and the shared CSV when it is there. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/oracle.h"
#include "tap.h"

static char tmpdir[256];

#define A_CONV "|nor_conv_3x3~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"
#define A_MIX "|nor_conv_1x1~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|nor_conv_1x1~2|"
#define A_NONE "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"

static const char *write_csv(const char *name, const char *text, char *buf, size_t n)
{
	snprintf(buf, n, "%s/%s", tmpdir, name);
	FILE *f = fopen(buf, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		tap_diag("cannot write %s", buf);
	return buf;
}

static void test_fixture(void)
{
	char p[512], err[512];
	struct mn_oracle o;
	/* Columns in another order, an extra column, quotes, CRLF and a blank
	 * line: only the header names matter. */
	write_csv("ok.csv",
		  "arch,extra,cifar10_valid_acc200,index,params_m,flops_m\r\n"
		  "\"" A_CONV "\",x,89.982667,1160,1.316506,188.662410\r\n"
		  "\r\n" A_MIX ",y,90.714, 15363 ,0.372346,51.03681\n" A_NONE ",z,9.712,1651,0.073306,7.78305\n",
		  p, sizeof p);
	int rc = mn_oracle_load(&o, p, err, sizeof err);
	tap_ok(rc == 0, "loads a fixture (%s)", rc ? err : "ok");
	if (rc)
		return;
	tap_ok(o.count == 3, "3 rows");
	struct mn_arch a;
	struct mn_parse_error pe;
	mn_arch_parse(A_CONV, &a, &pe);
	const struct mn_oracle_entry *e = mn_oracle_get(&o, &a);
	tap_ok(e && e->nb201_index == 1160 && e->acc == 89.982667 && e->flops_m == 188.66241 &&
		       e->params_m == 1.316506 && e->line == 2,
	       "lookup by arch: index, accuracy, FLOPs, params, line");
	mn_arch_parse(A_MIX, &a, &pe);
	e = mn_oracle_get_index(&o, mn_arch_to_index(&a));
	tap_ok(e && e->nb201_index == 15363 && e->acc == 90.714 && e->line == 4, "lookup by index (blank line counted)");
	mn_arch_parse("|skip_connect~0|+|none~0|none~1|+|none~0|none~1|none~2|", &a, &pe);
	tap_ok(mn_oracle_get(&o, &a) == NULL, "an arch without a row: NULL");
	tap_ok(mn_oracle_get_index(&o, -1) == NULL && mn_oracle_get_index(&o, MN_ARCH_COUNT) == NULL,
	       "indices outside 0..15624: NULL");
	mn_oracle_free(&o);
}

static void expect_error(const char *name, const char *text, const char *where, const char *needle)
{
	char p[512], err[512], at[600];
	struct mn_oracle o;
	write_csv(name, text, p, sizeof p);
	snprintf(at, sizeof at, "%s%s", p, where);
	int rc = mn_oracle_load(&o, p, err, sizeof err);
	tap_ok(rc != 0 && o.by_index == NULL && strstr(err, at) && strstr(err, needle) && strchr(err, '(') &&
		       !strchr(err, '\n'),
	       "%s: '%s' error: %s", name, needle, err);
}

static void test_errors(void)
{
	const char *hdr = "index,arch,flops_m,params_m,cifar10_valid_acc200\n";
	char buf[2048];
	snprintf(buf, sizeof buf, "index,arch,flops_m,params_m\n1," A_CONV ",1,2\n");
	expect_error("nocol.csv", buf, ":1:", "no column 'cifar10_valid_acc200'");
	snprintf(buf, sizeof buf, "%s1," A_CONV ",1,2,9x\n", hdr);
	expect_error("badnum.csv", buf, ":2:", "cifar10_valid_acc200 '9x' is not a number");
	snprintf(buf, sizeof buf, "%s1," A_CONV ",,2,3\n", hdr);
	expect_error("emptynum.csv", buf, ":2:", "flops_m '' is empty");
	snprintf(buf, sizeof buf, "%s1," A_CONV ",1,2,3\n2,|nor_conv_5x5~0|+|none~0|none~1|+|none~0|none~1|none~2|,1,2,3\n", hdr);
	expect_error("badarch.csv", buf, ":3:", "unknown op 'nor_conv_5x5'");
	snprintf(buf, sizeof buf, "%s1," A_CONV ",1,2,3\n2," A_MIX ",1,2,3\n3," A_CONV ",1,2,3\n", hdr);
	expect_error("dup.csv", buf, ":4:", "duplicate arch");
	snprintf(buf, sizeof buf, "%s1," A_CONV ",1,2\n", hdr);
	expect_error("short.csv", buf, ":2:", "4 fields, the header has 5");
	snprintf(buf, sizeof buf, "%s1," A_CONV ",1,2,3,4\n", hdr);
	expect_error("long.csv", buf, ":2:", "6 fields");
	snprintf(buf, sizeof buf, "%s-1," A_CONV ",1,2,3\n", hdr);
	expect_error("badindex.csv", buf, ":2:", "index '-1'");
	snprintf(buf, sizeof buf, "%s1," A_CONV ",nan,2,3\n", hdr);
	expect_error("nan.csv", buf, ":2:", "not a number");
	expect_error("headeronly.csv", hdr, ":1:", "no rows");
	expect_error("empty.csv", "", ":", "empty");
	snprintf(buf, sizeof buf, "index,arch,arch,flops_m,params_m,cifar10_valid_acc200\n");
	expect_error("twice.csv", buf, ":1:", "appears twice");

	char err[512];
	struct mn_oracle o;
	int rc = mn_oracle_load(&o, "/nonexistent/nb201.csv", err, sizeof err);
	tap_ok(rc != 0 && strstr(err, "/nonexistent/nb201.csv: cannot open: No such file"), "missing file: %s", err);
}

static void test_shared(void)
{
	char buf[1024], err[512];
	const char *p = tap_shared_path("data/nb201/nb201_cifar10.csv", buf, sizeof buf);
	if (!p)
		return;
	struct mn_oracle o;
	int rc = mn_oracle_load(&o, p, err, sizeof err);
	tap_ok(rc == 0, "reads the shared CSV (%s)", rc ? err : "ok");
	if (rc)
		return;
	tap_ok(o.count == MN_ARCH_COUNT, "15625 rows (%zu)", o.count);
	int all = 1;
	for (int i = 0; i < MN_ARCH_COUNT; i++)
		all &= mn_oracle_get_index(&o, i) != NULL;
	tap_ok(all, "every arch of the space has a row");
	struct mn_arch a;
	struct mn_parse_error pe;
	mn_arch_parse(A_CONV, &a, &pe);
	const struct mn_oracle_entry *e = mn_oracle_get(&o, &a);
	/* reference.md's check values: the TE-NAS pick of MicroNAS Table I. */
	tap_ok(e && fabs(e->flops_m - 188.66241) < 1e-9 && fabs(e->params_m - 1.316506) < 1e-9 &&
		       e->nb201_index == 1160,
	       "TE-NAS pick: 188.66241 MFLOPs, 1.316506 M params, NB201 index 1160");
	mn_arch_parse(A_MIX, &a, &pe);
	e = mn_oracle_get(&o, &a);
	tap_ok(e && fabs(e->flops_m - 51.03681) < 1e-9 && fabs(e->params_m - 0.372346) < 1e-9,
	       "MicroNAS pick: 51.03681 MFLOPs, 0.372346 M params");
	double best = 0;
	int best_i = -1;
	for (int i = 0; i < MN_ARCH_COUNT; i++)
		if (o.by_index[i].acc > best) {
			best = o.by_index[i].acc;
			best_i = i;
		}
	tap_ok(best_i >= 0 && o.by_index[best_i].nb201_index == 6111 && fabs(best - 91.606667) < 1e-9,
	       "best validation accuracy 91.606667 at NB201 index 6111");
	mn_oracle_free(&o);
}

int main(void)
{
	snprintf(tmpdir, sizeof tmpdir, "%s", "/tmp/mn_test_oracle_XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	test_fixture();
	test_errors();
	test_shared();
	char cmd[512];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", tmpdir);
	return tap_done();
}
