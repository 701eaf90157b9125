/* SPDX-License-Identifier: MIT */
/* Unit tests of harness/child.c: line delivery, timeouts, crashes, start failures. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "../../common/util.h"
#include "../../harness/child.h"

struct got {
	char *line[8];
	size_t len[8];
	int lineno[8];
	int n;
	int fail_with; /* on_line returns this (0 = accept) */
};

static int collect(void *ctx, const char *line, int lineno)
{
	struct got *g = ctx;

	if (g->n < 8) {
		g->len[g->n] = strlen(line);
		g->line[g->n] = strndup(line, 64);
		g->lineno[g->n] = lineno;
	}
	g->n++;
	return g->fail_with;
}

static void got_free(struct got *g)
{
	for (int i = 0; i < g->n && i < 8; i++)
		free(g->line[i]);
}

static int sh(const char *script, uint64_t timeout_ns, struct got *g, int *status, int *timed_out)
{
	char *argv[] = {"/bin/sh", "-c", (char *)script, NULL};

	return hvt_child_run(argv, timeout_ns, collect, g, status, timed_out);
}

static void test_lines_arrive(void **state)
{
	struct got g = {0};
	int status = -1, to = -1;

	(void)state;
	assert_int_equal(sh("echo a; echo b", 0, &g, &status, &to), 0);
	assert_int_equal(g.n, 2);
	assert_string_equal(g.line[0], "a");
	assert_string_equal(g.line[1], "b");
	assert_int_equal(g.lineno[0], 1);
	assert_int_equal(g.lineno[1], 2);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(to, 0);
	got_free(&g);
}

static void test_long_and_unterminated_lines(void **state)
{
	struct got g = {0};
	int status, to;

	(void)state;
	assert_int_equal(
	    sh("head -c 3000000 /dev/zero | tr '\\000' x; echo; printf 'last\\r\\nend'", 0, &g,
	       &status, &to),
	    0);
	assert_int_equal(g.n, 3);
	assert_int_equal(g.len[0], 3000000);
	assert_string_equal(g.line[1], "last"); /* CR of CR LF dropped */
	assert_string_equal(g.line[2], "end");	/* unterminated last line delivered */
	got_free(&g);
}

static void test_exit_status(void **state)
{
	struct got g = {0};
	char desc[128];
	int status, to;

	(void)state;
	assert_int_equal(sh("echo x; exit 3", 0, &g, &status, &to), 0);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 3);
	hvt_child_describe(status, desc, sizeof(desc));
	assert_string_equal(desc, "exited with status 3");
	got_free(&g);
}

static void test_timeout_kills(void **state)
{
	struct got g = {0};
	uint64_t t0 = hvt_now_ns();
	int status, to;

	(void)state;
	assert_int_equal(sh("echo started; sleep 30", 300000000ull, &g, &status, &to), 0);
	assert_int_equal(to, 1);
	assert_true(hvt_now_ns() - t0 < 3000000000ull);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGTERM);
	assert_int_equal(g.n, 1); /* partial output kept */
	got_free(&g);
}

static void test_timeout_sigkill_after_grace(void **state)
{
	struct got g = {0};
	uint64_t t0 = hvt_now_ns(), dt;
	int status, to;

	(void)state;
	assert_int_equal(
	    sh("trap '' TERM; while :; do sleep 1; done", 200000000ull, &g, &status, &to), 0);
	dt = hvt_now_ns() - t0;
	assert_int_equal(to, 1);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
	assert_true(dt >= HVT_CHILD_KILL_GRACE_NS);
	assert_true(dt < 4000000000ull);
	got_free(&g);
}

static void test_crash_reported(void **state)
{
	struct got g = {0};
	char desc[128];
	int status, to;

	(void)state;
	assert_int_equal(sh("kill -SEGV $$", 5000000000ull, &g, &status, &to), 0);
	assert_int_equal(to, 0);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGSEGV);
	hvt_child_describe(status, desc, sizeof(desc));
	assert_non_null(strstr(desc, "signal 11"));
	got_free(&g);
}

static void test_exec_failure(void **state)
{
	char *argv[] = {"/nonexistent/hvtax-bench", NULL};
	int status, to;

	(void)state;
	assert_int_equal(hvt_child_run(argv, 0, NULL, NULL, &status, &to), -ENOENT);
	assert_int_equal(
	    hvt_child_run((char *[]){"hvtax-no-such-program-x", NULL}, 0, NULL, NULL, NULL, NULL),
	    -ENOENT);
}

static void test_callback_stops_child(void **state)
{
	struct got g = {.fail_with = -ECANCELED};
	uint64_t t0 = hvt_now_ns();
	int status, to;

	(void)state;
	assert_int_equal(sh("echo a; echo b; sleep 30", 0, &g, &status, &to), -ECANCELED);
	assert_int_equal(g.n, 1); /* nothing more delivered after a failure */
	assert_int_equal(to, 0);
	assert_true(WIFSIGNALED(status));
	assert_true(hvt_now_ns() - t0 < 3000000000ull);
	got_free(&g);
}

static void test_grandchild_holding_pipe(void **state)
{
	struct got g = {0};
	uint64_t t0 = hvt_now_ns();
	int status, to;

	(void)state;
	/* the shell exits at once; its background sleep keeps stdout open */
	assert_int_equal(sh("sleep 30 & echo x", 0, &g, &status, &to), 0);
	assert_true(WIFEXITED(status));
	assert_int_equal(g.n, 1);
	assert_true(hvt_now_ns() - t0 < 4000000000ull);
	got_free(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lines_arrive),
	    cmocka_unit_test(test_long_and_unterminated_lines),
	    cmocka_unit_test(test_exit_status),
	    cmocka_unit_test(test_timeout_kills),
	    cmocka_unit_test(test_timeout_sigkill_after_grace),
	    cmocka_unit_test(test_crash_reported),
	    cmocka_unit_test(test_exec_failure),
	    cmocka_unit_test(test_callback_stops_child),
	    cmocka_unit_test(test_grandchild_holding_pipe),
	};

	hvt_set_prog("test_child");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
