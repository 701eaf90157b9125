/* SPDX-License-Identifier: MIT */
/* Fingerprint tests: replay captured /proc and /sys trees through hvt_fsroot, and the live system.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "../../bench/fingerprint.h"
#include "../../bench/fsroot.h"

#define assert_close(a, b, tol) assert_true(fabs((double)(a) - (double)(b)) <= (tol))

static char treebuf[PATH_MAX];

/* A captured tree, relative to the project root or $HVT_SRCDIR. */
static const char *tree(const char *name)
{
	const char *src = getenv("HVT_SRCDIR");
	struct stat st;

	snprintf(treebuf, sizeof(treebuf), "%s%stests/data/fsroot/%s", src ? src : "",
		 src ? "/" : "", name);
	if (stat(treebuf, &st) || !S_ISDIR(st.st_mode))
		fail_msg("cannot find tree '%s' (run from the project root or set HVT_SRCDIR)",
			 treebuf);
	return treebuf;
}

static json_t *collect_in(const char *root)
{
	json_t *fp;

	hvt_fsroot = root;
	fp = hvt_fingerprint_collect();
	hvt_fsroot = "";
	assert_non_null(fp);
	return fp;
}

/* Value at a dotted path ("virt.kind"); NULL when absent. */
static json_t *at(json_t *o, const char *path)
{
	char buf[256], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *k = strtok_r(buf, ".", &save); k && o; k = strtok_r(NULL, ".", &save))
		o = json_object_get(o, k);
	return o;
}

static void check_str(json_t *fp, const char *path, const char *want)
{
	const char *got = json_string_value(at(fp, path));

	if (!got || strcmp(got, want))
		fail_msg("%s: want '%s', got '%s'", path, want, got ? got : "(none)");
}

static void check_int(json_t *fp, const char *path, json_int_t want)
{
	json_t *v = at(fp, path);

	if (!json_is_integer(v) || json_integer_value(v) != want)
		fail_msg("%s: want %lld, got %s", path, (long long)want,
			 json_is_integer(v) ? "another value" : "no integer");
}

static void check_bool(json_t *fp, const char *path, int want)
{
	json_t *v = at(fp, path);

	if (!json_is_boolean(v) || json_is_true(v) != !!want)
		fail_msg("%s: want %s", path, want ? "true" : "false");
}

static void check_null(json_t *fp, const char *path)
{
	if (!json_is_null(at(fp, path)))
		fail_msg("%s: want null", path);
}

/* True if some evidence string starts with prefix. */
static int has_evidence(json_t *fp, const char *prefix)
{
	json_t *ev = at(fp, "virt.evidence"), *e;
	size_t i;

	json_array_foreach(ev, i,
			   e) if (!strncmp(json_string_value(e), prefix, strlen(prefix))) return 1;
	return 0;
}

static int array_has(json_t *arr, const char *s)
{
	json_t *e;
	size_t i;

	json_array_foreach(arr, i,
			   e) if (json_is_string(e) && !strcmp(json_string_value(e), s)) return 1;
	return 0;
}

/* ---- captured trees ---- */

