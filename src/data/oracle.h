/* The accuracy oracle: NAS-Bench-201's results for all 15625 archs, read
 * from a CSV such as ../shared/data/nb201/nb201_cifar10.csv (columns index,
 * arch, flops_m, params_m, cifar10_valid_acc200, found by header name, in
 * any order, other columns ignored). */
#ifndef MN_ORACLE_H
#define MN_ORACLE_H

#include <stddef.h>

#include "space/arch.h"

struct mn_oracle_entry {
	int present;     /* 1 when the CSV has a row for this arch */
	int nb201_index; /* NAS-Bench-201's own index (column "index") */
	int line;        /* CSV line it came from */
	double flops_m;  /* MFLOPs, NAS-Bench-201 convention, C=16 N=5 32x32 */
	double params_m; /* M params */
	double acc;      /* cifar10_valid_acc200, percent */
};

struct mn_oracle {
	/* MN_ARCH_COUNT entries, in mn_arch_to_index() order. */
	struct mn_oracle_entry *by_index;
	size_t count; /* rows read */
};

/* Reads the CSV.  Returns 0, or -1 with err holding "FILE:LINE: problem
 * (fix)" for a missing column, a bad number, a bad arch string, a duplicate
 * arch or a row with too few or too many fields; o is then empty. */
int mn_oracle_load(struct mn_oracle *o, const char *path, char *err, size_t errn);
void mn_oracle_free(struct mn_oracle *o);

/* The entry of an arch, or NULL when the CSV has no row for it. */
const struct mn_oracle_entry *mn_oracle_get(const struct mn_oracle *o, const struct mn_arch *a);
/* The same by mn_arch_to_index() index (0..15624); NULL when out of range
 * or absent. */
const struct mn_oracle_entry *mn_oracle_get_index(const struct mn_oracle *o, int index);

#endif
