/* SPDX-License-Identifier: MIT */
/* hvtax: the control plane. Runs suites in targets, stores results, analyses and reports. */
#include <stdio.h>
#include <string.h>

#include "../common/util.h"

int main(int argc, char **argv)
{
	hvt_set_prog("hvtax");
	if (argc < 2 || strcmp(argv[1], "--help") == 0) {
		printf("usage: hvtax <command> [options]\n");
		return argc < 2 ? HVT_EXIT_USAGE : 0;
	}
	hvt_err("unknown command '%s'", argv[1]);
	return HVT_EXIT_USAGE;
}
