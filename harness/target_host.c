/* SPDX-License-Identifier: MIT */
/* Target host: hvtax-bench's agent as a local child process. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "run.h"
#include "target.h"
#include "../common/util.h"

static int host_start(struct hvt_target *t, const struct hvt_launch *l)
{
	char **argv = hvt_calloc(hvt_launch_nextra(l) + 12, sizeof(*argv));
	char *payload_bench = NULL;
	const char *bench = hvt_bench_path();
	size_t n = 0;
	int r;

	if (!argv)
		return -ENOMEM;
	/* with a payload, run its copy: the very binary the other targets run */
	if (t->payload_hash[0]) {
		payload_bench = hvt_asprintf("%s/rootfs/bin/hvtax-bench", t->conf.payload);
		if (payload_bench && access(payload_bench, X_OK) == 0)
			bench = payload_bench;
	}
	json_object_set_new(t->facts, "bench", json_string(bench));
	hvt_target_agent_args(argv, &n, bench, l->suite_path, l);
	t->framed = 0;
	r = hvt_target_spawn(t, argv, NULL);
	free(argv);
	free(payload_bench);
	return r;
}

const struct hvt_target_ops hvt_target_host_ops = {
	.kind = "host",
	.help = "hvtax-bench as a local child process",
	.start = host_start,
};
