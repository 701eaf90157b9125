/* SPDX-License-Identifier: MIT */
/* Target container: podman or docker runs the payload rootfs (or an image) with the agent. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "target.h"
#include "../common/util.h"

#define MAX_ARGS 96

static int is_docker(const struct hvt_target *t)
{
	const char *b = strrchr(t->conf.engine, '/');

	return strstr(b ? b + 1 : t->conf.engine, "docker") != NULL;
}

/* Engine arguments that make a container start here: runtime and ulimits. */
static size_t base_args(const struct hvt_target *t, char **argv, size_t n, const char *runtime,
			char *ulim)
{
	char *save = NULL;

	if (runtime && *runtime) {
		argv[n++] = "--runtime";
		argv[n++] = (char *)runtime;
	}
	for (char *u = strtok_r(ulim, ", ", &save); u && n < MAX_ARGS - 40;
	     u = strtok_r(NULL, ", ", &save)) {
		argv[n++] = "--ulimit";
		argv[n++] = u;
	}
	(void)t;
	return n;
}

static int rootfs_or_image(const struct hvt_target *t, char **argv, size_t n, char *rootfs,
			   size_t len)
{
	if (t->conf.image[0]) {
		argv[n++] = (char *)t->conf.image;
		return (int)n;
	}
	snprintf(rootfs, len, "%s/rootfs", t->conf.payload);
	if (is_docker(t)) {
		/* docker has no --rootfs: the payload is imported as an image named by its hash */
		argv[n++] = (char *)t->dimage; /* set by the probe */
		return (int)n;
	}
	argv[n++] = "--rootfs";
	argv[n++] = rootfs;
	return (int)n;
}

static int docker_import(struct hvt_target *t, char *tag, size_t taglen)
{
	char rootfs[PATH_MAX + 16], err[256];
	char *insp[] = { t->conf.engine, "image", "inspect", tag, NULL };
	char *imp[] = { "sh", "-c", "cd \"$1\" && tar -cf - . | \"$2\" import - \"$3\"", "sh",
			rootfs, t->conf.engine, tag, NULL };
	int r;

	snprintf(tag, taglen, "hvtax-payload:%.16s", t->payload_hash);
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", t->conf.payload);
	if (hvt_target_run_quiet(insp, 30 * HVT_TARGET_S, NULL, 0) == 0)
		return 0;
	r = hvt_target_run_quiet(imp, 120 * HVT_TARGET_S, err, sizeof(err));
	if (r)
		return hvt_target_fail(t, -ENODEV, "cannot import the payload into %s: %s",
				       t->conf.engine, err[0] ? err : "import failed");
	return 0;
}

static int container_probe(struct hvt_target *t)
{
	char rootfs[PATH_MAX + 16], err[512] = "", ulim[sizeof(t->conf.ulimits)];
	char runtimes[sizeof(t->conf.oci_runtime) + 1], *save = NULL, *rt;
	char *argv[MAX_ARGS];
	int r, n;

	if (!hvt_target_have_prog(t->conf.engine))
		return hvt_target_fail(t, -ENODEV, "container engine '%s' not found", t->conf.engine);
	if (!t->conf.image[0]) {
		struct stat st;

		snprintf(rootfs, sizeof(rootfs), "%s/rootfs", t->conf.payload);
		if (stat(rootfs, &st) || !S_ISDIR(st.st_mode))
			return hvt_target_fail(t, -ENOENT, "no payload rootfs '%s' (scripts/build-payload.sh)",
					       rootfs);
	}
	if (is_docker(t)) {
		char *info[] = { t->conf.engine, "info", NULL };

		if (hvt_target_run_quiet(info, 20 * HVT_TARGET_S, err, sizeof(err)) != 0)
			return hvt_target_fail(t, -ENODEV, "'%s info' failed: %s", t->conf.engine,
					       err[0] ? err : "no daemon");
		if (!t->conf.image[0]) {
			r = docker_import(t, t->dimage, sizeof(t->dimage));
			if (r)
				return r;
		}
	}
	/* the first runtime of the list that starts a container here wins (crun fails on
	 * hybrid cgroup v1 hosts, runc then works) */
	snprintf(runtimes, sizeof(runtimes), "%s", t->conf.oci_runtime[0] ? t->conf.oci_runtime : "-");
	for (rt = strtok_r(runtimes, ",", &save); rt; rt = strtok_r(NULL, ",", &save)) {
		const char *use = strcmp(rt, "-") ? rt : NULL;

		n = 0;
		argv[n++] = t->conf.engine;
		argv[n++] = "run";
		argv[n++] = "--rm";
		argv[n++] = "--network";
		argv[n++] = "none";
		snprintf(ulim, sizeof(ulim), "%s", t->conf.ulimits);
		n = (int)base_args(t, argv, (size_t)n, use, ulim);
		n = rootfs_or_image(t, argv, (size_t)n, rootfs, sizeof(rootfs));
		argv[n++] = "/bin/hvtax-bench";
		argv[n++] = "--version";
		argv[n] = NULL;
		r = hvt_target_run_quiet(argv, 60 * HVT_TARGET_S, err, sizeof(err));
		if (r == 0) {
			json_object_set_new(t->facts, "engine", json_string(t->conf.engine));
			json_object_set_new(t->facts, "oci_runtime", json_string(use ? use : "default"));
			snprintf(t->conf.oci_runtime, sizeof(t->conf.oci_runtime), "%s", use ? use : "");
			return 0;
		}
		hvt_warn("container: runtime '%s' cannot start a container here: %s",
			 use ? use : "default", err[0] ? err : "failed");
	}
	return hvt_target_fail(t, -ENODEV, "%s cannot start a container here (runtimes tried: %s): %s",
			       t->conf.engine, t->conf.oci_runtime[0] ? t->conf.oci_runtime : "default",
			       err[0] ? err : "failed");
}

