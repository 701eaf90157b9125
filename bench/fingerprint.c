/* SPDX-License-Identifier: MIT */
/* The environment fingerprint: hypervisor, container, cgroup limits, CPU, topology, kernel. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <hwloc.h>
#include <jansson.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define HVT_HAVE_CPUID 1
#endif

#include "../common/util.h"
#include "core.h"
#include "fingerprint.h"
#include "fsroot.h"

#if defined(__has_include)
#if __has_include("sidech.h")
#include "sidech.h"
#define HVT_HAVE_SIDECH_H 1
#endif
#endif
#ifndef HVT_HAVE_SIDECH_H
json_t *hvt_pmu_describe(void);
#endif

/*
 * Default for the PMU hook owned by bench/sidech.c. Weak, so the real one
 * wins whenever sidech.o is linked in; where it is not (a test that pulls
 * only this file from the archive), "pmu" is null rather than a link error.
 */
__attribute__((weak)) json_t *hvt_pmu_describe(void)
{
	return json_null();
}

/* Environment variables recorded in the fingerprint; never the whole environment. */
static const char *const env_allow[] = {
    "OMP_NUM_THREADS",
    "OMP_PROC_BIND",
    "OMP_PLACES",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "SLURM_JOB_ID",
    "SLURM_JOB_NUM_NODES",
    "SLURM_NTASKS",
    "SLURM_CPUS_PER_TASK",
    "SLURM_CLUSTER_NAME",
    "KUBERNETES_SERVICE_HOST",
    "container",
    "CUDA_VISIBLE_DEVICES",
    "NCCL_SOCKET_IFNAME",
    "NCCL_IB_HCA",
};

/* ---- small JSON helpers ---- */

static void set_str(json_t *o, const char *key, const char *v)
{
	json_object_set_new(o, key, v ? json_string(v) : json_null());
}

/* Set key to the trimmed content of path; omit the key when the file is missing. */
static void set_file(json_t *o, const char *key, const char *path)
{
	char *s = hvt_fs_read_trim(path);

	if (s)
		json_object_set_new(o, key, json_string(s));
	free(s);
}

