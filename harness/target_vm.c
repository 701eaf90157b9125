/* SPDX-License-Identifier: MIT */
/* Target vm: qemu direct-boots a distribution kernel with the payload as initramfs. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "target.h"
#include "../common/units.h"
#include "../common/util.h"

/* The newest /boot/vmlinuz-* by version order, or "" when there is none. */
static void newest_kernel(char *out, size_t len)
{
	DIR *d = opendir("/boot");
	struct dirent *e;

	out[0] = '\0';
	if (!d)
		return;
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, "vmlinuz-", 8) != 0)
			continue;
		if (!out[0] || strverscmp(e->d_name, strrchr(out, '/') + 1) > 0)
			snprintf(out, len, "/boot/%s", e->d_name);
	}
	closedir(d);
}

static int readable_file(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, R_OK) == 0;
}

static int vm_probe(struct hvt_target *t)
{
	char initrd[PATH_MAX + 32];

	if (!hvt_target_have_prog(t->conf.qemu))
		return hvt_target_fail(t, -ENODEV, "qemu '%s' not found (apt-get install qemu-system-x86)",
				       t->conf.qemu);
	if (!t->conf.kernel[0]) {
		newest_kernel(t->conf.kernel, sizeof(t->conf.kernel));
		if (!t->conf.kernel[0])
			return hvt_target_fail(t, -ENODEV,
					       "no kernel in /boot (apt-get install linux-image-amd64, "
					       "or set kernel = in the vm target config)");
	} else if (!readable_file(t->conf.kernel)) {
		/* named but unusable: a broken config, stored as a failed run */
		return hvt_target_fail(t, -ENOENT, "vm kernel '%s': %s", t->conf.kernel,
				       strerror(errno ? errno : ENOENT));
	}
	snprintf(initrd, sizeof(initrd), "%s/initramfs.cpio.gz", t->conf.payload);
	if (!readable_file(initrd))
		return hvt_target_fail(t, -ENOENT, "no payload initramfs '%s' (scripts/build-payload.sh)",
				       initrd);
	return 0;
}

/* ---- a cpio (newc) archive with the suite, appended to the payload's initramfs ---- */

static int newc_entry(FILE *f, const char *name, unsigned mode, const char *data, size_t n,
		      unsigned ino)
{
	size_t nl = strlen(name) + 1;
	static const char zero[4];

	fprintf(f, "070701%08X%08X%08X%08X%08X%08X%08zX%08X%08X%08X%08X%08zX%08X", ino, mode, 0u,
		0u, 1u, 0u, n, 0u, 0u, 0u, 0u, nl, 0u);
	fwrite(name, 1, nl, f);
	fwrite(zero, 1, (4 - (110 + nl) % 4) % 4, f);
	if (n)
		fwrite(data, 1, n, f);
	fwrite(zero, 1, (4 - n % 4) % 4, f);
	return ferror(f) ? -EIO : 0;
}