static void test_kvm(void **state)
{
	json_t *fp = collect_in(tree("kvm"));

	(void)state;
	check_str(fp, "virt.kind", "vm");
	assert_string_equal(hvt_virt_kind(fp), "vm");
	check_str(fp, "virt.hypervisor", "kvm");
	check_bool(fp, "virt.emulated", 0);
	check_bool(fp, "virt.cpuid_hypervisor_bit", 1);
	check_str(fp, "virt.cpuid_vendor", "KVMKVMKVM");
	check_bool(fp, "virt.container", 0);
	check_null(fp, "virt.container_runtime");
	/* The stray /.dockerenv that fools systemd-detect-virt here. */
	assert_true(has_evidence(fp, "ignored: /.dockerenv"));
	assert_true(has_evidence(fp, "no container: pid, cgroup"));
	check_str(fp, "cgroup.version", "hybrid");
	check_null(fp, "cgroup.cpu_limit");
	check_null(fp, "cgroup.memory_limit_bytes");
	check_str(fp, "cgroup.cpuset", "0-1");
	check_int(fp, "cgroup.cpuset_cpus", 2);
	check_str(fp, "cgroup.seccomp", "disabled");
	check_bool(fp, "cgroup.no_new_privs", 0);
	check_str(fp, "kernel.clocksource.current", "tsc");
	assert_true(array_has(at(fp, "kernel.clocksource.available"), "kvm-clock"));
	check_str(fp, "kernel.thp.enabled", "madvise");
	check_str(fp, "kernel.thp.defrag", "madvise");
	check_str(fp, "kernel.machine", "x86_64");
	check_str(fp, "kernel.os", "Debian GNU/Linux 12 (bookworm)");
	check_str(fp, "cpuidle.driver", "haltpoll");
	check_str(fp, "cpuidle.governor", "haltpoll");
	assert_int_equal(json_array_size(at(fp, "cpuidle.cpu0_states")), 2);
	check_str(fp, "cpu.vendor", "AuthenticAMD");
	check_int(fp, "cpu.family", 25);
	check_bool(fp, "cpu.flags.hypervisor", 1);
	check_bool(fp, "cpu.flags.avx2", 1);
	check_int(fp, "cpu.online_cpus", 2);
	check_int(fp, "memory.hugepage_size_bytes", 2097152);
	check_int(fp, "memory.hugepages_total", 0);
	assert_true(json_integer_value(at(fp, "memory.mem_total_bytes")) > 0);
	assert_non_null(json_string_value(at(fp, "mitigations.spectre_v2")));
	assert_null(at(fp, "topology.error"));
	check_str(fp, "topology.source", "xml");
	check_int(fp, "topology.pus", 2);
	check_int(fp, "topology.packages", 1);
	check_int(fp, "topology.l3_bytes", 33554432);
	assert_int_equal(json_array_size(at(fp, "topology.pci")), 2);
	check_str(fp, "hostname", "vm");
	check_str(fp, "tool.name", "hvtax-bench");
	assert_true(json_is_object(at(fp, "env")));
	json_decref(fp);
}

static void test_container(void **state)
{
	json_t *fp = collect_in(tree("container"));

	(void)state;
	check_str(fp, "virt.kind", "vm+container");
	check_str(fp, "virt.hypervisor", "kvm");
	check_bool(fp, "virt.container", 1);
	check_str(fp, "virt.container_runtime", "podman");
	check_bool(fp, "virt.kubernetes", 0);
	assert_true(has_evidence(fp, "container: /run/.containerenv"));
	assert_true(has_evidence(fp, "container: pid namespace"));
	check_str(fp, "cgroup.version", "v1");
	check_int(fp, "cgroup.cpu_quota_us", 150000);
	check_int(fp, "cgroup.cpu_period_us", 100000);
	assert_close(json_real_value(at(fp, "cgroup.cpu_limit")), 1.5, 1e-9);
	check_str(fp, "cgroup.cpuset", "1");
	check_int(fp, "cgroup.cpuset_cpus", 1);
	check_int(fp, "cgroup.memory_limit_bytes", 536870912);
	check_str(fp, "cgroup.seccomp", "filter");
	check_str(fp, "env.OMP_NUM_THREADS", "1");
	check_str(fp, "hostname", "hvt-ct");
	check_str(fp, "kernel.os", "BusyBox hvtax test rootfs");
	check_str(fp, "kernel.clocksource.current", "tsc");
	json_decref(fp);
}