/* A relative seccomp profile is looked for as given, then next to the target configs. */
static const char *seccomp_path(const struct hvt_target *t, char *buf, size_t len)
{
	const char *s = t->conf.seccomp;

	if (access(s, R_OK) == 0 || s[0] == '/')
		return s;
	snprintf(buf, len, "configs/targets/%.*s", (int)(len - 20), s);
	return access(buf, R_OK) == 0 ? buf : s;
}

static int container_start(struct hvt_target *t, const struct hvt_launch *l)
{
	char rootfs[PATH_MAX + 16], ulim[sizeof(t->conf.ulimits)], extra[sizeof(t->conf.extra)];
	char scratch[PATH_MAX + 16], suite[PATH_MAX + 32], vol[2 * PATH_MAX], sec[PATH_MAX + 64];
	char secbuf[PATH_MAX], *argv[MAX_ARGS + 16], *save = NULL;
	size_t n = 0, nx = hvt_launch_nextra(l);
	int r;

	if (nx > 16)
		return hvt_target_fail(t, -E2BIG, "too many hvtax-bench arguments");
	snprintf(scratch, sizeof(scratch), "%s/scratch", t->tmpdir);
	if (mkdir(scratch, 0755) && errno != EEXIST)
		return hvt_target_fail(t, -errno, "cannot create '%s': %s", scratch, strerror(errno));
	if (l->suite_path) {
		snprintf(suite, sizeof(suite), "%s/suite.ini", scratch);
		r = hvt_target_copy_file(l->suite_path, suite);
		if (r)
			return hvt_target_fail(t, r, "cannot copy the suite into the container");
	}
	snprintf(t->cname, sizeof(t->cname), "hvtax-%d-%lx", (int)getpid(),
		 (unsigned long)(hvt_now_ns() & 0xffffff));
	argv[n++] = t->conf.engine;
	argv[n++] = "run";
	argv[n++] = "--rm";
	argv[n++] = "-i";
	argv[n++] = "--name";
	argv[n++] = t->cname;
	snprintf(ulim, sizeof(ulim), "%s", t->conf.ulimits);
	n = base_args(t, argv, n, t->conf.oci_runtime, ulim);
	argv[n++] = "--network";
	argv[n++] = t->conf.network;
	if (t->conf.cpus[0]) {
		argv[n++] = "--cpus";
		argv[n++] = t->conf.cpus;
	}
	if (t->conf.cpuset[0]) {
		argv[n++] = "--cpuset-cpus";
		argv[n++] = t->conf.cpuset;
	}
	if (t->conf.memory[0]) {
		argv[n++] = "--memory";
		argv[n++] = t->conf.memory;
	}
	if (strcmp(t->conf.seccomp, "default") != 0) {
		snprintf(sec, sizeof(sec), "seccomp=%s",
			 strcmp(t->conf.seccomp, "unconfined") ? seccomp_path(t, secbuf, sizeof(secbuf))
							       : "unconfined");
		argv[n++] = "--security-opt";
		argv[n++] = sec;
	}
	json_object_set_new(t->facts, "seccomp_profile", json_string(t->conf.seccomp));
	snprintf(vol, sizeof(vol), "%s:/scratch", scratch);
	argv[n++] = "-v";
	argv[n++] = vol;
	argv[n++] = "-e";
	argv[n++] = "HVT_RESULTS_DIR=/scratch";
	snprintf(extra, sizeof(extra), "%s", t->conf.extra);
	for (char *e = strtok_r(extra, " \t", &save); e && n < MAX_ARGS - 12;
	     e = strtok_r(NULL, " \t", &save))
		argv[n++] = e;
	n = (size_t)rootfs_or_image(t, argv, n, rootfs, sizeof(rootfs));
	hvt_target_agent_args(argv, &n, "/bin/hvtax-bench", l->suite_path ? "/scratch/suite.ini" : NULL,
			      l);
	json_object_set_new(t->facts, "container_limits",
			    json_pack("{s:s,s:s,s:s,s:s}", "cpus", t->conf.cpus, "cpuset",
				      t->conf.cpuset, "memory", t->conf.memory, "network",
				      t->conf.network));
	t->framed = 0;
	return hvt_target_spawn(t, argv, NULL);
}

static void container_cleanup(struct hvt_target *t)
{
	char *argv[] = { t->conf.engine, "rm", "-f", t->cname, NULL };

	if (t->cname[0])
		(void)hvt_target_run_quiet(argv, 30 * HVT_TARGET_S, NULL, 0);
}

const struct hvt_target_ops hvt_target_container_ops = {
	.kind = "container",
	.help = "podman (runc) or docker runs the payload rootfs with the agent",
	.probe = container_probe,
	.start = container_start,
	.cleanup = container_cleanup,
};
