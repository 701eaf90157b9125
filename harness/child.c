/* SPDX-License-Identifier: MIT */
/* Run a program as a child with a timeout, handing its stdout over line by line. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/util.h"
#include "child.h"

#define READ_CHUNK (64 * 1024)
#define MAX_LINE ((size_t)256 << 20)
#define TICK_MS 100

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

static const int caught[] = {SIGINT, SIGTERM, SIGHUP};

void hvt_child_describe(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %d (%s)%s", WTERMSIG(status),
			 strsignal(WTERMSIG(status)), WCOREDUMP(status) ? ", core dumped" : "");
	else
		snprintf(buf, len, "ended with wait status 0x%x", (unsigned)status);
}

/* In the child, between fork and exec: async-signal-safe calls only. */
static void __attribute__((noreturn))
exec_child(char *const argv[], int devnull, int out_w, int err_w, pid_t parent)
{
	struct sigaction dfl;
	sigset_t none;
	int e;

	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	for (size_t i = 0; i < HVT_ARRAY_SIZE(caught); i++)
		sigaction(caught[i], &dfl, NULL);
	sigaction(SIGPIPE, &dfl, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (dup2(devnull, STDIN_FILENO) < 0 || dup2(out_w, STDOUT_FILENO) < 0) {
		e = errno;
		goto out_report;
	}
	execvp(argv[0], argv);
	e = errno;
out_report:
	while (write(err_w, &e, sizeof(e)) < 0 && errno == EINTR)
		;
	_exit(127);
}

struct lines {
	char *buf;
	size_t len, cap;
	int lineno;
	int (*on_line)(void *ctx, const char *line, int lineno);
	void *ctx;
	int stop; /* negative: on_line failed; stop delivering */
	const char *prog;
};

static void deliver(struct lines *l, char *line, size_t n)
{
	if (n && line[n - 1] == '\r') /* serial consoles end lines with CR LF */
		n--;
	line[n] = '\0';
	l->lineno++;
	if (!l->stop && l->on_line) {
		int r = l->on_line(l->ctx, line, l->lineno);

		if (r < 0)
			l->stop = r;
	}
}

/* Read what is there. 1 at end of file, 0 otherwise, -errno on error. */
static int read_some(struct lines *l, int fd)
{
	size_t head = 0, scan;
	ssize_t n;

	if (l->cap - l->len < READ_CHUNK + 1) {
		size_t ncap = l->cap ? l->cap * 2 : 2 * READ_CHUNK;
		char *nb;

		if (l->len >= MAX_LINE) {
			hvt_err("'%s': output line %d is longer than %zu MiB", l->prog,
				l->lineno + 1, MAX_LINE >> 20);
			return -E2BIG;
		}
		nb = realloc(l->buf, ncap);
		if (!nb) {
			hvt_err("out of memory reading the output of '%s'", l->prog);
			return -ENOMEM;
		}
		l->buf = nb;
		l->cap = ncap;
	}
	n = read(fd, l->buf + l->len, l->cap - l->len - 1);
	if (n < 0)
		return (errno == EINTR || errno == EAGAIN) ? 0 : -errno;
	if (n == 0) {
		if (l->len)
			deliver(l, l->buf, l->len);
		l->len = 0;
		return 1;
	}
	scan = l->len;
	l->len += (size_t)n;
	for (;;) {
		char *nl = memchr(l->buf + scan, '\n', l->len - scan);

		if (!nl)
			break;
		deliver(l, l->buf + head, (size_t)(nl - (l->buf + head)));
		head = scan = (size_t)(nl - l->buf) + 1;
	}
	if (head) {
		memmove(l->buf, l->buf + head, l->len - head);
		l->len -= head;
	}
	return 0;
}

static int ms_until(uint64_t now, uint64_t t)
{
	uint64_t ms = t > now ? (t - now) / 1000000 + 1 : 0;

	return ms < TICK_MS ? (int)ms : TICK_MS;
}

int hvt_child_run(char *const argv[], uint64_t timeout_ns,
		  int (*on_line)(void *ctx, const char *line, int lineno), void *ctx,
		  int *exit_status, int *timed_out)
{
	struct sigaction old[HVT_ARRAY_SIZE(caught)], sa;
	struct lines l = {.on_line = on_line, .ctx = ctx};
	int out[2] = {-1, -1}, errp[2] = {-1, -1}, devnull = -1;
	int ret = 0, status = 0, eof = 0, reaped = 0, killed = 0, timeout_hit = 0, e;
	uint64_t deadline, kill_at = 0, reaped_at = 0;
	pid_t pid, me = getpid();
	ssize_t n;

	if (exit_status)
		*exit_status = 0;
	if (timed_out)
		*timed_out = 0;
	if (!argv || !argv[0])
		return -EINVAL;
	l.prog = argv[0];
	if (pipe2(out, O_CLOEXEC) || pipe2(errp, O_CLOEXEC)) {
		ret = -errno;
		hvt_err("cannot create pipe: %s", strerror(errno));
		goto out_close;
	}
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (devnull < 0) {
		ret = -errno;
		hvt_err("cannot open '/dev/null': %s", strerror(errno));
		goto out_close;
	}

	got_signal = 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: poll() returns EINTR */
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < HVT_ARRAY_SIZE(caught); i++)
		sigaction(caught[i], &sa, &old[i]);

	pid = fork();
	if (pid < 0) {
		ret = -errno;
		hvt_err("cannot start '%s': fork: %s", argv[0], strerror(errno));
		goto out_restore;
	}
	if (pid == 0)
		exec_child(argv, devnull, out[1], errp[1], me);
	setpgid(pid, pid); /* also here, so the group exists before we may signal it */
	close(out[1]);
	close(errp[1]);
	close(devnull);
	out[1] = errp[1] = devnull = -1;

	do
		n = read(errp[0], &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)sizeof(e)) {
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		ret = -e;
		hvt_err("cannot run '%s': %s", argv[0], strerror(e));
		goto out_restore;
	}

	deadline = timeout_ns ? hvt_now_ns() + timeout_ns : 0;
	for (;;) {
		uint64_t now = hvt_now_ns();
		struct pollfd pfd = {.fd = out[0], .events = POLLIN};
		int to = TICK_MS;

		if (!kill_at && (got_signal || l.stop || (deadline && now >= deadline))) {
			timeout_hit = !got_signal && !l.stop;
			kill(-pid, SIGTERM);
			kill_at = now + HVT_CHILD_KILL_GRACE_NS;
		}
		if (kill_at && !killed && now >= kill_at) {
			kill(-pid, SIGKILL);
			killed = 1;
		}
		if (!reaped) {
			pid_t r = waitpid(pid, &status, WNOHANG);

			if (r == pid) {
				reaped = 1;
				reaped_at = now;
			} else if (r < 0 && errno != EINTR) {
				ret = -errno;
				hvt_err("cannot wait for '%s': %s", argv[0], strerror(errno));
				goto out_restore;
			}
		}
		/* a leftover grandchild may hold our pipe: it gets the grace period, no more */
		if (reaped && (eof || now >= reaped_at + HVT_CHILD_KILL_GRACE_NS)) {
			if (!eof)
				kill(-pid, SIGKILL);
			break;
		}
		if (deadline && !kill_at)
			to = ms_until(now, deadline);
		else if (kill_at && !killed)
			to = ms_until(now, kill_at);
		if (reaped)
			to = to < 10 ? to : 10;
		if (eof) {
			poll(NULL, 0, to < 10 ? to : 10);
			continue;
		}
		if (poll(&pfd, 1, to) <= 0)
			continue;
		e = read_some(&l, out[0]);
		if (e < 0) {
			if (!l.stop)
				l.stop = e;
			eof = 1;
		} else if (e > 0) {
			eof = 1;
		}
	}
	if (exit_status)
		*exit_status = status;
	if (timed_out)
		*timed_out = timeout_hit;
	if (got_signal)
		ret = -EINTR;
	else if (l.stop)
		ret = l.stop;

out_restore:
	for (size_t i = 0; i < HVT_ARRAY_SIZE(caught); i++)
		sigaction(caught[i], &old[i], NULL);
out_close:
	for (int i = 0; i < 2; i++) {
		if (out[i] >= 0)
			close(out[i]);
		if (errp[i] >= 0)
			close(errp[i]);
	}
	if (devnull >= 0)
		close(devnull);
	free(l.buf);
	return ret;
}
