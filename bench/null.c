/* SPDX-License-Identifier: MIT */
/* The null family: exercise the whole pipeline without hardware, and misbehave on request. */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core.h"
#include "families.h"

struct null_params {
	int64_t batch;
};

static const struct hvt_param null_loop_params[] = {
	{ "batch", HVT_P_INT, offsetof(struct null_params, batch), "1000", 1, 1e9, NULL,
	  "empty iterations between clock reads" },
};

static const struct hvt_metric null_loop_metrics[] = {
	{ "op_time", "s", HVT_LOWER_IS_BETTER, "time per empty loop iteration" },
	{ "ops", "op/s", HVT_HIGHER_IS_BETTER, "empty loop iterations per second" },
};

static int null_loop_run(const void *params, void *state, struct hvt_rep *rep)
{
	const struct null_params *p = params;
	uint64_t n = 0, t;

	(void)state;
	do {
		for (int64_t i = 0; i < p->batch; i++)
			hvt_clobber();
		n += (uint64_t)p->batch;
	} while (!hvt_rep_done(rep));
	t = hvt_now_ns() - rep->t_start_ns;
	hvt_rep_set(rep, "op_time", (double)t * 1e-9 / (double)n);
	hvt_rep_set(rep, "ops", (double)n / ((double)t * 1e-9));
	return 0;
}

const struct hvt_bench hvt_bench_null_loop = {
	.name = "null.loop",
	.help = "an empty loop: checks the pipeline, measures nothing about the machine",
	.params = null_loop_params,
	.nparams = HVT_ARRAY_SIZE(null_loop_params),
	.params_size = sizeof(struct null_params),
	.metrics = null_loop_metrics,
	.nmetrics = HVT_ARRAY_SIZE(null_loop_metrics),
	.run = null_loop_run,
};

/* null.fault: misbehaves on purpose so tests can check that a harness survives it. */
struct fault_params {
	const char *mode;
	int64_t after;
};

static const char *const fault_modes[] = { "crash", "hang", "fail", "exit", NULL };

static const struct hvt_param fault_params[] = {
	{ "mode", HVT_P_CHOICE, offsetof(struct fault_params, mode), "crash", 0, -1, fault_modes,
	  "crash: SIGSEGV; hang: never returns; fail: returns -EIO; exit: exits with status 1" },
	{ "after", HVT_P_INT, offsetof(struct fault_params, after), "0", 0, 1000, NULL,
	  "repetitions that succeed before the fault" },
};

static const struct hvt_metric fault_metrics[] = {
	{ "op_time", "s", HVT_LOWER_IS_BETTER, "time per repetition" },
};

static int fault_run(const void *params, void *state, struct hvt_rep *rep)
{
	const struct fault_params *p = params;
	static int64_t done;

	(void)state;
	if (done++ >= p->after) {
		if (strcmp(p->mode, "crash") == 0)
			raise(SIGSEGV);
		else if (strcmp(p->mode, "hang") == 0)
			for (;;)
				pause();
		else if (strcmp(p->mode, "exit") == 0)
			_exit(1);
		return -EIO;
	}
	while (!hvt_rep_done(rep))
		usleep(1000);
	hvt_rep_set(rep, "op_time", (double)(hvt_now_ns() - rep->t_start_ns) * 1e-9);
	return 0;
}

const struct hvt_bench hvt_bench_null_fault = {
	.name = "null.fault",
	.help = "fails on purpose (crash, hang, error, exit): for testing the harness",
	.params = fault_params,
	.nparams = HVT_ARRAY_SIZE(fault_params),
	.params_size = sizeof(struct fault_params),
	.metrics = fault_metrics,
	.nmetrics = HVT_ARRAY_SIZE(fault_metrics),
	.run = fault_run,
};