static void add_ev(json_t *ev, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_ev(json_t *ev, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	json_array_append_new(ev, json_string(buf));
}

/* The value after "key" in a "key=value" or "key: value" line of text; malloc'd or NULL. */
static char *kv_lookup(const char *text, const char *key, char sep)
{
	size_t klen = strlen(key);
	const char *p = text;

	while (p && *p) {
		const char *eol = strchr(p, '\n');
		size_t llen = eol ? (size_t)(eol - p) : strlen(p);
		const char *q = p + klen;

		if (llen > klen && !strncmp(p, key, klen)) {
			while (q < p + llen && (*q == ' ' || *q == '\t'))
				q++;
			if (q < p + llen && *q == sep) {
				char *v = strndup(q + 1, (size_t)(p + llen - q - 1));

				return v ? hvt_strtrim(v) : NULL;
			}
		}
		p = eol ? eol + 1 : NULL;
	}
	return NULL;
}

/* Value of NAME in a NUL-separated environ block; malloc'd or NULL. */
static char *environ_lookup(const char *buf, size_t len, const char *name)
{
	size_t nlen = strlen(name);
	size_t i = 0;

	while (i < len) {
		const char *e = buf + i;
		size_t elen = strnlen(e, len - i);

		if (elen > nlen && !strncmp(e, name, nlen) && e[nlen] == '=')
			return strndup(e + nlen + 1, elen - nlen - 1);
		i += elen + 1;
	}
	return NULL;
}

/* Number of CPUs in a list such as "0-3,8,10-11"; -1 when malformed. */
static long cpulist_count(const char *s)
{
	long n = 0;

	while (*s) {
		char *end;
		long a = strtol(s, &end, 10), b;

		if (end == s)
			return -1;
		b = a;
		if (*end == '-') {
			s = end + 1;
			b = strtol(s, &end, 10);
			if (end == s || b < a)
				return -1;
		}
		n += b - a + 1;
		s = end;
		if (*s == ',')
			s++;
		else if (*s)
			return -1;
	}
	return n;
}

/* ---- CPUID (or its captured stand-in hvt/cpuid) ---- */

struct cpuid_info {
	int known;	     /* hypervisor bit known */
	int hv_bit;	     /* leaf 1 ECX bit 31 */
	char vendor[13];     /* leaf 0x40000000 signature, "" when not read */
	char vendor_alt[13]; /* leaf 0x40000100 (KVM behind Hyper-V enlightenments) */
	const char *source;  /* "cpuid", "captured", "cpuinfo" or NULL */
};

#ifdef HVT_HAVE_CPUID
static void cpuid_vendor(unsigned leaf, char out[13])
{
	unsigned a, b, c, d;

	__cpuid(leaf, a, b, c, d);
	(void)a;
	memcpy(out, &b, 4);
	memcpy(out + 4, &c, 4);
	memcpy(out + 8, &d, 4);
	out[12] = '\0';
}
#endif

static void cpuid_live(struct cpuid_info *ci)
{
#ifdef HVT_HAVE_CPUID
	unsigned a, b, c, d;

	if (!__get_cpuid(1, &a, &b, &c, &d))
		return;
	ci->known = 1;
	ci->source = "cpuid";
	ci->hv_bit = !!(c & (1u << 31));
	/* Without the bit, leaf 0x40000000 returns unrelated data on real CPUs. */
	if (!ci->hv_bit)
		return;
	cpuid_vendor(0x40000000, ci->vendor);
	if (!strcmp(ci->vendor, "Microsoft Hv") || !strcmp(ci->vendor, "Linux KVM Hv"))
		cpuid_vendor(0x40000100, ci->vendor_alt);
#else
	(void)ci;
#endif
}

static void cpuid_captured(struct cpuid_info *ci, const char *text)
{
	char *bit = kv_lookup(text, "hypervisor_bit", '=');
	char *v = kv_lookup(text, "vendor", '=');
	char *v2 = kv_lookup(text, "vendor_40000100", '=');

	if (bit) {
		ci->known = 1;
		ci->hv_bit = atoi(bit) != 0;
		ci->source = "captured";
	}
	if (v)
		snprintf(ci->vendor, sizeof(ci->vendor), "%s", v);
	if (v2)
		snprintf(ci->vendor_alt, sizeof(ci->vendor_alt), "%s", v2);
	free(bit);
	free(v);
	free(v2);
}

static const struct {
	const char *sig;
	const char *name;
} hv_names[] = {
    {"KVMKVMKVM", "kvm"},	    {"Linux KVM Hv", "kvm"},	{"TCGTCGTCGTCG", "tcg"},
    {"Microsoft Hv", "hyperv"},	    {"VMwareVMware", "vmware"}, {"XenVMMXenVMM", "xen"},
    {"VBoxVBoxVBox", "virtualbox"}, {"bhyve bhyve ", "bhyve"},	{" lrpepyh  vr", "parallels"},
    {"ACRNACRNACRN", "acrn"},	    {"QNXQVMBSQG", "qnx"},	{"SRESRESRESRE", "sre"},
    {"EVMMEVMMEVMM", "evmm"},	    {"Jailhouse", "jailhouse"},
};

const char *hvt_hypervisor_name(const char *vendor)
{
	if (!vendor || !vendor[0])
		return NULL;
	for (size_t i = 0; i < HVT_ARRAY_SIZE(hv_names); i++)
		if (!strcmp(vendor, hv_names[i].sig))
			return hv_names[i].name;
	return "unknown";
}

/* ---- DMI ---- */

static const struct {
	const char *needle;
	const char *name;
} dmi_vms[] = {
    {"QEMU", "qemu"},
    {"KVM", "kvm"},
    {"VMware", "vmware"},
    {"VirtualBox", "virtualbox"},
    {"innotek", "virtualbox"},
    {"Xen", "xen"},
    {"Bochs", "bochs"},
    {"Parallels", "parallels"},
    {"BHYVE", "bhyve"},
    {"Virtual Machine", "hyperv"},
    {"Google Compute Engine", "gce"},
    {"OpenStack", "openstack"},
    {"SeaBIOS", "qemu"},
};

/* Adds virt.dmi; returns the VM name DMI points at, or NULL. */
static const char *dmi_collect(json_t *virt, json_t *ev)
{
	static const char *const keys[] = {"sys_vendor", "product_name", "bios_vendor"};
	json_t *dmi = json_object();
	const char *vm = NULL;

	for (size_t i = 0; i < HVT_ARRAY_SIZE(keys); i++) {
		char path[128];
		char *s;

		snprintf(path, sizeof(path), "/sys/class/dmi/id/%s", keys[i]);
		s = hvt_fs_read_trim(path);
		set_str(dmi, keys[i], s);
		for (size_t j = 0; s && !vm && j < HVT_ARRAY_SIZE(dmi_vms); j++) {
			if (strstr(s, dmi_vms[j].needle)) {
				vm = dmi_vms[j].name;
				add_ev(ev, "dmi: %s '%s' names a virtual machine", keys[i], s);
			}
		}
		free(s);
	}
	/* EC2 bare-metal instances say "Amazon EC2" too; only non-metal ones are VMs. */
	if (!vm) {
		const char *v = json_string_value(json_object_get(dmi, "sys_vendor"));
		const char *p = json_string_value(json_object_get(dmi, "product_name"));

		if (v && strstr(v, "Amazon EC2") && p && !strstr(p, "metal")) {
			vm = "ec2";
			add_ev(ev, "dmi: Amazon EC2 instance '%s' (not .metal)", p);
		}
	}
	json_object_set_new(virt, "dmi", dmi);
	return vm;
}

/* ---- container detection ---- */

/* Initial namespace inode numbers (include/linux/proc_ns.h), fixed by the kernel ABI. */
static const struct {
	const char *ns;
	unsigned long init_ino;
	int strong;
} ns_init[] = {
    {"pid", 0xEFFFFFFCUL, 1}, {"cgroup", 0xEFFFFFFBUL, 0}, {"user", 0xEFFFFFFDUL, 0},
    {"uts", 0xEFFFFFFEUL, 0}, {"ipc", 0xEFFFFFFFUL, 0},
};

/* Cgroup path fragments that only container managers create. */
static const struct {
	const char *needle;
	const char *runtime;
} cg_markers[] = {
    {"/libpod-", "podman"},
    {"/libpod_parent", "podman"},
    {"/docker/", "docker"},
    {"/docker-", "docker"},
    {"/kubepods", "kubernetes"},
    {"/cri-containerd-", "containerd"},
    {"/containerd/", "containerd"},
    {"/crio-", "cri-o"},
    {"/lxc/", "lxc"},
    {"/lxc.payload", "lxc"},
    {"/machine.slice/machine-", "systemd-nspawn"},
    {"/actions_job/", "docker"},
    {"/garden/", "garden"},
};

struct cdet {
	int strong, moderate, weak;
	const char *runtime; /* first hint wins; static strings only */
	char runtime_buf[64];
	int kubernetes;
};

static void hint(struct cdet *c, const char *rt)
{
	if (!c->runtime)
		c->runtime = rt;
}

static void cgroup_markers(struct cdet *c, json_t *ev, const char *file)
{
	char *s = hvt_fs_read(file, NULL);
	char *save = NULL;

	if (!s)
		return;
	for (char *line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		const char *path = strchr(line, ':');

		path = path ? strchr(path + 1, ':') : NULL;
		if (!path)
			continue;
		path++;
		for (size_t i = 0; i < HVT_ARRAY_SIZE(cg_markers); i++) {
			if (strstr(path, cg_markers[i].needle)) {
				c->strong++;
				hint(c, cg_markers[i].runtime);
				if (!strcmp(cg_markers[i].runtime, "kubernetes"))
					c->kubernetes = 1;
				add_ev(ev, "container: %s has cgroup path '%s' (%s)", file, path,
				       cg_markers[i].runtime);
				goto out;
			}
		}
	}
out:
	free(s);
}

/* The mountinfo line of the last mount on "/": root field and fstype. */
static int root_mount(char *root, size_t rlen, char *fstype, size_t flen)
{
	char *s = hvt_fs_read("/proc/self/mountinfo", NULL);
	char *save = NULL;
	int found = 0;

	if (!s)
		return 0;
	for (char *line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char r[PATH_MAX], mp[PATH_MAX], fs[64];
		const char *dash = strstr(line, " - ");

		if (!dash || sscanf(line, "%*s %*s %*s %4095s %4095s", r, mp) != 2)
			continue;
		if (strcmp(mp, "/") || sscanf(dash + 3, "%63s", fs) != 1)
			continue;
		snprintf(root, rlen, "%s", r);
		snprintf(fstype, flen, "%s", fs);
		found = 1;
	}
	free(s);
	return found;
}

static unsigned long ns_ino(const char *pid, const char *ns)
{
	char path[64];
	char *t;
	unsigned long ino = 0;

	snprintf(path, sizeof(path), "/proc/%s/ns/%s", pid, ns);
	t = hvt_fs_readlink(path);
	if (t) {
		const char *b = strchr(t, '[');

		if (b)
			ino = strtoul(b + 1, NULL, 10);
		free(t);
	}
	return ino;
}

static void namespaces(struct cdet *c, json_t *ev, json_t *virt)
{
	json_t *nso = json_object();
	int n_initial = 0, n_read = 0;

	for (size_t i = 0; i < HVT_ARRAY_SIZE(ns_init); i++) {
		unsigned long self = ns_ino("self", ns_init[i].ns);
		unsigned long one = ns_ino("1", ns_init[i].ns);

		if (!self)
			continue;
		n_read++;
		json_object_set_new(nso, ns_init[i].ns, json_integer((json_int_t)self));
		if (self == ns_init[i].init_ino)
			n_initial++;
		else if (ns_init[i].strong) {
			c->strong++;
			add_ev(ev, "container: %s namespace %lu is not the initial one",
			       ns_init[i].ns, self);
		} else {
			c->moderate++;
			add_ev(ev, "container?: %s namespace %lu is not the initial one",
			       ns_init[i].ns, self);
		}
		if (one && one != self)
			add_ev(ev, "note: %s namespace differs from pid 1's (%lu vs %lu)",
			       ns_init[i].ns, self, one);
	}
	if (n_read && n_initial == n_read)
		add_ev(ev, "no container: %s namespaces are the initial ones",
		       n_read == (int)HVT_ARRAY_SIZE(ns_init) ? "pid, cgroup, user, uts and ipc"
							      : "all readable");
	json_object_set_new(virt, "namespaces", nso);
}

/* Runs every container check; adds evidence; returns 1 when a container is detected. */
static int container_detect(json_t *virt, json_t *ev)
{
	struct cdet c = {0};
	char root[PATH_MAX], fstype[64];
	int dockerenv, detected;
	size_t len;
	char *s;

	/* pid 1's "container" variable: set by podman, systemd-nspawn, lxc, and OCI images. */
	s = hvt_fs_read("/proc/1/environ", &len);
	if (s) {
		char *v = environ_lookup(s, len, "container");

		if (v && v[0]) {
			c.strong++;
			snprintf(c.runtime_buf, sizeof(c.runtime_buf), "%s", v);
			hint(&c, c.runtime_buf);
			add_ev(ev, "container: pid 1 has container=%s", v);
		}
		free(v);
		free(s);
	} else {
		add_ev(ev, "note: /proc/1/environ unreadable (%s)", strerror(errno));
	}
	if (hvt_fs_exists("/run/.containerenv")) {
		c.strong++;
		hint(&c, "podman");
		add_ev(ev, "container: /run/.containerenv exists (podman)");
	}
	cgroup_markers(&c, ev, "/proc/1/cgroup");
	cgroup_markers(&c, ev, "/proc/self/cgroup");
	s = hvt_fs_read("/proc/self/environ", &len);
	if (s) {
		char *v = environ_lookup(s, len, "KUBERNETES_SERVICE_HOST");

		if (v) {
			c.strong++;
			c.kubernetes = 1;
			hint(&c, "kubernetes");
			add_ev(ev, "container: KUBERNETES_SERVICE_HOST is set");
		}
		free(v);
		free(s);
	}
	if (hvt_fs_exists("/var/run/secrets/kubernetes.io") ||
	    hvt_fs_exists("/run/secrets/kubernetes.io")) {
		c.strong++;
		c.kubernetes = 1;
		hint(&c, "kubernetes");
		add_ev(ev, "container: kubernetes service account secrets are mounted");
	}
	if (root_mount(root, sizeof(root), fstype, sizeof(fstype))) {
		if (!strcmp(fstype, "overlay") || !strcmp(fstype, "fuse-overlayfs") ||
		    !strcmp(fstype, "aufs")) {
			c.moderate++;
			add_ev(ev, "container?: root filesystem is %s", fstype);
		}
		if (strcmp(root, "/")) {
			c.moderate++;
			add_ev(ev, "container?: root filesystem is a bind mount of '%s' (%s)", root,
			       fstype);
		}
	}
	s = hvt_fs_readlink("/proc/1/root");
	if (s && strcmp(s, "/")) {
		c.moderate++;
		add_ev(ev, "container?: /proc/1/root points at '%s'", s);
	}
	free(s);
	namespaces(&c, ev, virt);
	/* Docker leaves /.dockerenv; alone it proves nothing (images and sandboxes copy it). */
	dockerenv = hvt_fs_exists("/.dockerenv");
	if (dockerenv)
		c.weak++;

	detected = c.strong > 0 || c.moderate >= 2 || (c.moderate >= 1 && c.weak >= 1);
	if (dockerenv) {
		if (detected) {
			hint(&c, "docker");
			add_ev(ev, "container: /.dockerenv exists");
		} else {
			add_ev(ev, "ignored: /.dockerenv exists but nothing else says container");
		}
	}
	if (!detected && !c.moderate)
		add_ev(ev,
		       "no container: no container manager's traces in cgroups, pid 1 or mounts");
	json_object_set_new(virt, "container", json_boolean(detected));
	set_str(virt, "container_runtime", detected ? c.runtime : NULL);
	json_object_set_new(virt, "kubernetes", json_boolean(c.kubernetes));
	return detected;
}

static json_t *virt_collect(void)
{
	json_t *virt = json_object(), *ev = json_array();
	struct cpuid_info ci = {0};
	const char *hv = NULL, *dmi_vm;
	int vm = 0, ct;

	if (hvt_fsroot_is_live()) {
		cpuid_live(&ci);
	} else {
		char *t = hvt_fs_read("/hvt/cpuid", NULL);

		if (t)
			cpuid_captured(&ci, t);
		free(t);
	}
	if (!ci.known) {
		char *info = hvt_fs_read("/proc/cpuinfo", NULL);
		char *flags = info ? kv_lookup(info, "flags", ':') : NULL;

		if (flags) {
			char padded[8192];

			snprintf(padded, sizeof(padded), " %s ", flags);
			ci.known = 1;
			ci.hv_bit = strstr(padded, " hypervisor ") != NULL;
			ci.source = "cpuinfo";
		}
		free(flags);
		free(info);
	}
	if (ci.known) {
		add_ev(ev, "%s: hypervisor bit %s", ci.source, ci.hv_bit ? "set" : "clear");
		if (ci.hv_bit) {
			vm = 1;
			hv = hvt_hypervisor_name(ci.vendor);
			if (ci.vendor_alt[0] && !strcmp(ci.vendor_alt, "KVMKVMKVM"))
				hv = "kvm";
			if (ci.vendor[0])
				add_ev(ev, "%s: leaf 0x40000000 vendor '%s'%s%s", ci.source,
				       ci.vendor, ci.vendor_alt[0] ? ", leaf 0x40000100 '" : "",
				       ci.vendor_alt[0] ? ci.vendor_alt : "");
		} else {
			hv = "none";
		}
	}
	json_object_set_new(virt, "cpuid_hypervisor_bit",
			    ci.known ? json_boolean(ci.hv_bit) : json_null());
	set_str(virt, "cpuid_vendor", ci.vendor[0] ? ci.vendor : NULL);
	set_str(virt, "cpuid_source", ci.source);
	dmi_vm = dmi_collect(virt, ev);
	if (dmi_vm && !vm) {
		vm = 1;
		add_ev(ev, "vm: dmi says %s although cpuid does not", dmi_vm);
	}
	set_str(virt, "hypervisor", hv);
	json_object_set_new(virt, "emulated", hv ? json_boolean(!strcmp(hv, "tcg")) : json_null());
	ct = container_detect(virt, ev);
	/* Without cpuid (non-x86, or a tree without hvt/cpuid and cpuinfo) "bare-metal" would be a
	 * guess. */
	set_str(virt, "kind",
		vm	   ? (ct ? "vm+container" : "vm")
		: ct	   ? "container"
		: ci.known ? "bare-metal"
			   : "unknown");
	json_object_set_new(virt, "evidence", ev);
	return virt;
}

const char *hvt_virt_kind(json_t *fp)
{
	const char *k = json_string_value(json_object_get(json_object_get(fp, "virt"), "kind"));

	return k ? k : "unknown";
}

/* ---- cgroups ---- */

struct cg_mount {
	char root[PATH_MAX];
	char mp[PATH_MAX];
	char opts[256];
	int v2;
};

struct cg_state {
	struct cg_mount *m;
	size_t n;
	char *self; /* /proc/self/cgroup text */
};

static int has_token(const char *list, const char *tok)
{
	size_t tl = strlen(tok);

	for (const char *p = list; p && *p;) {
		const char *comma = strchr(p, ',');
		size_t l = comma ? (size_t)(comma - p) : strlen(p);

		if (l == tl && !strncmp(p, tok, tl))
			return 1;
		p = comma ? comma + 1 : NULL;
	}
	return 0;
}

static void cg_load(struct cg_state *cg)
{
	char *s = hvt_fs_read("/proc/self/mountinfo", NULL);
	char *save = NULL;

	cg->self = hvt_fs_read("/proc/self/cgroup", NULL);
	if (!s)
		return;
	for (char *line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct cg_mount mt = {0};
		const char *dash = strstr(line, " - ");
		char fs[32];
		struct cg_mount *nm;

		if (!dash || sscanf(line, "%*s %*s %*s %4095s %4095s", mt.root, mt.mp) != 2)
			continue;
		if (sscanf(dash + 3, "%31s %*s %255s", fs, mt.opts) < 1)
			continue;
		if (!strcmp(fs, "cgroup2"))
			mt.v2 = 1;
		else if (strcmp(fs, "cgroup"))
			continue;
		nm = realloc(cg->m, (cg->n + 1) * sizeof(*nm));
		if (!nm)
			break;
		cg->m = nm;
		cg->m[cg->n++] = mt;
	}
	free(s);
}

/* The process's cgroup path for a v1 controller, or for v2 when ctrl is NULL (malloc'd). */
static char *cg_self_path(const struct cg_state *cg, const char *ctrl)
{
	char *save = NULL, *copy, *ret = NULL;

	if (!cg->self || !(copy = strdup(cg->self)))
		return NULL;
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *c1 = strchr(line, ':'), *c2;

		if (!c1 || !(c2 = strchr(c1 + 1, ':')))
			continue;
		*c2 = '\0';
		if ((!ctrl && c1[1] == '\0' && !strncmp(line, "0:", 2)) ||
		    (ctrl && has_token(c1 + 1, ctrl))) {
			ret = strdup(c2 + 1);
			break;
		}
	}
	free(copy);
	return ret;
}

