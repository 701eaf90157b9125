/* SPDX-License-Identifier: MIT */
/* Targets: the table, their configs, and the agent channel shared by every backend. */
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "run.h"
#include "target.h"
#include "../common/units.h"
#include "../common/util.h"

static const struct hvt_target_ops *const targets[] = {
	&hvt_target_host_ops,
	&hvt_target_container_ops,
	&hvt_target_vm_ops,
	&hvt_target_ssh_ops,
};

const struct hvt_target_ops *hvt_target_find(const char *spec)
{
	size_t n = strcspn(spec, ":");

	for (size_t i = 0; i < HVT_ARRAY_SIZE(targets); i++)
		if (strlen(targets[i]->kind) == n && !strncmp(spec, targets[i]->kind, n))
			return targets[i];
	return NULL;
}

const char *hvt_target_kinds(void)
{
	return "host, container, vm, ssh:HOST";
}

int hvt_target_fail(struct hvt_target *t, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->why, sizeof(t->why), fmt, ap);
	va_end(ap);
	return err;
}

/* ---- configuration ---- */

enum ckind { C_STR, C_DUR, C_UINT };

struct ckey {
	const char *name;
	enum ckind kind;
	size_t off, size;
};

#define CS(n, f) { n, C_STR, offsetof(struct hvt_target_conf, f), sizeof(((struct hvt_target_conf *)0)->f) }
#define CD(n, f) { n, C_DUR, offsetof(struct hvt_target_conf, f), 0 }
#define CU(n, f) { n, C_UINT, offsetof(struct hvt_target_conf, f), 0 }

/* Every key of every section; docs/targets.md says which kind uses which. */
static const struct ckey ckeys[] = {
	CS("payload", payload),	   CD("start_timeout", start_timeout_ns),
	CD("stop_timeout", stop_timeout_ns),
	CS("engine", engine),	   CS("runtime", oci_runtime),	 CS("ulimits", ulimits),
	CS("cpus", cpus),	   CS("cpuset", cpuset),	 CS("memory", memory),
	CS("network", network),	   CS("seccomp", seccomp),	 CS("image", image),
	CS("extra_args", extra),   CS("qemu", qemu),		 CS("kernel", kernel),
	CS("cpu_model", cpu_model), CS("accel", accel),		 CS("pin", pin),
	CS("append", append),	   CS("disk_size", disk_size),	 CS("disk_dir", disk_dir),
	CU("vcpus", vcpus),
	CS("ssh", ssh),		   CS("host", host),		 CS("user", user),
	CS("port", port),	   CS("remote_dir", remote_dir),
};

struct cparse {
	struct hvt_target_conf *c;
	const char *file;
	int err;
};

