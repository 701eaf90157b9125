/* SPDX-License-Identifier: MIT */
/* Targets: where hvtax-bench's agent runs (host, container, vm, ssh), one table of operations. */
#ifndef HVT_TARGET_H
#define HVT_TARGET_H

#include <jansson.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Settings of one target, from configs/targets/KIND.ini (section [KIND]) and
 * any --target-config files, later files overriding earlier ones. Every key
 * is documented in docs/targets.md. Strings, never passed through a shell.
 */
#define HVT_TARGET_S 1000000000ull /* ns per second */

struct hvt_target_conf {
	char kind[16];	    /* host, container, vm, ssh */
	char payload[PATH_MAX]; /* payload dir: rootfs/, initramfs.cpio.gz, payload.sha256 */
	uint64_t start_timeout_ns;  /* until the agent's plan record arrives */
	uint64_t stop_timeout_ns;   /* after "end": until the agent (or guest) is gone */
	/* container */
	char engine[64];       /* podman or docker (binary name or path) */
	char oci_runtime[128]; /* candidates tried in order, e.g. "crun,runc"; "" = engine default */
	char ulimits[256];     /* comma-separated nofile=1024:1024,... */
	char cpus[32], cpuset[128], memory[32], network[32];
	char seccomp[PATH_MAX]; /* "default", "unconfined" or a profile file */
	char image[256];	/* image instead of the payload rootfs ("" = rootfs) */
	char extra[512];	/* more engine arguments, whitespace-separated */
	/* vm */
	char qemu[PATH_MAX], kernel[PATH_MAX], cpu_model[64], accel[16], pin[128];
	char append[256];   /* more kernel command line */
	char disk_size[32]; /* io scratch disk ("0" = none) */
	char disk_dir[PATH_MAX];
	char vm_network[16]; /* user or none */
	unsigned vcpus;
	char vm_memory[32];
	uint64_t kvm_probe_ns;
	/* ssh */
	char ssh[PATH_MAX], host[256], user[64], port[16], remote_dir[PATH_MAX];
};

/* What to run in the agent: a suite file (copied in) and/or -b benchmarks. */
struct hvt_launch {
	const char *suite_path; /* may be NULL */
	const char *benches;	/* comma list for -b, may be NULL */
	char *const *extra;	/* more hvtax-bench arguments (NULL-terminated), may be NULL */
	const char *listen;	/* instead of the agent: `hvtax-bench run --listen LISTEN` (a net server) */
};

struct hvt_target;

struct hvt_target_ops {
	const char *kind;
	const char *help;
	/*
	 * Check what this host needs (binaries, daemons, files) without starting
	 * anything lasting. -ENODEV/-ENOENT/-EOPNOTSUPP with t->why set: the
	 * target is skipped here. NULL: nothing to check.
	 */
	int (*probe)(struct hvt_target *t);
	/* Start the agent: t->pid, t->cmd_fd, t->rec_fd set. 0 or -errno with t->why. */
	int (*start)(struct hvt_target *t, const struct hvt_launch *l);
	/* Extra clean-up after the process is gone (containers, temp files). May be NULL. */
	void (*cleanup)(struct hvt_target *t);
};

struct hvt_target {
	const struct hvt_target_ops *ops;
	struct hvt_target_conf conf;
	char name[300];	   /* "host", "container", "vm", "ssh:HOST": the run's target */
	char why[1024];	   /* reason for the last failure, for messages and the store */
	pid_t pid;	   /* process group leader, 0 when none */
	int cmd_fd;	   /* commands to the agent, -1 when none */
	int rec_fd;	   /* records from the agent, -1 when none */
	int framed;	   /* 1: lines are "@HVT <bytes> <json>", others are noise */
	char *buf;	   /* bytes read, not yet a complete line */
	size_t len, cap;
	char *cur;	   /* the line last returned by hvt_target_read */
	int eof;
	int lineno;	   /* records delivered */
	unsigned noise;	   /* unframed lines ignored */
	unsigned damaged;  /* framed lines with a wrong length, dropped */
	char tmpdir[PATH_MAX]; /* per-target scratch, removed by hvt_target_release */
	char payload_hash[80];
	json_t *facts;	   /* what the harness knows: injected into the fingerprint record */
	int status;	   /* wait status once reaped */
	int reaped;
	char cname[64];	   /* container name */
	char dimage[96];   /* docker: the payload imported as an image */
	char console[PATH_MAX + 16]; /* vm: console log */
};

/* The table; NULL if no such kind. "ssh:HOST" finds ssh. */
const struct hvt_target_ops *hvt_target_find(const char *spec);
/* Comma list of kinds, for messages. */
const char *hvt_target_kinds(void);