static void test_baremetal(void **state)
{
	json_t *fp = collect_in(tree("baremetal"));

	(void)state;
	check_str(fp, "virt.kind", "bare-metal");
	check_str(fp, "virt.hypervisor", "none");
	check_bool(fp, "virt.emulated", 0);
	check_bool(fp, "virt.cpuid_hypervisor_bit", 0);
	check_null(fp, "virt.cpuid_vendor");
	check_bool(fp, "virt.container", 0);
	check_str(fp, "virt.dmi.sys_vendor", "Dell Inc.");
	check_str(fp, "virt.dmi.product_name", "PowerEdge R7625");
	check_bool(fp, "cpu.flags.hypervisor", 0);
	check_bool(fp, "cpu.flags.svm", 1);
	check_str(fp, "cpu.model_name", "AMD EPYC 9354 32-Core Processor");
	check_str(fp, "cpuidle.driver", "acpi_idle");
	check_str(fp, "cpuidle.governor", "menu");
	assert_int_equal(json_array_size(at(fp, "cpuidle.cpu0_states")), 3);
	assert_false(array_has(at(fp, "kernel.clocksource.available"), "kvm-clock"));
	assert_string_equal(json_string_value(json_object_get(
				json_array_get(at(fp, "topology.pci"), 0), "vendor_id")),
			    "0x144d");
	json_decref(fp);
}

/* ---- synthetic trees for cases no capture covers ---- */

static char tmpdir[1024];

static void put(const char *rel, const char *content, size_t len)
{
	char path[PATH_MAX * 2];
	FILE *f;

	snprintf(path, sizeof(path), "%s%s", tmpdir, rel);
	for (char *p = path + strlen(tmpdir) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(content, 1, len, f), len);
	fclose(f);
}

#define PUT(rel, s) put(rel, s, sizeof(s) - 1)

static int tmp_setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "%s/hvt-fp-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int tmp_teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_tcg(void **state)
{
	json_t *fp;

	(void)state;
	PUT("/hvt/cpuid", "hypervisor_bit=1\nvendor=TCGTCGTCGTCG\n");
	fp = collect_in(tmpdir);
	check_str(fp, "virt.kind", "vm");
	check_str(fp, "virt.hypervisor", "tcg");
	check_bool(fp, "virt.emulated", 1);
	/* Nothing else exists: keys are null or absent, never a crash. */
	assert_non_null(at(fp, "topology.error"));
	check_null(fp, "cgroup.version");
	json_decref(fp);
}

static void test_kubernetes_cgroup_v2(void **state)
{
	static const char env[] = "PATH=/bin\0KUBERNETES_SERVICE_HOST=10.0.0.1\0SECRET=x\0";
	json_t *fp;

	(void)state;
	PUT("/hvt/cpuid", "hypervisor_bit=0\n");
	PUT("/proc/self/mountinfo",
	    "30 1 0:30 / / rw - overlay overlay rw,lowerdir=/a,upperdir=/b\n"
	    "31 30 0:31 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n");
	PUT("/proc/self/cgroup", "0::/kubepods/burstable/pod1/abc\n");
	PUT("/proc/1/cgroup", "0::/kubepods/burstable/pod1/abc\n");
	PUT("/sys/fs/cgroup/kubepods/burstable/pod1/abc/cpu.max", "250000 100000\n");
	PUT("/sys/fs/cgroup/kubepods/burstable/pod1/abc/memory.max", "max\n");
	PUT("/sys/fs/cgroup/kubepods/burstable/pod1/memory.max", "1073741824\n");
	PUT("/sys/fs/cgroup/kubepods/burstable/pod1/abc/cpuset.cpus", "\n");
	PUT("/sys/fs/cgroup/kubepods/burstable/pod1/abc/cpuset.cpus.effective", "0-3,6\n");
	PUT("/proc/self/status", "Name:\tx\nNoNewPrivs:\t1\nSeccomp:\t2\n");
	put("/proc/self/environ", env, sizeof(env) - 1);
	fp = collect_in(tmpdir);
	check_str(fp, "virt.kind", "container");
	check_bool(fp, "virt.kubernetes", 1);
	check_str(fp, "virt.container_runtime", "kubernetes");
	check_str(fp, "cgroup.version", "v2");
	check_str(fp, "cgroup.path", "/kubepods/burstable/pod1/abc");
	assert_close(json_real_value(at(fp, "cgroup.cpu_limit")), 2.5, 1e-9);
	check_int(fp, "cgroup.memory_limit_bytes", 1073741824);
	check_str(fp, "cgroup.cpuset", "0-3,6");
	check_int(fp, "cgroup.cpuset_cpus", 5);
	check_str(fp, "cgroup.seccomp", "filter");
	check_bool(fp, "cgroup.no_new_privs", 1);
	check_str(fp, "env.KUBERNETES_SERVICE_HOST", "10.0.0.1");
	assert_null(at(fp, "env.SECRET"));
	assert_null(at(fp, "env.PATH"));
	json_decref(fp);
}