/* The directory holding this process's cgroup files for ctrl (NULL = v2), and its mount point. */
static int cg_dir(const struct cg_state *cg, const char *ctrl, char *dir, size_t len, char *mp,
		  size_t mlen)
{
	const struct cg_mount *m = NULL;
	char *path;
	const char *rel;
	int n;

	for (size_t i = 0; i < cg->n && !m; i++)
		if (ctrl ? (!cg->m[i].v2 && has_token(cg->m[i].opts, ctrl)) : cg->m[i].v2)
			m = &cg->m[i];
	if (!m)
		return -ENOENT;
	path = cg_self_path(cg, ctrl);
	rel = path ? path : "/";
	/* Inside a cgroup namespace the mount root and the path are both relative. */
	if (strcmp(m->root, "/")) {
		size_t rl = strlen(m->root);

		if (!strncmp(rel, m->root, rl) && (rel[rl] == '/' || rel[rl] == '\0'))
			rel += rl;
		else
			rel = "/";
	}
	if (!strncmp(rel, "/..", 3))
		rel = "/";
	n = snprintf(dir, len, "%s%s", m->mp, strcmp(rel, "/") ? rel : "");
	snprintf(mp, mlen, "%s", m->mp);
	free(path);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* Drop the last path component; 0 once dir reaches the mount point. */
static int cg_up(char *dir, const char *mp)
{
	char *slash;

	if (!strcmp(dir, mp) || strlen(dir) <= strlen(mp))
		return 0;
	slash = strrchr(dir, '/');
	if (!slash)
		return 0;
	*slash = '\0';
	return strlen(dir) >= strlen(mp);
}

static void cgroup_cpu(const struct cg_state *cg, json_t *o)
{
	char dir[PATH_MAX], mp[PATH_MAX], f[PATH_MAX + 32];
	double best = -1;
	int64_t bq = -1, bp = -1;

	if (!cg_dir(cg, "cpu", dir, sizeof(dir), mp, sizeof(mp))) {
		do {
			int64_t q, p;

			snprintf(f, sizeof(f), "%s/cpu.cfs_quota_us", dir);
			if (hvt_fs_read_int(f, &q) || q <= 0)
				continue;
			snprintf(f, sizeof(f), "%s/cpu.cfs_period_us", dir);
			if (hvt_fs_read_int(f, &p) || p <= 0)
				continue;
			if (best < 0 || (double)q / p < best) {
				best = (double)q / p;
				bq = q;
				bp = p;
			}
		} while (cg_up(dir, mp));
	} else if (!cg_dir(cg, NULL, dir, sizeof(dir), mp, sizeof(mp))) {
		do {
			char *s;
			long long q, p;

			snprintf(f, sizeof(f), "%s/cpu.max", dir);
			s = hvt_fs_read_trim(f);
			if (s && sscanf(s, "%lld %lld", &q, &p) == 2 && q > 0 && p > 0 &&
			    (best < 0 || (double)q / p < best)) {
				best = (double)q / p;
				bq = q;
				bp = p;
			}
			free(s);
		} while (cg_up(dir, mp));
	}
	json_object_set_new(o, "cpu_quota_us", bq > 0 ? json_integer(bq) : json_null());
	json_object_set_new(o, "cpu_period_us", bp > 0 ? json_integer(bp) : json_null());
	json_object_set_new(o, "cpu_limit", best > 0 ? json_real(best) : json_null());
}

static void cgroup_cpuset(const struct cg_state *cg, json_t *o)
{
	static const char *const v1[] = {"cpuset.effective_cpus", "cpuset.cpus"};
	static const char *const v2[] = {"cpuset.cpus.effective", "cpuset.cpus"};
	char dir[PATH_MAX], mp[PATH_MAX], f[PATH_MAX + 32];
	const char *const *names = v1;
	char *s = NULL;

	if (cg_dir(cg, "cpuset", dir, sizeof(dir), mp, sizeof(mp))) {
		names = v2;
		if (cg_dir(cg, NULL, dir, sizeof(dir), mp, sizeof(mp)))
			dir[0] = '\0';
	}
	/* An empty cpuset.cpus in v2 means "inherited": go up until one is set. */
	while (dir[0] && !s) {
		for (size_t i = 0; i < 2 && !s; i++) {
			snprintf(f, sizeof(f), "%s/%s", dir, names[i]);
			s = hvt_fs_read_trim(f);
			if (s && !s[0]) {
				free(s);
				s = NULL;
			}
		}
		if (!cg_up(dir, mp))
			break;
	}
	set_str(o, "cpuset", s);
	json_object_set_new(o, "cpuset_cpus",
			    s && cpulist_count(s) >= 0 ? json_integer(cpulist_count(s))
						       : json_null());
	free(s);
}

static void cgroup_memory(const struct cg_state *cg, json_t *o)
{
	char dir[PATH_MAX], mp[PATH_MAX], f[PATH_MAX + 32];
	const char *name = "memory.limit_in_bytes";
	int64_t best = -1;

	if (cg_dir(cg, "memory", dir, sizeof(dir), mp, sizeof(mp))) {
		name = "memory.max";
		if (cg_dir(cg, NULL, dir, sizeof(dir), mp, sizeof(mp)))
			goto out;
	}
	do {
		int64_t v;

		snprintf(f, sizeof(f), "%s/%s", dir, name);
		/* "max" (v2) fails to parse; v1 says "unlimited" with a value near 2^63. */
		if (hvt_fs_read_int(f, &v) || v <= 0 || v >= (INT64_C(1) << 62))
			continue;
		if (best < 0 || v < best)
			best = v;
	} while (cg_up(dir, mp));
out:
	json_object_set_new(o, "memory_limit_bytes", best > 0 ? json_integer(best) : json_null());
}

static json_t *cgroup_collect(void)
{
	static const char *const seccomp_modes[] = {"disabled", "strict", "filter"};
	struct cg_state cg = {0};
	json_t *o = json_object();
	int v1 = 0, v2root = 0, v2any = 0;
	char *path, *status;

	cg_load(&cg);
	for (size_t i = 0; i < cg.n; i++) {
		if (cg.m[i].v2) {
			v2any = 1;
			if (!strcmp(cg.m[i].mp, "/sys/fs/cgroup"))
				v2root = 1;
		} else {
			v1 = 1;
		}
	}
	/* No cgroup mounts visible: v1 controllers still show in /proc/self/cgroup. */
	if (!cg.n && cg.self) {
		char *c = cg_self_path(&cg, "cpu");

		v1 = c != NULL;
		v2root = !v1;
		free(c);
	}
	set_str(o, "version", v1 ? (v2any ? "hybrid" : "v1") : v2root || v2any ? "v2" : NULL);
	path = cg_self_path(&cg, v1 ? "cpu" : NULL);
	set_str(o, "path", path);
	free(path);
	cgroup_cpu(&cg, o);
	cgroup_cpuset(&cg, o);
	cgroup_memory(&cg, o);

	status = hvt_fs_read("/proc/self/status", NULL);
	if (status) {
		char *sc = kv_lookup(status, "Seccomp", ':');
		char *nnp = kv_lookup(status, "NoNewPrivs", ':');
		int m = sc ? atoi(sc) : -1;

		set_str(o, "seccomp", sc ? (m >= 0 && m <= 2 ? seccomp_modes[m] : sc) : NULL);
		json_object_set_new(o, "no_new_privs",
				    nnp ? json_boolean(atoi(nnp) != 0) : json_null());
		free(sc);
		free(nnp);
		free(status);
	}
	free(cg.self);
	free(cg.m);
	return o;
}

/* ---- CPU ---- */

static json_t *cpu_collect(void)
{
	static const char *const interest[] = {"vmx",	      "svm",  "hypervisor", "constant_tsc",
					       "nonstop_tsc", "avx2", "avx512f",    "pdpe1gb"};
	static const struct {
		const char *src, *key;
		int integer;
	} fields[] = {
	    {"vendor_id", "vendor", 0},	 {"model name", "model_name", 0},
	    {"cpu family", "family", 1}, {"model", "model", 1},
	    {"stepping", "stepping", 1}, {"microcode", "microcode", 0},
	};
	json_t *o = json_object();
	char *info = hvt_fs_read("/proc/cpuinfo", NULL);
	char *online;

	if (info) {
		char *blank = strstr(info, "\n\n");
		char *flags, *mhz;
		long nproc = 0;

		for (const char *p = info; (p = strstr(p, "processor")); p++)
			if (p == info || p[-1] == '\n')
				nproc++;
		if (blank)
			*blank = '\0'; /* the first CPU's block is enough */
		for (size_t i = 0; i < HVT_ARRAY_SIZE(fields); i++) {
			char *v = kv_lookup(info, fields[i].src, ':');

			if (v && fields[i].integer)
				json_object_set_new(o, fields[i].key,
						    json_integer(strtoll(v, NULL, 0)));
			else if (v)
				json_object_set_new(o, fields[i].key, json_string(v));
			free(v);
		}
		mhz = kv_lookup(info, "cpu MHz", ':');
		if (mhz)
			json_object_set_new(o, "mhz", json_real(strtod(mhz, NULL)));
		free(mhz);
		flags = kv_lookup(info, "flags", ':');
		if (flags) {
			json_t *fo = json_object();
			size_t fl = strlen(flags) + 3;
			char *padded = malloc(fl);

			if (padded) {
				snprintf(padded, fl, " %s ", flags);
				for (size_t i = 0; i < HVT_ARRAY_SIZE(interest); i++) {
					char needle[32];

					snprintf(needle, sizeof(needle), " %s ", interest[i]);
					json_object_set_new(fo, interest[i],
							    json_boolean(strstr(padded, needle)));
				}
				free(padded);
			}
			json_object_set_new(o, "flags", fo);
			free(flags);
		}
		json_object_set_new(o, "cpuinfo_processors", json_integer(nproc));
		free(info);
	}
	online = hvt_fs_read_trim("/sys/devices/system/cpu/online");
	if (online) {
		long n = cpulist_count(online);

		json_object_set_new(o, "online", json_string(online));
		json_object_set_new(o, "online_cpus", n >= 0 ? json_integer(n) : json_null());
		free(online);
	}
	return o;
}

static json_t *mitigations_collect(void)
{
	const char *dir = "/sys/devices/system/cpu/vulnerabilities";
	json_t *o = json_object();
	char **names;
	size_t n;

	if (hvt_fs_list(dir, &names, &n))
		return o;
	for (size_t i = 0; i < n; i++) {
		char path[PATH_MAX];

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		set_file(o, names[i], path);
	}
	hvt_fs_list_free(names, n);
	return o;
}

/* ---- topology (hwloc) ---- */

static const char *pci_class_name(unsigned class_id)
{
	switch (class_id >> 8) {
	case 0x01:
		return "storage";
	case 0x02:
		return "network";
	case 0x03:
		return "gpu";
	case 0x12:
		return "accelerator";
	case 0x0c:
		return (class_id & 0xff) == 0x06 ? "network" : NULL; /* InfiniBand */
	default:
		return NULL;
	}
}

static json_t *pci_collect(hwloc_topology_t t)
{
	json_t *arr = json_array();

	for (hwloc_obj_t o = hwloc_get_next_pcidev(t, NULL); o; o = hwloc_get_next_pcidev(t, o)) {
		const struct hwloc_pcidev_attr_s *p = &o->attr->pcidev;
		const char *cls = pci_class_name(p->class_id);
		json_t *d, *osdevs;
		char buf[32];

		if (!cls)
			continue;
		d = json_object();
		osdevs = json_array();
		snprintf(buf, sizeof(buf), "%04x:%02x:%02x.%01x", p->domain, p->bus, p->dev,
			 p->func);
		json_object_set_new(d, "busid", json_string(buf));
		json_object_set_new(d, "class", json_string(cls));
		snprintf(buf, sizeof(buf), "0x%04x", p->class_id);
		json_object_set_new(d, "class_id", json_string(buf));
		snprintf(buf, sizeof(buf), "0x%04x", p->vendor_id);
		json_object_set_new(d, "vendor_id", json_string(buf));
		snprintf(buf, sizeof(buf), "0x%04x", p->device_id);
		json_object_set_new(d, "device_id", json_string(buf));
		set_str(d, "name", o->name);
		for (hwloc_obj_t c = o->io_first_child; c; c = c->next_sibling)
			if (c->type == HWLOC_OBJ_OS_DEVICE && c->name)
				json_array_append_new(osdevs, json_string(c->name));
		json_object_set_new(d, "os_devices", osdevs);
		json_array_append_new(arr, d);
	}
	return arr;
}

static json_t *topology_collect(void)
{
	static const struct {
		hwloc_obj_type_t type;
		const char *key;
	} counts[] = {
	    {HWLOC_OBJ_PACKAGE, "packages"},
	    {HWLOC_OBJ_NUMANODE, "numa_nodes"},
	    {HWLOC_OBJ_CORE, "cores"},
	    {HWLOC_OBJ_PU, "pus"},
	};
	static const struct {
		hwloc_obj_type_t type;
		const char *key;
	} caches[] = {
	    {HWLOC_OBJ_L1CACHE, "l1d"},
	    {HWLOC_OBJ_L2CACHE, "l2"},
	    {HWLOC_OBJ_L3CACHE, "l3"},
	};
	json_t *o = json_object();
	hwloc_topology_t t;
	char key[32];

	json_object_set_new(o, "hwloc_version", json_string(HWLOC_VERSION));
	if (hwloc_topology_init(&t)) {
		set_str(o, "error", "hwloc_topology_init failed");
		return o;
	}
	hwloc_topology_set_io_types_filter(t, HWLOC_TYPE_FILTER_KEEP_IMPORTANT);
	/*
	 * The "pci" plugin (libpciaccess) leaks on every load, which fails the
	 * sanitizer build; the linux component finds the same devices in sysfs.
	 */
	hwloc_topology_set_components(t, HWLOC_TOPOLOGY_COMPONENTS_FLAG_BLACKLIST, "pci");
	if (hvt_fsroot_is_live()) {
		set_str(o, "source", "live");
	} else {
		char xml[PATH_MAX];

		/* hwloc's own fsroot is an environment variable; a captured XML needs no global
		 * state. */
		if (hvt_fsroot_path(xml, sizeof(xml), "/hvt/topology.xml") ||
		    !hvt_fs_exists("/hvt/topology.xml")) {
			set_str(o, "error", "no hvt/topology.xml in the replayed tree");
			goto out_destroy;
		}
		set_str(o, "source", "xml");
		if (hwloc_topology_set_xml(t, xml)) {
			json_object_set_new(
			    o, "error", json_sprintf("cannot use '%s': %s", xml, strerror(errno)));
			goto out_destroy;
		}
	}
	if (hwloc_topology_load(t)) {
		json_object_set_new(o, "error",
				    json_sprintf("hwloc_topology_load: %s", strerror(errno)));
		goto out_destroy;
	}
	for (size_t i = 0; i < HVT_ARRAY_SIZE(counts); i++)
		json_object_set_new(o, counts[i].key,
				    json_integer(hwloc_get_nbobjs_by_type(t, counts[i].type)));
	for (size_t i = 0; i < HVT_ARRAY_SIZE(caches); i++) {
		hwloc_obj_t c = hwloc_get_obj_by_type(t, caches[i].type, 0);

		snprintf(key, sizeof(key), "%s_bytes", caches[i].key);
		json_object_set_new(
		    o, key, c ? json_integer((json_int_t)c->attr->cache.size) : json_null());
		snprintf(key, sizeof(key), "%s_count", caches[i].key);
		json_object_set_new(o, key,
				    json_integer(hwloc_get_nbobjs_by_type(t, caches[i].type)));
	}
	json_object_set_new(o, "pci", pci_collect(t));
out_destroy:
	hwloc_topology_destroy(t);
	return o;
}

/* ---- kernel, memory, cpuidle ---- */

/* The bracketed choice of a sysfs mode file ("always [madvise] never" -> "madvise"). */
static void set_bracketed(json_t *o, const char *key, const char *path)
{
	char *s = hvt_fs_read_trim(path);
	char *a, *b;

	if (!s)
		return;
	a = strchr(s, '[');
	b = a ? strchr(a, ']') : NULL;
	if (a && b) {
		*b = '\0';
		json_object_set_new(o, key, json_string(a + 1));
	} else {
		json_object_set_new(o, key, json_string(s));
	}
	free(s);
}

static json_t *words_array(const char *s)
{
	json_t *arr = json_array();
	char *copy = strdup(s), *save = NULL;

	if (!copy)
		return arr;
	for (char *w = strtok_r(copy, " \t\n", &save); w; w = strtok_r(NULL, " \t\n", &save))
		json_array_append_new(arr, json_string(w));
	free(copy);
	return arr;
}

static json_t *kernel_collect(void)
{
	const char *cs = "/sys/devices/system/clocksource/clocksource0";
	json_t *o = json_object(), *clk = json_object(), *thp = json_object();
	char path[PATH_MAX];
	char *s;

	if (hvt_fsroot_is_live()) {
		struct utsname u;

		if (!uname(&u)) {
			json_object_set_new(o, "release", json_string(u.release));
			json_object_set_new(o, "version", json_string(u.version));
			json_object_set_new(o, "machine", json_string(u.machine));
		}
	} else {
		set_file(o, "release", "/proc/sys/kernel/osrelease");
		set_file(o, "version", "/proc/sys/kernel/version");
		set_file(o, "machine", "/proc/sys/kernel/arch");
	}
	set_file(o, "proc_version", "/proc/version");
	set_file(o, "cmdline", "/proc/cmdline");

	snprintf(path, sizeof(path), "%s/current_clocksource", cs);
	set_file(clk, "current", path);
	snprintf(path, sizeof(path), "%s/available_clocksource", cs);
	s = hvt_fs_read_trim(path);
	if (s)
		json_object_set_new(clk, "available", words_array(s));
	free(s);
	json_object_set_new(o, "clocksource", clk);

	set_bracketed(thp, "enabled", "/sys/kernel/mm/transparent_hugepage/enabled");
	set_bracketed(thp, "defrag", "/sys/kernel/mm/transparent_hugepage/defrag");
	json_object_set_new(o, "thp", thp);

	s = hvt_fs_read("/etc/os-release", NULL);
	if (!s)
		s = hvt_fs_read("/usr/lib/os-release", NULL);
	if (s) {
		char *pn = kv_lookup(s, "PRETTY_NAME", '=');

		if (pn) {
			size_t l = strlen(pn);

			if (l >= 2 && (pn[0] == '"' || pn[0] == '\'') && pn[l - 1] == pn[0]) {
				pn[l - 1] = '\0';
				memmove(pn, pn + 1, l - 1);
			}
			json_object_set_new(o, "os", json_string(pn));
		}
		free(pn);
		free(s);
	}
	return o;
}

static json_t *memory_collect(void)
{
	static const struct {
		const char *src, *key;
		int kib;
	} fields[] = {
	    {"MemTotal", "mem_total_bytes", 1},
	    {"Hugepagesize", "hugepage_size_bytes", 1},
	    {"HugePages_Total", "hugepages_total", 0},
	    {"HugePages_Free", "hugepages_free", 0},
	};
	json_t *o = json_object();
	char *mi = hvt_fs_read("/proc/meminfo", NULL);

	if (!mi)
		return o;
	for (size_t i = 0; i < HVT_ARRAY_SIZE(fields); i++) {
		char *v = kv_lookup(mi, fields[i].src, ':');

		if (v) {
			long long x = strtoll(v, NULL, 10);

			json_object_set_new(o, fields[i].key,
					    json_integer(fields[i].kib ? x * 1024 : x));
		}
		free(v);
	}
	free(mi);
	return o;
}

static json_t *cpuidle_collect(void)
{
	json_t *o = json_object(), *states = json_array();

	set_file(o, "driver", "/sys/devices/system/cpu/cpuidle/current_driver");
	if (hvt_fs_exists("/sys/devices/system/cpu/cpuidle/current_governor_ro"))
		set_file(o, "governor", "/sys/devices/system/cpu/cpuidle/current_governor_ro");
	else
		set_file(o, "governor", "/sys/devices/system/cpu/cpuidle/current_governor");
	for (int i = 0; i < 64; i++) {
		char path[96];
		char *s;

		snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu0/cpuidle/state%d/name",
			 i);
		s = hvt_fs_read_trim(path);
		if (!s)
			break;
		json_array_append_new(states, json_string(s));
		free(s);
	}
	json_object_set_new(o, "cpu0_states", states);
	return o;
}