static int set_key(struct cparse *p, const char *key, const char *value)
{
	const char *names[HVT_ARRAY_SIZE(ckeys) + 2];
	const char *dym;
	size_t nn = 0;

	/* memory and network mean different things to a container and a VM */
	if (!strcmp(p->c->kind, "vm") && !strcmp(key, "memory"))
		key = "vm_memory";
	if (!strcmp(p->c->kind, "vm") && !strcmp(key, "network"))
		key = "vm_network";
	if (!strcmp(key, "vm_memory") || !strcmp(key, "vm_network")) {
		char *dst = !strcmp(key, "vm_memory") ? p->c->vm_memory : p->c->vm_network;
		size_t sz = !strcmp(key, "vm_memory") ? sizeof(p->c->vm_memory) : sizeof(p->c->vm_network);

		if (strlen(value) >= sz)
			goto too_long;
		snprintf(dst, sz, "%s", value);
		return 0;
	}
	if (!strcmp(key, "kvm_probe_timeout")) {
		if (hvt_parse_duration(value, &p->c->kvm_probe_ns)) {
			hvt_err("%s: kvm_probe_timeout: '%s' is not a duration (e.g. 20s)", p->file, value);
			return -EINVAL;
		}
		return 0;
	}
	for (size_t i = 0; i < HVT_ARRAY_SIZE(ckeys); i++) {
		const struct ckey *k = &ckeys[i];
		char *base = (char *)p->c;

		if (strcmp(k->name, key))
			continue;
		if (k->kind == C_STR) {
			if (strlen(value) >= k->size)
				goto too_long;
			snprintf(base + k->off, k->size, "%s", value);
		} else if (k->kind == C_DUR) {
			if (hvt_parse_duration(value, (uint64_t *)(void *)(base + k->off))) {
				hvt_err("%s: %s: '%s' is not a duration (e.g. 90s)", p->file, key,
					value);
				return -EINVAL;
			}
		} else {
			int64_t v;

			if (hvt_parse_int(value, &v) || v < 1 || v > 1024) {
				hvt_err("%s: %s: '%s' is not a count between 1 and 1024", p->file,
					key, value);
				return -EINVAL;
			}
			*(unsigned *)(void *)(base + k->off) = (unsigned)v;
		}
		return 0;
	}
	for (size_t i = 0; i < HVT_ARRAY_SIZE(ckeys); i++)
		names[nn++] = ckeys[i].name;
	dym = hvt_did_you_mean(key, names, nn);
	if (dym)
		hvt_err("%s: unknown key '%s' (did you mean '%s'?)", p->file, key, dym);
	else
		hvt_err("%s: unknown key '%s' (see docs/targets.md)", p->file, key);
	return -EINVAL;
too_long:
	hvt_err("%s: %s: value is too long", p->file, key);
	return -EINVAL;
}

static int on_ini(void *user, const char *section, const char *key, const char *value)
{
	struct cparse *p = user;

	if (p->err)
		return 1;
	/* a file may configure several kinds; only our section counts */
	if (strcmp(section, p->c->kind) != 0)
		return 1;
	p->err = set_key(p, key, value);
	return 1;
}

static int load_conf(struct hvt_target_conf *c, const char *file)
{
	struct cparse p = { .c = c, .file = file };
	int r = ini_parse(file, on_ini, &p);

	if (r < 0) {
		hvt_err("cannot open '%s': %s", file, strerror(errno));
		return -ENOENT;
	}
	if (r > 0) {
		hvt_err("%s:%d: not an INI line (expected [section] or key = value)", file, r);
		return -EINVAL;
	}
	return p.err;
}

static int is_file(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* configs/targets/KIND.ini where suites are looked for too. malloc'd or NULL. */
static char *default_conf(const char *kind)
{
	const char *env = getenv("HVTAX_CONFIGS");
	char exe[PATH_MAX], *cand;
	ssize_t n;

	if (env && *env) {
		cand = hvt_asprintf("%s/targets/%s.ini", env, kind);
		if (cand && is_file(cand))
			return cand;
		free(cand);
	}
	cand = hvt_asprintf("configs/targets/%s.ini", kind);
	if (cand && is_file(cand))
		return cand;
	free(cand);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		char *slash;

		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			cand = hvt_asprintf("%s/../configs/targets/%s.ini", exe, kind);
			if (cand && is_file(cand))
				return cand;
			free(cand);
			cand = hvt_asprintf("%s/../share/hvtax/configs/targets/%s.ini", exe, kind);
			if (cand && is_file(cand))
				return cand;
			free(cand);
		}
	}
	return NULL;
}

/*
 * Load one config file; a seccomp profile it names by a relative path is the
 * file next to it when one is there (the shipped container.ini names
 * seccomp-io_uring.json beside itself, and hvtax may run from any directory).
 */
static int load_conf_at(struct hvt_target_conf *c, const char *file)
{
	char before[sizeof(c->seccomp)];
	const char *slash = strrchr(file, '/');
	int r;

	memcpy(before, c->seccomp, sizeof(before));
	r = load_conf(c, file);
	if (r || !slash || !strcmp(before, c->seccomp) || c->seccomp[0] == '/' ||
	    !strcmp(c->seccomp, "default") || !strcmp(c->seccomp, "unconfined"))
		return r;
	{
		char *cand = hvt_asprintf("%.*s/%s", (int)(slash - file), file, c->seccomp);

		if (cand && is_file(cand) && strlen(cand) < sizeof(c->seccomp))
			snprintf(c->seccomp, sizeof(c->seccomp), "%s", cand);
		free(cand);
	}
	return 0;
}

