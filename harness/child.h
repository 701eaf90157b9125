/* SPDX-License-Identifier: MIT */
/* Run a program (hvtax-bench, a container or VM launcher) as a child with a timeout. */
#ifndef HVT_CHILD_H
#define HVT_CHILD_H

#include <stddef.h>
#include <stdint.h>

/* How long the child has between SIGTERM and SIGKILL once its time is up. */
#define HVT_CHILD_KILL_GRACE_NS 2000000000ull

/*
 * Run argv[0] (looked up in PATH) with argv; no shell. The child gets its own
 * process group, stdin from /dev/null, our stderr, and dies with us
 * (PR_SET_PDEATHSIG). Its stdout is read line by line and each complete line
 * (without the '\n'; a final unterminated line too) is handed to on_line as
 * it arrives, numbered from 1; lines may be several MB long. on_line may be
 * NULL; a negative return from it stops the run: the child's group is
 * terminated and that value returned.
 *
 * timeout_ns 0 means none. When it expires, the group gets SIGTERM, then
 * SIGKILL HVT_CHILD_KILL_GRACE_NS later; output already written is still
 * delivered. SIGINT, SIGTERM and SIGHUP received by us meanwhile are handled
 * the same way, and -EINTR is returned after the child is reaped.
 *
 * Returns 0 when the child ran: *exit_status is its raw wait status (use
 * WIFEXITED/WEXITSTATUS/WIFSIGNALED/WTERMSIG, or hvt_child_describe), and
 * *timed_out is 1 when it was killed for the timeout. Returns -errno when it
 * could not be started (exec failure included: -ENOENT, -EACCES, ...),
 * reported. exit_status and timed_out may be NULL.
 */
int hvt_child_run(char *const argv[], uint64_t timeout_ns,
		  int (*on_line)(void *ctx, const char *line, int lineno), void *ctx,
		  int *exit_status, int *timed_out) __attribute__((warn_unused_result));

/* "exited with status 3", "killed by signal 11 (Segmentation fault)". */
void hvt_child_describe(int status, char *buf, size_t len);

#endif
