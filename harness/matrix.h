/* SPDX-License-Identifier: MIT */
/* hvtax matrix: one suite in several targets, interleaved round by round, taxes against host. */
#ifndef HVT_MATRIX_H
#define HVT_MATRIX_H

#include <stddef.h>
#include <stdint.h>

struct hvt_matrix_opts {
	const char *suite;		 /* suite name or file; may be NULL with benches */
	const char *benches;		 /* -b list for the agents, may be NULL */
	const char *const *targets;	 /* target specs, in round order */
	size_t ntargets;
	const char *label_prefix;	 /* labels are PREFIX-TARGET (or TARGET) */
	const char *label;		 /* exact label (one target only), overrides the prefix */
	const char *db;
	const char *const *conf_files;	 /* --target-config files, NULL-terminated, may be NULL */
	const char *payload;		 /* payload dir, NULL: the targets' default */
	char *const *extra;		 /* more hvtax-bench arguments, may be NULL */
	uint64_t round_timeout_ns;	 /* 0: from the suite's estimate */
	unsigned rounds;		 /* 0: the suite's */
	const char *peer_target;	 /* net cases' serving end in this target (netpair.h), or NULL */
	unsigned peer_port;		 /* its port (0: HVT_NETPAIR_PORT) */
	const char *peer_addr;		 /* the server's address for every client, NULL: worked out */
};

#define HVT_NETPAIR_PORT 7361

/*
 * Start every target's agent and keep it up; drive rounds 0..R-1 interleaved
 * (round k in each target in turn); store each target's records as its own run
 * (one transaction each, failed runs with their error and what arrived).
 * run_ids (ntargets entries) get each run id, 0 for a target skipped here
 * (its reason printed), -1 when nothing could be stored. Returns the exit code:
 * 0 all started targets ok, 1 a target failed, 2 usage or config error.
 */
int hvt_matrix_run(const struct hvt_matrix_opts *o, int64_t *run_ids);

/* hvtax matrix --suite S --targets host,container,vm [--label-prefix P] [--db F] ... */
int hvt_cmd_matrix(int argc, char **argv);

#endif