static void conf_defaults(struct hvt_target_conf *c, const char *kind)
{
	const char *b = hvt_bench_path();
	const char *slash = strrchr(b, '/');

	memset(c, 0, sizeof(*c));
	snprintf(c->kind, sizeof(c->kind), "%s", kind);
	/* the payload sits in the build dir, next to hvtax-bench */
	if (slash)
		snprintf(c->payload, sizeof(c->payload), "%.*s/payload", (int)(slash - b), b);
	else
		snprintf(c->payload, sizeof(c->payload), "build/payload");
	c->start_timeout_ns = 60 * HVT_TARGET_S;
	c->stop_timeout_ns = 15 * HVT_TARGET_S;
	snprintf(c->engine, sizeof(c->engine), "podman");
	snprintf(c->network, sizeof(c->network), "none");
	snprintf(c->seccomp, sizeof(c->seccomp), "default");
	snprintf(c->qemu, sizeof(c->qemu), "qemu-system-x86_64");
	snprintf(c->cpu_model, sizeof(c->cpu_model), "max");
	snprintf(c->accel, sizeof(c->accel), "auto");
	snprintf(c->disk_size, sizeof(c->disk_size), "2GiB");
	snprintf(c->vm_network, sizeof(c->vm_network), "user");
	snprintf(c->vm_memory, sizeof(c->vm_memory), "1GiB");
	c->kvm_probe_ns = 20 * HVT_TARGET_S;
	snprintf(c->ssh, sizeof(c->ssh), "ssh");
	snprintf(c->remote_dir, sizeof(c->remote_dir), "/tmp/hvtax-payload");
	if (!strcmp(kind, "vm"))
		c->start_timeout_ns = 120 * HVT_TARGET_S;
}

int hvt_target_init(struct hvt_target *t, const char *spec, const char *const *conf_files,
		    const char *payload)
{
	const struct hvt_target_ops *ops = hvt_target_find(spec);
	char *def;
	int r = 0;

	memset(t, 0, sizeof(*t));
	t->cmd_fd = t->rec_fd = -1;
	if (!ops) {
		hvt_err("unknown target '%s' (targets: %s)", spec, hvt_target_kinds());
		return -ENOENT;
	}
	t->ops = ops;
	snprintf(t->name, sizeof(t->name), "%s", spec);
	conf_defaults(&t->conf, ops->kind);
	if (!strncmp(spec, "ssh:", 4)) {
		const char *h = spec + 4, *at = strchr(h, '@');

		if (!*h || strlen(h) >= sizeof(t->conf.host)) {
			hvt_err("target '%s': expected ssh:HOST or ssh:USER@HOST", spec);
			return -EINVAL;
		}
		if (at) {
			snprintf(t->conf.user, sizeof(t->conf.user), "%.*s", (int)(at - h), h);
			h = at + 1;
		}
		snprintf(t->conf.host, sizeof(t->conf.host), "%s", h);
	} else if (!strcmp(ops->kind, "ssh")) {
		hvt_err("target 'ssh' needs a host: ssh:HOST");
		return -EINVAL;
	}
	def = default_conf(ops->kind);
	if (def)
		r = load_conf_at(&t->conf, def);
	free(def);
	for (size_t i = 0; !r && conf_files && conf_files[i]; i++)
		r = load_conf_at(&t->conf, conf_files[i]);
	if (r)
		return r == -ENOENT ? -EINVAL : r;
	if (payload)
		snprintf(t->conf.payload, sizeof(t->conf.payload), "%s", payload);
	{
		/* engines resolve paths against their own directories: make it absolute */
		char *abs = realpath(t->conf.payload, NULL);

		if (abs && strlen(abs) < sizeof(t->conf.payload))
			snprintf(t->conf.payload, sizeof(t->conf.payload), "%s", abs);
		free(abs);
	}
	t->facts = json_object();
	return t->facts ? 0 : -ENOMEM;
}

