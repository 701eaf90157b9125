/* SPDX-License-Identifier: MIT */
/* Target ssh: copy the payload to a reachable machine and run its agent there over ssh. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "target.h"
#include "../common/util.h"

static size_t ssh_args(const struct hvt_target *t, char **argv, size_t n, char *dest, size_t len)
{
	argv[n++] = (char *)t->conf.ssh;
	argv[n++] = "-o";
	argv[n++] = "BatchMode=yes";
	if (t->conf.port[0]) {
		argv[n++] = "-p";
		argv[n++] = (char *)t->conf.port;
	}
	if (t->conf.user[0])
		snprintf(dest, len, "%s@%s", t->conf.user, t->conf.host);
	else
		snprintf(dest, len, "%s", t->conf.host);
	/* "--" so a host name can never be read as an option */
	argv[n++] = "--";
	argv[n++] = dest;
	return n;
}

static int ssh_probe(struct hvt_target *t)
{
	if (!hvt_target_have_prog(t->conf.ssh))
		return hvt_target_fail(t, -ENODEV, "'%s' not found", t->conf.ssh);
	return 0;
}

/* The remote command line: every word quoted, so config values are data, not shell. */
static char *remote_cmd(char **words)
{
	char *cmd = hvt_strdup("");

	for (size_t i = 0; cmd && words[i]; i++) {
		char *q = hvt_shell_quote(words[i]), *nc;

		if (!q) {
			free(cmd);
			return NULL;
		}
		nc = hvt_asprintf("%s%s%s", cmd, i ? " " : "", q);
		free(q);
		free(cmd);
		cmd = nc;
	}
	return cmd;
}

static int ssh_start(struct hvt_target *t, const struct hvt_launch *l)
{
	char dest[512], rootfs[PATH_MAX + 16], err[256], *argv[64];
	char *qdir = hvt_shell_quote(t->conf.remote_dir), *copy = NULL, *cmd = NULL;
	char *ld = NULL, *lib = NULL, *bin = NULL, *suite = NULL, *env = NULL;
	char *words[32 + 16];
	size_t n = 0, w = 0, nx = hvt_launch_nextra(l);
	int r;

	if (!qdir || nx > 16) {
		free(qdir);
		return hvt_target_fail(t, -E2BIG, "too many hvtax-bench arguments");
	}
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", t->conf.payload);
	/* copy the tree, then the suite: two ssh calls with fixed remote commands (only the
	 * quoted remote_dir in them), the local side an argument vector through sh's "$@" */
	{
		char *sh_argv[40];
		size_t k = 0;

		sh_argv[k++] = "sh";
		sh_argv[k++] = "-c";
		sh_argv[k++] = "r=$1 s=$2; shift 2; "
			       "tar -C \"$r\" -cf - . | \"$@\" \"$HVT_REMOTE_UNPACK\" && "
			       "\"$@\" \"$HVT_REMOTE_SUITE\" < \"$s\"";
		sh_argv[k++] = "sh";
		sh_argv[k++] = rootfs;
		sh_argv[k++] = (char *)(l->suite_path ? l->suite_path : "/dev/null");
		k = ssh_args(t, sh_argv, k, dest, sizeof(dest));
		sh_argv[k] = NULL;
		copy = hvt_asprintf("mkdir -p %s && tar -C %s -xf -", qdir, qdir);
		cmd = hvt_asprintf("cat > %s/suite.ini", qdir);
		if (!copy || !cmd) {
			r = -ENOMEM;
			goto out;
		}
		setenv("HVT_REMOTE_UNPACK", copy, 1);
		setenv("HVT_REMOTE_SUITE", cmd, 1);
		r = hvt_target_run_quiet(sh_argv, 300 * HVT_TARGET_S, err, sizeof(err));
		unsetenv("HVT_REMOTE_UNPACK");
		unsetenv("HVT_REMOTE_SUITE");
		if (r) {
			r = hvt_target_fail(t, -ENODEV, "cannot copy the payload to '%s': %s", dest,
					    err[0] ? err : "ssh failed");
			goto out;
		}
	}
	/* run the payload's own loader and libraries: nothing is needed on the remote side */
	ld = hvt_asprintf("%s/lib64/ld-linux-x86-64.so.2", t->conf.remote_dir);
	lib = hvt_asprintf("%s/lib/x86_64-linux-gnu:%s/usr/lib/x86_64-linux-gnu:%s/lib64",
			   t->conf.remote_dir, t->conf.remote_dir, t->conf.remote_dir);
	bin = hvt_asprintf("%s/bin/hvtax-bench", t->conf.remote_dir);
	suite = hvt_asprintf("%s/suite.ini", t->conf.remote_dir);
	env = hvt_asprintf("HVT_RESULTS_DIR=%s", t->conf.remote_dir);
	if (!ld || !lib || !bin || !suite || !env) {
		r = -ENOMEM;
		goto out;
	}
	words[w++] = "env";
	words[w++] = env;
	words[w++] = ld;
	words[w++] = "--library-path";
	words[w++] = lib;
	{
		size_t k = w;

		hvt_target_agent_args(words, &k, bin, l->suite_path ? suite : NULL, l);
		w = k;
	}
	words[w] = NULL;
	free(cmd);
	cmd = remote_cmd(words);
	if (!cmd) {
		r = -ENOMEM;
		goto out;
	}
	n = ssh_args(t, argv, 0, dest, sizeof(dest));
	argv[n++] = cmd;
	argv[n] = NULL;
	json_object_set_new(t->facts, "ssh_host", json_string(t->conf.host));
	t->framed = 0;
	r = hvt_target_spawn(t, argv, NULL);
out:
	free(qdir);
	free(copy);
	free(cmd);
	free(ld);
	free(lib);
	free(bin);
	free(suite);
	free(env);
	return r;
}

const struct hvt_target_ops hvt_target_ssh_ops = {
	.kind = "ssh",
	.help = "a reachable machine: the payload is copied and run over ssh",
	.probe = ssh_probe,
	.start = ssh_start,
};