static int make_initrd(struct hvt_target *t, const struct hvt_launch *l, char *out, size_t len)
{
	char base[PATH_MAX + 32];
	size_t n = 0, sn = 0;
	char *img = NULL, *suite = NULL;
	FILE *f;
	int r = 0;
	unsigned ino = 0x4a5600;

	snprintf(base, sizeof(base), "%s/initramfs.cpio.gz", t->conf.payload);
	snprintf(out, len, "%s/initrd.img", t->tmpdir);
	img = hvt_read_file(base, &n);
	if (!img)
		return hvt_target_fail(t, -errno ? -errno : -EIO, "cannot read '%s': %s", base,
				       strerror(errno));
	if (l->suite_path) {
		suite = hvt_read_file(l->suite_path, &sn);
		if (!suite) {
			free(img);
			return hvt_target_fail(t, -EIO, "cannot read '%s': %s", l->suite_path,
					       strerror(errno));
		}
	}
	f = fopen(out, "w");
	if (!f) {
		r = hvt_target_fail(t, -errno, "cannot create '%s': %s", out, strerror(errno));
		goto out;
	}
	fwrite(img, 1, n, f);
	/* the kernel finds the next archive at a 4-byte boundary; the payload is padded to 512 */
	for (size_t pad = (512 - n % 512) % 512; pad; pad--)
		fputc(0, f);
	r = newc_entry(f, "hvtax", 040755, NULL, 0, ino++);
	if (!r && suite)
		r = newc_entry(f, "hvtax/suite.ini", 0100644, suite, sn, ino++);
	if (!r && l->benches)
		r = newc_entry(f, "hvtax/bench", 0100644, l->benches, strlen(l->benches), ino++);
	if (!r && l->extra && l->extra[0]) {
		/* more agent arguments (-p k=v, --peer ...): one per line, read back by the init */
		size_t an = 0, off = 0;
		char *args;

		for (size_t i = 0; l->extra[i]; i++)
			an += strlen(l->extra[i]) + 1;
		args = hvt_calloc(1, an + 1);
		if (!args)
			r = -ENOMEM;
		for (size_t i = 0; args && l->extra[i]; i++) {
			if (strchr(l->extra[i], '\n')) {
				free(args);
				fclose(f);
				r = hvt_target_fail(t, -EINVAL, "argument '%s' has a newline", l->extra[i]);
				goto out;
			}
			off += (size_t)sprintf(args + off, "%s\n", l->extra[i]);
		}
		if (args)
			r = newc_entry(f, "hvtax/args", 0100644, args, off, ino++);
		free(args);
	}
	if (!r)
		r = newc_entry(f, "TRAILER!!!", 0, NULL, 0, 0);
	if (fclose(f) && !r)
		r = -errno;
	if (r)
		r = hvt_target_fail(t, r, "cannot write '%s': %s", out, strerror(-r));
out:
	free(img);
	free(suite);
	return r;
}