/* ---- processes ---- */

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

void hvt_target_catch_signals(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < HVT_ARRAY_SIZE(sigs); i++)
		sigaction(sigs[i], &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int hvt_target_interrupted(void)
{
	return got_signal != 0;
}

static int make_tmpdir(struct hvt_target *t)
{
	const char *base = getenv("TMPDIR");
	char tmpl[PATH_MAX];

	if (t->tmpdir[0])
		return 0;
	snprintf(tmpl, sizeof(tmpl), "%s/hvtax-target.XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(tmpl))
		return hvt_target_fail(t, -errno, "cannot create a temporary directory: %s",
				       strerror(errno));
	snprintf(t->tmpdir, sizeof(t->tmpdir), "%s", tmpl);
	return 0;
}

/* Between fork and exec: async-signal-safe calls only. */
static void __attribute__((noreturn))
child_exec(char *const argv[], int in_fd, int out_fd, int err_fd, pid_t parent, cpu_set_t *set)
{
	sigset_t none;

	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (set)
		sched_setaffinity(0, sizeof(*set), set);
	if (dup2(in_fd, STDIN_FILENO) < 0 || dup2(out_fd, STDOUT_FILENO) < 0 ||
	    dup2(err_fd, STDERR_FILENO) < 0)
		_exit(127);
	execvp(argv[0], argv);
	_exit(127);
}

static int parse_cpulist(const char *s, cpu_set_t *set)
{
	CPU_ZERO(set);
	while (*s) {
		char *end;
		long a = strtol(s, &end, 10), b;

		if (end == s || a < 0 || a >= CPU_SETSIZE)
			return -EINVAL;
		b = a;
		s = end;
		if (*s == '-') {
			b = strtol(s + 1, &end, 10);
			if (end == s + 1 || b < a || b >= CPU_SETSIZE)
				return -EINVAL;
			s = end;
		}
		for (long i = a; i <= b; i++)
			CPU_SET((int)i, set);
		if (*s == ',')
			s++;
		else if (*s)
			return -EINVAL;
	}
	return 0;
}

int hvt_target_spawn(struct hvt_target *t, char *const argv[], const char *cpus)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, err_fd = -1, r;
	cpu_set_t set, *setp = NULL;
	char log[PATH_MAX + 16];
	pid_t pid, me = getpid();

	r = make_tmpdir(t);
	if (r)
		return r;
	if (cpus && *cpus) {
		if (parse_cpulist(cpus, &set))
			return hvt_target_fail(t, -EINVAL, "pin: '%s' is not a cpu list (e.g. 0-3,6)",
					       cpus);
		setp = &set;
	}
	snprintf(log, sizeof(log), "%s/stderr.log", t->tmpdir);
	err_fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (err_fd < 0)
		return hvt_target_fail(t, -errno, "cannot create '%s': %s", log, strerror(errno));
	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC)) {
		r = hvt_target_fail(t, -errno, "cannot create pipe: %s", strerror(errno));
		goto out_close;
	}
	pid = fork();
	if (pid < 0) {
		r = hvt_target_fail(t, -errno, "cannot start '%s': fork: %s", argv[0], strerror(errno));
		goto out_close;
	}
	if (pid == 0)
		child_exec(argv, in[0], out[1], err_fd, me, setp);
	setpgid(pid, pid);
	t->pid = pid;
	t->reaped = 0;
	t->cmd_fd = in[1];
	t->rec_fd = out[0];
	in[1] = out[0] = -1;
	t->eof = 0;
	t->len = 0;
	r = 0;
out_close:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (out[i] >= 0)
			close(out[i]);
	}
	close(err_fd);
	return r;
}