static json_t *env_collect(void)
{
	json_t *o = json_object();
	char *blk = NULL;
	size_t len = 0;

	if (!hvt_fsroot_is_live())
		blk = hvt_fs_read("/proc/self/environ", &len);
	for (size_t i = 0; i < HVT_ARRAY_SIZE(env_allow); i++) {
		if (hvt_fsroot_is_live()) {
			const char *v = getenv(env_allow[i]);

			if (v)
				json_object_set_new(o, env_allow[i], json_string(v));
		} else if (blk) {
			char *v = environ_lookup(blk, len, env_allow[i]);

			if (v)
				json_object_set_new(o, env_allow[i], json_string(v));
			free(v);
		}
	}
	free(blk);
	return o;
}

json_t *hvt_fingerprint_collect(void)
{
	json_t *fp = json_object(), *tool = json_object(), *pmu;
	char host[256];

	if (!fp || !tool) {
		json_decref(fp);
		json_decref(tool);
		return NULL;
	}
	json_object_set_new(tool, "name", json_string("hvtax-bench"));
	json_object_set_new(tool, "version", json_string(hvt_version));
	json_object_set_new(tool, "commit", json_string(hvt_commit));
	json_object_set_new(fp, "tool", tool);
	json_object_set_new(fp, "fsroot",
			    hvt_fsroot_is_live() ? json_null() : json_string(hvt_fsroot_get()));
	if (hvt_fsroot_is_live()) {
		if (!gethostname(host, sizeof(host))) {
			host[sizeof(host) - 1] = '\0';
			json_object_set_new(fp, "hostname", json_string(host));
		}
	} else {
		set_file(fp, "hostname", "/proc/sys/kernel/hostname");
	}
	json_object_set_new(fp, "virt", virt_collect());
	json_object_set_new(fp, "cgroup", cgroup_collect());
	json_object_set_new(fp, "cpu", cpu_collect());
	json_object_set_new(fp, "mitigations", mitigations_collect());
	json_object_set_new(fp, "topology", topology_collect());
	json_object_set_new(fp, "kernel", kernel_collect());
	json_object_set_new(fp, "memory", memory_collect());
	json_object_set_new(fp, "cpuidle", cpuidle_collect());
	/* The PMU is probed with perf_event_open, which a captured tree cannot stand in for. */
	pmu = hvt_fsroot_is_live() ? hvt_pmu_describe() : NULL;
	json_object_set_new(fp, "pmu", pmu ? pmu : json_null());
	/* the families' own live additions (NICs, GPUs, huge pages...) */
	for (size_t i = 0; hvt_fsroot_is_live() && i < hvt_nfp_hooks; i++) {
		json_t *v = hvt_fp_hooks[i].collect();

		json_object_set_new(fp, hvt_fp_hooks[i].key, v ? v : json_null());
	}
	json_object_set_new(fp, "env", env_collect());
	return fp;
}