static void test_dockerenv_alone(void **state)
{
	json_t *fp;

	(void)state;
	PUT("/.dockerenv", "");
	PUT("/proc/cpuinfo", "processor\t: 0\nflags\t\t: fpu tsc\n\n");
	fp = collect_in(tmpdir);
	check_str(fp, "virt.kind", "bare-metal");
	check_str(fp, "virt.cpuid_source", "cpuinfo");
	assert_true(has_evidence(fp, "ignored: /.dockerenv"));
	/* With a second, moderate sign (a foreign pid 1 root) it counts. */
	snprintf(treebuf, sizeof(treebuf), "%s/proc/1", tmpdir);
	assert_int_equal(mkdir(treebuf, 0755), 0);
	snprintf(treebuf, sizeof(treebuf), "%s/proc/1/root", tmpdir);
	assert_int_equal(symlink("/var/lib/x", treebuf), 0);
	json_decref(fp);
	fp = collect_in(tmpdir);
	check_str(fp, "virt.kind", "container");
	check_str(fp, "virt.container_runtime", "docker");
	json_decref(fp);
}

static void test_unknown_and_names(void **state)
{
	json_t *fp;

	(void)state;
	fp = collect_in(tmpdir);
	check_str(fp, "virt.kind", "unknown");
	check_null(fp, "virt.hypervisor");
	check_null(fp, "virt.emulated");
	json_decref(fp);
	assert_string_equal(hvt_virt_kind(NULL), "unknown");
	assert_string_equal(hvt_hypervisor_name("KVMKVMKVM"), "kvm");
	assert_string_equal(hvt_hypervisor_name("Microsoft Hv"), "hyperv");
	assert_string_equal(hvt_hypervisor_name("VMwareVMware"), "vmware");
	assert_string_equal(hvt_hypervisor_name("XenVMMXenVMM"), "xen");
	assert_string_equal(hvt_hypervisor_name("TCGTCGTCGTCG"), "tcg");
	assert_string_equal(hvt_hypervisor_name("SomethingNew"), "unknown");
	assert_null(hvt_hypervisor_name(""));

	PUT("/hvt/cpuid", "hypervisor_bit=1\nvendor=Microsoft Hv\nvendor_40000100=KVMKVMKVM\n");
	fp = collect_in(tmpdir);
	check_str(fp, "virt.hypervisor", "kvm");
	json_decref(fp);
}

/* ---- the fsroot readers ---- */