/*
 * Run argv to completion within timeout_ns, capturing one stream (1 stdout,
 * 2 stderr) into buf: its last non-empty line (last = 1) or all of it with
 * trailing newlines cut. The other stream goes to /dev/null.
 */
static int run_capture(char *const argv[], uint64_t timeout_ns, int stream, int last, char *buf,
		       size_t len)
{
	char tmpl[] = "/tmp/hvtax-probe.XXXXXX";
	int fd = mkstemp(tmpl), devnull, status = 0, r;
	uint64_t deadline = hvt_now_ns() + timeout_ns;
	pid_t pid, me = getpid();

	if (buf && len)
		buf[0] = '\0';
	if (fd < 0)
		return -errno;
	unlink(tmpl);
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	pid = fork();
	if (pid < 0) {
		r = -errno;
		goto out;
	}
	if (pid == 0)
		child_exec(argv, devnull, stream == 1 ? fd : devnull, stream == 2 ? fd : devnull, me, NULL);
	setpgid(pid, pid);
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (w == pid)
			break;
		if (hvt_now_ns() >= deadline) {
			kill(-pid, SIGKILL);
			waitpid(pid, &status, 0);
			r = -ETIME;
			goto out;
		}
		usleep(20000);
	}
	if (buf && len) {
		char tmp[4096];
		ssize_t n = pread(fd, tmp, sizeof(tmp) - 1, 0);

		if (n > 0) {
			char *line, *lastl = NULL, *save = NULL;

			tmp[n] = '\0';
			if (last) {
				for (line = strtok_r(tmp, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
					lastl = line;
				if (lastl)
					snprintf(buf, len, "%s", lastl);
			} else {
				while (n > 0 && (tmp[n - 1] == '\n' || tmp[n - 1] == '\r'))
					tmp[--n] = '\0';
				snprintf(buf, len, "%s", tmp);
			}
		}
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && buf && !buf[0])
		r = -ENOENT;
	else
		r = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
out:
	close(fd);
	close(devnull);
	return r;
}

int hvt_target_run_quiet(char *const argv[], uint64_t timeout_ns, char *errbuf, size_t errlen)
{
	return run_capture(argv, timeout_ns, 2, 1, errbuf, errlen);
}

int hvt_target_run_output(char *const argv[], uint64_t timeout_ns, char *out, size_t outlen)
{
	return run_capture(argv, timeout_ns, 1, 0, out, outlen);
}

/*
 * The last `lines` non-empty lines of file `path` into buf, joined by " | ", each without
 * trailing blanks ("" if none). '\r' (a serial console's line ends) counts as blank.
 */
static void file_tail(const char *path, int lines, char *buf, size_t len)
{
	char *s, *p;
	size_t n = 0, off = 0;
	int k = 0;

	buf[0] = '\0';
	if (!(s = hvt_read_file(path, &n)))
		return;
	for (p = s + n; p > s && k < lines; k++) {
		while (p > s && (p[-1] == '\n' || p[-1] == '\r' || p[-1] == ' '))
			p--;
		while (p > s && p[-1] != '\n')
			p--;
	}
	while (*p && off + 1 < len) {
		size_t l = strcspn(p, "\r\n"), w = l;
		int r;

		while (w && p[w - 1] == ' ')
			w--;
		if (w) {
			r = snprintf(buf + off, len - off, "%s%.*s", off ? " | " : "", (int)w, p);
			if (r < 0 || (size_t)r >= len - off)
				break;
			off += (size_t)r;
		}
		p += l;
		p += strspn(p, "\r\n");
	}
	free(s);
}

void hvt_target_stderr_tail(const struct hvt_target *t, char *buf, size_t len)
{
	char path[PATH_MAX + 16];

	buf[0] = '\0';
	if (!t->tmpdir[0])
		return;
	snprintf(path, sizeof(path), "%s/stderr.log", t->tmpdir);
	file_tail(path, 1, buf, len);
}

void hvt_target_console_tail(const struct hvt_target *t, int lines, char *buf, size_t len)
{
	buf[0] = '\0';
	if (t->console[0])
		file_tail(t->console, lines, buf, len);
}

int hvt_target_copy_file(const char *src, const char *dst)
{
	size_t n = 0;
	char *s = hvt_read_file(src, &n);
	FILE *f;
	int r = 0;

	if (!s) {
		hvt_err("cannot read '%s': %s", src, strerror(errno));
		return -errno ? -errno : -EIO;
	}
	f = fopen(dst, "w");
	if (!f) {
		r = -errno;
		hvt_err("cannot create '%s': %s", dst, strerror(errno));
		goto out;
	}
	if (fwrite(s, 1, n, f) != n)
		r = -EIO;
	if (fclose(f) && !r)
		r = -errno;
	if (r)
		hvt_err("cannot write '%s': %s", dst, strerror(-r));
out:
	free(s);
	return r;
}

void hvt_target_agent_args(char **argv, size_t *n, const char *bench, const char *suite,
			   const struct hvt_launch *l)
{
	argv[(*n)++] = (char *)bench;
	if (l->listen) {
		/* the serving end of a pair: the client sends each case's parameters */
		argv[(*n)++] = "run";
		argv[(*n)++] = "--quiet";
		argv[(*n)++] = "--listen";
		argv[(*n)++] = (char *)l->listen;
		argv[*n] = NULL;
		return;
	}
	argv[(*n)++] = "agent";
	argv[(*n)++] = "--quiet";
	if (suite) {
		argv[(*n)++] = "--suite";
		argv[(*n)++] = (char *)suite;
	}
	if (l->benches) {
		argv[(*n)++] = "-b";
		argv[(*n)++] = (char *)l->benches;
	}
	for (size_t i = 0; l->extra && l->extra[i]; i++)
		argv[(*n)++] = l->extra[i];
	argv[*n] = NULL;
}

size_t hvt_launch_nextra(const struct hvt_launch *l)
{
	size_t n = 0;

	while (l->extra && l->extra[n])
		n++;
	return n;
}

int hvt_target_have_prog(const char *prog)
{
	const char *path = getenv("PATH");
	char *dup, *save = NULL;
	int found = 0;

	if (!*prog)
		return 0;
	if (strchr(prog, '/'))
		return access(prog, X_OK) == 0;
	dup = hvt_strdup(path && *path ? path : "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin");
	if (!dup)
		return 0;
	for (char *d = strtok_r(dup, ":", &save); d && !found; d = strtok_r(NULL, ":", &save)) {
		char *p = hvt_asprintf("%s/%s", d, prog);

		found = p && access(p, X_OK) == 0;
		free(p);
	}
	free(dup);
	return found;
}

char *hvt_shell_quote(const char *arg)
{
	size_t n = 3;
	char *q, *o;

	for (const char *p = arg; *p; p++)
		n += *p == '\'' ? 4 : 1;
	q = malloc(n);
	if (!q)
		return NULL;
	o = q;
	*o++ = '\'';
	for (const char *p = arg; *p; p++) {
		if (*p == '\'') {
			memcpy(o, "'\\''", 4);
			o += 4;
		} else {
			*o++ = *p;
		}
	}
	*o++ = '\'';
	*o = '\0';
	return q;
}

/* ---- the agent channel ---- */

int hvt_target_start(struct hvt_target *t, const struct hvt_launch *l)
{
	char hash_path[PATH_MAX + 32];
	int r;

	t->why[0] = '\0';
	r = make_tmpdir(t);
	if (r)
		return r;
	snprintf(hash_path, sizeof(hash_path), "%s/payload.sha256", t->conf.payload);
	if (strcmp(t->ops->kind, "host") != 0 || is_file(hash_path)) {
		char *h = hvt_read_file(hash_path, NULL);

		if (!h)
			return hvt_target_fail(t, -ENOENT,
					       "no payload in '%s' (build it: scripts/build-payload.sh --out %s)",
					       t->conf.payload, t->conf.payload);
		h[strcspn(h, " \n")] = '\0';
		snprintf(t->payload_hash, sizeof(t->payload_hash), "%s", h);
		free(h);
	}
	json_object_set_new(t->facts, "target", json_string(t->name));
	json_object_set_new(t->facts, "kind", json_string(t->ops->kind));
	if (t->payload_hash[0])
		json_object_set_new(t->facts, "payload_sha256", json_string(t->payload_hash));
	if (t->ops->probe) {
		r = t->ops->probe(t);
		if (r)
			return r;
	}
	return t->ops->start(t, l);
}

int hvt_target_send(struct hvt_target *t, const char *cmd)
{
	size_t n = strlen(cmd);
	char *line = hvt_asprintf("%s\n", cmd);
	size_t off = 0;
	int r = 0;

	if (!line)
		return -ENOMEM;
	if (t->cmd_fd < 0) {
		free(line);
		return -EPIPE;
	}
	while (off < n + 1) {
		ssize_t w = write(t->cmd_fd, line + off, n + 1 - off);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		off += (size_t)w;
	}
	free(line);
	return r;
}

/* A fingerprint record gets what the harness knows as fingerprint.harness. t->cur is replaced. */
static void decorate(struct hvt_target *t)
{
	json_t *rec, *fp, *type;
	char *s;

	if (!strstr(t->cur, "\"fingerprint\""))
		return;
	rec = json_loads(t->cur, 0, NULL);
	if (!rec)
		return;
	fp = json_object_get(rec, "fingerprint");
	type = json_object_get(rec, "type");
	if (json_is_string(type) && !strcmp(json_string_value(type), "fingerprint") &&
	    json_is_object(fp)) {
		json_object_set(fp, "harness", t->facts);
		s = json_dumps(rec, JSON_COMPACT);
		if (s) {
			free(t->cur);
			t->cur = s;
		}
	}
	json_decref(rec);
}

/* Unframe t->cur in place. 0: a record; -1: noise or damaged (dropped). */
static int unframe(struct hvt_target *t)
{
	char *line = t->cur, *end;
	size_t n = strlen(line);
	unsigned long want;

	if (n && line[n - 1] == '\r')
		line[--n] = '\0';
	if (!t->framed)
		return n ? 0 : -1;
	if (strncmp(line, "@HVT ", 5) != 0) {
		if (n)
			t->noise++;
		return -1;
	}
	want = strtoul(line + 5, &end, 10);
	if (end == line + 5 || *end != ' ' || strlen(end + 1) != want) {
		t->damaged++;
		hvt_warn("%s: a record arrived damaged (%zu bytes, framed as %lu); dropped", t->name,
			 *end ? strlen(end + 1) : (size_t)0, want);
		return -1;
	}
	memmove(line, end + 1, want + 1);
	return want ? 0 : -1;
}

/* Move the first n bytes of the raw buffer into t->cur (dropping the '\n' after them). */
static int take(struct hvt_target *t, size_t n, size_t skip)
{
	free(t->cur);
	t->cur = malloc(n + 1);
	if (!t->cur)
		return -ENOMEM;
	memcpy(t->cur, t->buf, n);
	t->cur[n] = '\0';
	memmove(t->buf, t->buf + n + skip, t->len - n - skip);
	t->len -= n + skip;
	return 0;
}

int hvt_target_read(struct hvt_target *t, uint64_t deadline_ns, const char **line)
{
	*line = NULL;
	for (;;) {
		char *nl = t->len ? memchr(t->buf, '\n', t->len) : NULL;
		struct pollfd pfd;
		uint64_t now, ms;
		ssize_t n;

		if (nl || (t->eof && t->len)) {
			int r = take(t, nl ? (size_t)(nl - t->buf) : t->len, nl ? 1 : 0);

			if (r)
				return r;
			if (unframe(t))
				continue;
			decorate(t);
			t->lineno++;
			*line = t->cur;
			return 1;
		}
		if (t->eof)
			return -EPIPE;
		if (got_signal)
			return -EINTR;
		now = hvt_now_ns();
		if (now >= deadline_ns)
			return 0;
		if (t->cap - t->len < 65536) {
			size_t ncap = t->cap ? t->cap * 2 : 131072;
			char *nb;

			if (ncap > ((size_t)512 << 20))
				return hvt_target_fail(t, -E2BIG, "%s: a record is longer than 256 MiB",
						       t->name);
			nb = realloc(t->buf, ncap);
			if (!nb)
				return -ENOMEM;
			t->buf = nb;
			t->cap = ncap;
		}
		pfd.fd = t->rec_fd;
		pfd.events = POLLIN;
		ms = (deadline_ns - now) / 1000000 + 1;
		if (poll(&pfd, 1, ms > 200 ? 200 : (int)ms) <= 0)
			continue;
		n = read(t->rec_fd, t->buf + t->len, t->cap - t->len);
		if (n < 0) {
			if (errno != EINTR && errno != EAGAIN)
				t->eof = 1;
			continue;
		}
		if (n == 0)
			t->eof = 1;
		t->len += n > 0 ? (size_t)n : 0;
	}
}

static void reap(struct hvt_target *t, int block)
{
	if (t->pid <= 0 || t->reaped)
		return;
	if (waitpid(t->pid, &t->status, block ? 0 : WNOHANG) == t->pid)
		t->reaped = 1;
}

int hvt_target_wait(struct hvt_target *t, uint64_t timeout_ns)
{
	uint64_t deadline = hvt_now_ns() + timeout_ns;

	if (t->pid <= 0)
		return 1;
	for (;;) {
		reap(t, 0);
		if (t->reaped)
			return 1;
		if (hvt_now_ns() >= deadline || got_signal)
			return 0;
		/* keep draining: a full pipe would block its writer */
		if (t->rec_fd >= 0 && !t->eof) {
			char sink[4096];
			struct pollfd pfd = { .fd = t->rec_fd, .events = POLLIN };

			if (poll(&pfd, 1, 50) > 0) {
				ssize_t n = read(t->rec_fd, sink, sizeof(sink));

				if (n <= 0)
					t->eof = 1;
			}
		} else {
			usleep(50000);
		}
	}
}

void hvt_target_stop(struct hvt_target *t, uint64_t grace_ns)
{
	if (t->cmd_fd >= 0) {
		close(t->cmd_fd);
		t->cmd_fd = -1;
	}
	if (t->pid > 0 && !t->reaped) {
		uint64_t deadline;

		reap(t, 0);
		if (!t->reaped) {
			kill(-t->pid, SIGTERM);
			deadline = hvt_now_ns() + grace_ns;
			while (!t->reaped && hvt_now_ns() < deadline) {
				usleep(20000);
				reap(t, 0);
			}
			if (!t->reaped) {
				kill(-t->pid, SIGKILL);
				reap(t, 1);
			}
		}
	}
	if (t->pid > 0)
		kill(-t->pid, SIGKILL); /* anything left in the group */
	if (t->rec_fd >= 0) {
		close(t->rec_fd);
		t->rec_fd = -1;
	}
	if (t->ops && t->ops->cleanup && t->pid > 0)
		t->ops->cleanup(t);
	t->pid = 0;
}

static void rm_tree(const char *dir)
{
	char *argv[] = { "rm", "-rf", "--one-file-system", "--", (char *)dir, NULL };

	(void)hvt_target_run_quiet(argv, 60 * HVT_TARGET_S, NULL, 0);
}

void hvt_target_release(struct hvt_target *t)
{
	hvt_target_stop(t, HVT_TARGET_S);
	if (t->tmpdir[0] && !getenv("HVTAX_KEEP_TARGET_DIR"))
		rm_tree(t->tmpdir);
	t->tmpdir[0] = '\0';
	free(t->buf);
	free(t->cur);
	t->buf = t->cur = NULL;
	t->len = t->cap = 0;
	json_decref(t->facts);
	t->facts = NULL;
}