/* The io scratch disk: a sparse file with ext4, opened O_DIRECT (cache=none) when it can be. */
static int make_disk(struct hvt_target *t, char *out, size_t len, const char **cache)
{
	uint64_t bytes = 0;
	const char *dir = t->conf.disk_dir[0] ? t->conf.disk_dir : t->tmpdir;
	char errbuf[256];
	int fd, r;

	out[0] = '\0';
	if (hvt_parse_size(t->conf.disk_size, &bytes))
		return hvt_target_fail(t, -EINVAL, "disk_size: '%s' is not a size (e.g. 2GiB, 0)",
				       t->conf.disk_size);
	if (!bytes)
		return 0;
	if (!hvt_target_have_prog("mkfs.ext4")) {
		hvt_warn("vm: mkfs.ext4 not found (e2fsprogs): no io scratch disk, io cases use tmpfs");
		return 0;
	}
	snprintf(out, len, "%s/hvtax-vm-disk.%d.img", dir, (int)getpid());
	fd = open(out, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return hvt_target_fail(t, -errno, "cannot create '%s': %s", out, strerror(errno));
	if (ftruncate(fd, (off_t)bytes)) {
		r = hvt_target_fail(t, -errno, "cannot size '%s': %s", out, strerror(errno));
		close(fd);
		unlink(out);
		return r;
	}
	close(fd);
	{
		char *argv[] = { "mkfs.ext4", "-q", "-F", "-O", "^has_journal", "-E",
				 "lazy_itable_init=1,nodiscard", out, NULL };

		r = hvt_target_run_quiet(argv, 120 * HVT_TARGET_S, errbuf, sizeof(errbuf));
	}
	if (r) {
		unlink(out);
		return hvt_target_fail(t, -EIO, "mkfs.ext4 '%s': %s", out, errbuf);
	}
	fd = open(out, O_RDONLY | O_DIRECT | O_CLOEXEC);
	*cache = fd >= 0 ? "none" : "writeback"; /* tmpfs has no O_DIRECT */
	if (fd >= 0)
		close(fd);
	return 0;
}

/*
 * Wait for the guest's first framed record, keeping the bytes for hvt_target_read.
 * 1 arrived, 0 timed out, -EPIPE qemu ended, -EINTR interrupted.
 */
static int wait_first_record(struct hvt_target *t, uint64_t timeout_ns)
{
	uint64_t deadline = hvt_now_ns() + timeout_ns;

	for (;;) {
		struct pollfd pfd = { .fd = t->rec_fd, .events = POLLIN };
		ssize_t n;

		if (t->len && memmem(t->buf, t->len, "@HVT ", 5))
			return 1;
		if (hvt_target_interrupted())
			return -EINTR;
		if (hvt_now_ns() >= deadline)
			return 0;
		if (t->cap - t->len < 4096) {
			size_t ncap = t->cap ? t->cap * 2 : 131072;
			char *nb = realloc(t->buf, ncap);

			if (!nb)
				return -ENOMEM;
			t->buf = nb;
			t->cap = ncap;
		}
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		n = read(t->rec_fd, t->buf + t->len, t->cap - t->len);
		if (n <= 0 && !(n < 0 && errno == EINTR))
			return -EPIPE;
		if (n > 0)
			t->len += (size_t)n;
	}
}

static int launch(struct hvt_target *t, const char *accel, const char *initrd, const char *disk,
		  const char *cache)
{
	char smp[16], mem[32], append[512], serial0[PATH_MAX + 32], drive[PATH_MAX + 64];
	char acc[32], *argv[64];
	uint64_t mem_bytes = 0;
	size_t n = 0;

	if (hvt_parse_size(t->conf.vm_memory, &mem_bytes) || mem_bytes < (64u << 20))
		return hvt_target_fail(t, -EINVAL, "memory: '%s' is not a size of at least 64MiB",
				       t->conf.vm_memory);
	snprintf(smp, sizeof(smp), "%u", t->conf.vcpus);
	snprintf(mem, sizeof(mem), "%llu", (unsigned long long)(mem_bytes >> 20));
	/* loglevel 4: errors reach the console log too (hung tasks, RCU stalls), for tail_hint */
	snprintf(append, sizeof(append), "console=ttyS0 quiet loglevel=4 panic=-1 %s",
		 t->conf.append);
	snprintf(t->console, sizeof(t->console), "%s/console.log", t->tmpdir);
	snprintf(serial0, sizeof(serial0), "file:%s", t->console);
	snprintf(acc, sizeof(acc), "%s", accel);
	argv[n++] = t->conf.qemu;
	argv[n++] = "-accel";
	argv[n++] = acc;
	argv[n++] = "-cpu";
	argv[n++] = t->conf.cpu_model;
	argv[n++] = "-smp";
	argv[n++] = smp;
	argv[n++] = "-m";
	argv[n++] = mem;
	argv[n++] = "-nodefaults";
	argv[n++] = "-no-user-config";
	argv[n++] = "-display";
	argv[n++] = "none";
	argv[n++] = "-no-reboot";
	argv[n++] = "-kernel";
	argv[n++] = t->conf.kernel;
	argv[n++] = "-initrd";
	argv[n++] = (char *)initrd;
	argv[n++] = "-append";
	argv[n++] = append;
	/* ttyS0: the kernel console, to a log; ttyS1: the agent's channel, on qemu's stdio */
	argv[n++] = "-serial";
	argv[n++] = serial0;
	argv[n++] = "-chardev";
	argv[n++] = "stdio,id=rec,signal=off";
	argv[n++] = "-serial";
	argv[n++] = "chardev:rec";
	if (disk && *disk) {
		snprintf(drive, sizeof(drive), "file=%s,if=virtio,format=raw,cache=%s", disk, cache);
		argv[n++] = "-drive";
		argv[n++] = drive;
	}
	if (!strcmp(t->conf.vm_network, "user")) {
		argv[n++] = "-nic";
		argv[n++] = "user,model=virtio-net-pci";
	}
	argv[n] = NULL;
	t->framed = 1;
	t->len = 0;
	t->eof = 0;
	return hvt_target_spawn(t, argv, t->conf.pin);
}

static int vm_start(struct hvt_target *t, const struct hvt_launch *l)
{
	char initrd[PATH_MAX + 32], disk[PATH_MAX + 64], tail[256];
	const char *cache = "writeback";
	int r, try_kvm;

	if (!t->conf.vcpus) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		t->conf.vcpus = n > 0 ? (unsigned)n : 1;
	}
	r = make_initrd(t, l, initrd, sizeof(initrd));
	if (!r)
		r = make_disk(t, disk, sizeof(disk), &cache);
	if (r)
		return r;
	try_kvm = !strcmp(t->conf.accel, "kvm") ||
		  (!strcmp(t->conf.accel, "auto") && access("/dev/kvm", R_OK | W_OK) == 0);
	if (strcmp(t->conf.accel, "kvm") && strcmp(t->conf.accel, "tcg") &&
	    strcmp(t->conf.accel, "auto"))
		return hvt_target_fail(t, -EINVAL, "accel: '%s' is not auto, kvm or tcg", t->conf.accel);
	if (try_kvm) {
		/* /dev/kvm may exist and still not run an ordinary guest (KVM-PVM hangs it):
		 * boot and wait for the agent's first record, a bounded time */
		r = launch(t, "kvm", initrd, disk, cache);
		if (r)
			return r;
		r = wait_first_record(t, t->conf.kvm_probe_ns);
		if (r == 1) {
			json_object_set_new(t->facts, "kvm_probe", json_string("ok"));
			goto started;
		}
		if (r == -EINTR)
			return hvt_target_fail(t, r, "interrupted");
		hvt_target_stderr_tail(t, tail, sizeof(tail));
		json_object_set_new(t->facts, "kvm_probe",
				    json_sprintf("%s", r == 0 ? "no guest record in the probe time"
							      : "qemu ended"));
		hvt_target_stop(t, HVT_TARGET_S);
		if (!strcmp(t->conf.accel, "kvm"))
			return hvt_target_fail(t, -ETIMEDOUT, "kvm guest did not come up in %.0fs%s%s",
					       (double)t->conf.kvm_probe_ns * 1e-9, tail[0] ? ": " : "",
					       tail);
		json_object_set_new(t->facts, "kvm_probe_detail", json_string(tail));
		if (r == 0)
			hvt_warn("vm: kvm guest did not come up in %.0fs; using tcg (emulation, not "
				 "representative of hardware virtualization)",
				 (double)t->conf.kvm_probe_ns * 1e-9);
		else
			hvt_warn("vm: kvm guest failed (%s); using tcg (emulation, not representative "
				 "of hardware virtualization)", tail[0] ? tail : "qemu ended");
	}
	r = launch(t, "tcg", initrd, disk, cache);
	if (r)
		return r;
	json_object_set_new(t->facts, "accel", json_string("tcg"));
	json_object_set_new(t->facts, "emulated", json_true());
	goto facts;
started:
	json_object_set_new(t->facts, "accel", json_string("kvm"));
	json_object_set_new(t->facts, "emulated", json_false());
facts:
	json_object_set_new(t->facts, "qemu", json_string(t->conf.qemu));
	json_object_set_new(t->facts, "qemu_cpu", json_string(t->conf.cpu_model));
	json_object_set_new(t->facts, "vcpus", json_integer(t->conf.vcpus));
	json_object_set_new(t->facts, "memory", json_string(t->conf.vm_memory));
	json_object_set_new(t->facts, "kernel", json_string(t->conf.kernel));
	json_object_set_new(t->facts, "disk", disk[0] ? json_pack("{s:s,s:s}", "size",
								     t->conf.disk_size, "cache", cache)
						      : json_null());
	json_object_set_new(t->facts, "network", json_string(t->conf.vm_network));
	if (t->conf.pin[0])
		json_object_set_new(t->facts, "pin", json_string(t->conf.pin));
	return 0;
}

const struct hvt_target_ops hvt_target_vm_ops = {
	.kind = "vm",
	.help = "qemu direct-boots a kernel with the payload initramfs (kvm, else tcg)",
	.probe = vm_probe,
	.start = vm_start,
};