static void test_fsroot_readers(void **state)
{
	char **names;
	size_t n;
	int64_t v;
	char *s;

	(void)state;
	PUT("/a/int", " 42\n");
	PUT("/a/bad", "4x2\n");
	PUT("/a/lines", "  first line  \nsecond\n");
	PUT("/a/ns_as_text", "pid:[7]\n");
	hvt_fsroot = tmpdir;
	assert_int_equal(hvt_fs_read_int("/a/int", &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(hvt_fs_read_int("/a/bad", &v), -EINVAL);
	assert_int_equal(hvt_fs_read_int("/a/missing", &v), -ENOENT);
	s = hvt_fs_read_line("/a/lines");
	assert_string_equal(s, "first line");
	free(s);
	s = hvt_fs_read_trim("/a/lines");
	assert_string_equal(s, "first line  \nsecond");
	free(s);
	s = hvt_fs_readlink("/a/ns_as_text");
	assert_string_equal(s, "pid:[7]");
	free(s);
	assert_true(hvt_fs_exists("/a/int"));
	assert_false(hvt_fs_exists("/a/nope"));
	assert_int_equal(hvt_fs_list("/a", &names, &n), 0);
	assert_int_equal(n, 4);
	assert_string_equal(names[0], "bad");
	assert_string_equal(names[3], "ns_as_text");
	hvt_fs_list_free(names, n);
	assert_int_equal(hvt_fs_list("/nope", &names, &n), -ENOENT);
	assert_false(hvt_fsroot_is_live());
	hvt_fsroot = "";

	/* $HVT_FSROOT applies when hvt_fsroot is "". */
	assert_int_equal(setenv("HVT_FSROOT", tmpdir, 1), 0);
	assert_string_equal(hvt_fsroot_get(), tmpdir);
	assert_true(hvt_fs_exists("/a/int"));
	unsetenv("HVT_FSROOT");
	assert_true(hvt_fsroot_is_live());
}

/* ---- the live system ---- */

static void test_live(void **state)
{
	const char *expect = getenv("HVT_EXPECT_HYPERVISOR");
	const char *kind, *hv;
	char *info, *avail, *pidns;
	json_t *fp;

	(void)state;
	unsetenv("HVT_FSROOT");
	fp = collect_in("");
	kind = hvt_virt_kind(fp);
	hv = json_string_value(at(fp, "virt.hypervisor"));
	printf("# live: kind=%s hypervisor=%s\n", kind, hv ? hv : "(null)");
	assert_true(!strcmp(kind, "bare-metal") || !strcmp(kind, "vm") ||
		    !strcmp(kind, "container") || !strcmp(kind, "vm+container"));
	assert_null(at(fp, "topology.error"));
	assert_true(json_integer_value(at(fp, "topology.pus")) >= 1);
	check_str(fp, "tool.name", "hvtax-bench");

	/* Independent witnesses: the cpuinfo flag and kvm-clock exist only under the matching
	 * hypervisor. */
	info = hvt_fs_read("/proc/cpuinfo", NULL);
	if (info && strstr(info, " hypervisor")) {
		assert_non_null(hv);
		assert_string_not_equal(hv, "none");
		assert_string_not_equal(hv, "unknown");
	}
	free(info);
	avail =
	    hvt_fs_read_trim("/sys/devices/system/clocksource/clocksource0/available_clocksource");
	if (avail && strstr(avail, "kvm-clock"))
		assert_string_equal(hv, "kvm");
	free(avail);
	if (expect)
		assert_string_equal(hv, expect);

	/* In the initial pid namespace, without container traces, no /.dockerenv makes a container.
	 */
	pidns = hvt_fs_readlink("/proc/self/ns/pid");
	if (pidns && !strcmp(pidns, "pid:[4026531836]") && !hvt_fs_exists("/run/.containerenv"))
		assert_true(!strstr(kind, "container") || has_evidence(fp, "container: /proc/"));
	free(pidns);
	json_decref(fp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_kvm),
	    cmocka_unit_test(test_container),
	    cmocka_unit_test(test_baremetal),
	    cmocka_unit_test_setup_teardown(test_tcg, tmp_setup, tmp_teardown),
	    cmocka_unit_test_setup_teardown(test_kubernetes_cgroup_v2, tmp_setup, tmp_teardown),
	    cmocka_unit_test_setup_teardown(test_dockerenv_alone, tmp_setup, tmp_teardown),
	    cmocka_unit_test_setup_teardown(test_unknown_and_names, tmp_setup, tmp_teardown),
	    cmocka_unit_test_setup_teardown(test_fsroot_readers, tmp_setup, tmp_teardown),
	    cmocka_unit_test(test_live),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