/*
 * Set up t for spec ("host", "container", "vm", "ssh:HOST"): defaults, then
 * configs/targets/KIND.ini if found ($HVTAX_CONFIGS/targets, configs/targets,
 * next to the binary), then each file of conf_files (NULL-terminated, may be
 * NULL); `payload` overrides the payload dir when not NULL. 0, -ENOENT for an
 * unknown kind, -EINVAL for a bad config (reported with file and line).
 */
int hvt_target_init(struct hvt_target *t, const char *spec, const char *const *conf_files,
		    const char *payload) __attribute__((warn_unused_result));
/* Probe then start. 0 or -errno with t->why (-ENODEV & co: cannot run here). */
int hvt_target_start(struct hvt_target *t, const struct hvt_launch *l)
    __attribute__((warn_unused_result));
/* Send one command line ("round 3", "end"); '\n' added. 0 or -errno. */
int hvt_target_send(struct hvt_target *t, const char *cmd);
/*
 * Next record line, waiting until deadline_ns (hvt_now_ns() clock). Returns 1
 * with *line (valid until the next call; framing removed; a fingerprint record
 * gets t->facts as fingerprint.harness), 0 on timeout, -EPIPE at end of
 * output, -EINTR when SIGINT/SIGTERM arrived (see hvt_target_interrupted).
 */
int hvt_target_read(struct hvt_target *t, uint64_t deadline_ns, const char **line);
/* Terminate: SIGTERM to the group, SIGKILL after grace_ns; reap; cleanup op. Idempotent. */
void hvt_target_stop(struct hvt_target *t, uint64_t grace_ns);
/*
 * Wait up to timeout_ns for the target's process to exit by itself (after
 * "end"). 1 exited, 0 still running.
 */
int hvt_target_wait(struct hvt_target *t, uint64_t timeout_ns);
/* Stop if needed, free everything, remove the temp dir. */
void hvt_target_release(struct hvt_target *t);

/* Install SIGINT/SIGTERM/SIGHUP handlers that make reads return -EINTR. */
void hvt_target_catch_signals(void);
int hvt_target_interrupted(void);

/* Quote `arg` for a POSIX shell (ssh's remote command line). malloc'd, NULL on ENOMEM. */
char *hvt_shell_quote(const char *arg);

/* ---- for the backends (target_*.c) ---- */

extern const struct hvt_target_ops hvt_target_host_ops, hvt_target_container_ops,
    hvt_target_vm_ops, hvt_target_ssh_ops;

/* printf into t->why; returns err (a negative errno) for `return hvt_target_fail(...)`. */
int hvt_target_fail(struct hvt_target *t, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/*
 * Start argv (PATH lookup, no shell) in its own process group with pipes for
 * stdin (t->cmd_fd) and stdout (t->rec_fd), stderr to t->tmpdir/stderr.log,
 * dying with us; `cpus` (a cpu list, may be NULL or "") pins it. 0 or -errno.
 */
int hvt_target_spawn(struct hvt_target *t, char *const argv[], const char *cpus);
/* Run argv to completion (stdout and stderr to /dev/null unless errbuf) within timeout_ns.
 * Returns its exit status (0..255), or -errno when it could not run or timed out (-ETIME).
 * errbuf (may be NULL) gets the last line of its stderr. */
int hvt_target_run_quiet(char *const argv[], uint64_t timeout_ns, char *errbuf, size_t errlen);
/* As hvt_target_run_quiet, but `out` gets all of its stdout (trailing newlines cut; stderr dropped). */
int hvt_target_run_output(char *const argv[], uint64_t timeout_ns, char *out, size_t outlen);
/* The last non-empty line of t->tmpdir/stderr.log into buf ("" if none). */
void hvt_target_stderr_tail(const struct hvt_target *t, char *buf, size_t len);
/* vm: the last `lines` non-empty lines of the guest console, joined by " | " ("" if none). */
void hvt_target_console_tail(const struct hvt_target *t, int lines, char *buf, size_t len);
/* Write `path`'s content into dst (a new file). 0 or -errno (reported). */
int hvt_target_copy_file(const char *src, const char *dst);
/*
 * Append hvtax-bench's agent arguments to argv at *n: BENCH agent --quiet
 * [--suite SUITE] [-b BENCHES] [extra...], or with l->listen the serving end
 * BENCH run --quiet --listen LISTEN. argv needs room for 8 + extras.
 */
void hvt_target_agent_args(char **argv, size_t *n, const char *bench, const char *suite,
			   const struct hvt_launch *l);
/* Count of l->extra entries. */
size_t hvt_launch_nextra(const struct hvt_launch *l);
/* An executable named `prog` (a path, or looked up in PATH)? */
int hvt_target_have_prog(const char *prog);

#endif
