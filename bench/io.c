/* SPDX-License-Identifier: MIT */
/* The io family: io_uring IOPS, bandwidth and completion latency on a file or a block device. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "../common/units.h"
#include "../common/util.h"
#include "fsroot.h"
#include "io.h"
#include "iohist.h"

int hvt_io_mode_writes(enum hvt_io_mode m)
{
	return m == HVT_IO_RANDWRITE || m == HVT_IO_RANDRW || m == HVT_IO_SEQWRITE;
}


int hvt_io_check_params(const struct hvt_io_params *p, enum hvt_io_mode m, char *why, size_t whylen)
{
	char a[32], b[32];

	(void)m;
	if (p->file[0] && p->device[0]) {
		snprintf(why, whylen, "give either file or device, not both");
		return -EINVAL;
	}
	if (p->iopoll && !p->direct) {
		snprintf(why, whylen, "iopoll=1 needs direct=1 (polled completion is for O_DIRECT only)");
		return -EINVAL;
	}
	if (p->direct && p->bs % 512) {
		hvt_fmt_size(a, sizeof(a), p->bs);
		snprintf(why, whylen, "bs=%s is not a multiple of 512 B, which direct=1 needs", a);
		return -EINVAL;
	}
	if (p->batch > p->qd) {
		snprintf(why, whylen, "batch=%lld is larger than qd=%lld", (long long)p->batch,
			 (long long)p->qd);
		return -EINVAL;
	}
	if (p->complete_max && (p->complete_max < p->batch || p->complete_max > p->qd)) {
		snprintf(why, whylen, "complete_max=%lld is outside batch..qd (%lld..%lld); 0 means batch",
			 (long long)p->complete_max, (long long)p->batch, (long long)p->qd);
		return -EINVAL;
	}
	if (p->size < p->bs) {
		hvt_fmt_size(a, sizeof(a), p->size);
		hvt_fmt_size(b, sizeof(b), p->bs);
		snprintf(why, whylen, "size=%s is smaller than bs=%s", a, b);
		return -EINVAL;
	}
	return 0;
}

/* ---- signatures ---- */

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int has(const unsigned char *buf, size_t n, size_t off, const void *magic, size_t len)
{
	return off + len <= n && memcmp(buf + off, magic, len) == 0;
}

#define SIG_HEAD (68u * 1024u)
#define SIG_TAIL (128u * 1024u)

int hvt_io_find_signature(int fd, uint64_t size, char *what, size_t whatlen)
{
	static const size_t swap_off[] = { 4096 - 10, 8192 - 10, 16384 - 10, 65536 - 10 };
	unsigned char *head = malloc(SIG_HEAD), *tail = malloc(SIG_TAIL);
	int r = 0;

	if (!head || !tail) {
		r = -ENOMEM;
		goto out_free;
	}
	ssize_t hn = pread(fd, head, SIG_HEAD, 0);

	if (hn < 0) {
		r = -errno;
		goto out_free;
	}
	size_t n = (size_t)hn;
	uint64_t tail_off = size > SIG_TAIL ? size - SIG_TAIL : 0;
	ssize_t tn = pread(fd, tail, SIG_TAIL, (off_t)tail_off);

	if (tn < 0) {
		r = -errno;
		goto out_free;
	}
	size_t tl = (size_t)tn;

	r = 1;
	if (n >= 1082 && head[1080] == 0x53 && head[1081] == 0xEF)
		snprintf(what, whatlen, "an ext2/3/4 superblock (0xEF53 at 1080)");
	else if (has(head, n, 0, "XFSB", 4))
		snprintf(what, whatlen, "an XFS superblock ('XFSB' at 0)");
	else if (has(head, n, 65600, "_BHRfS_M", 8))
		snprintf(what, whatlen, "a btrfs superblock ('_BHRfS_M' at 65600)");
	else if (has(head, n, 0, "LUKS\xba\xbe", 6))
		snprintf(what, whatlen, "a LUKS header at 0");
	else if (has(head, n, 512, "EFI PART", 8) || has(head, n, 4096, "EFI PART", 8))
		snprintf(what, whatlen, "a GPT partition table ('EFI PART' at 512)");
	else if (n >= 4100 && le32(head + 4096) == 0xa92b4efcu)
		snprintf(what, whatlen, "an mdraid 1.2 superblock (0xa92b4efc at 4096)");
	else if (n >= 4 && le32(head) == 0xa92b4efcu)
		snprintf(what, whatlen, "an mdraid 1.1 superblock (0xa92b4efc at 0)");
	else if (has(head, n, 32769, "CD001", 5))
		snprintf(what, whatlen, "an ISO 9660 filesystem ('CD001' at 32769)");
	else if (has(head, n, 3, "NTFS    ", 8))
		snprintf(what, whatlen, "an NTFS boot sector");
	else
		r = 0;
	for (unsigned s = 0; !r && s < 4; s++) {
		if (has(head, n, 512u * s + 0, "LABELONE", 8)) {
			snprintf(what, whatlen, "an LVM physical volume label ('LABELONE' at %u)", 512u * s);
			r = 1;
		}
	}
	for (size_t i = 0; !r && i < HVT_ARRAY_SIZE(swap_off); i++) {
		if (has(head, n, swap_off[i], "SWAPSPACE2", 10) || has(head, n, swap_off[i], "SWAP-SPACE", 10)) {
			snprintf(what, whatlen, "a swap signature ('SWAPSPACE2' at %zu)", swap_off[i]);
			r = 1;
		}
	}
	if (!r && n >= 512 && head[510] == 0x55 && head[511] == 0xAA) {
		int parts = 0;

		for (int i = 0; i < 4; i++)
			parts += head[446 + 16 * i + 4] != 0;
		if (parts)
			snprintf(what, whatlen, "an MBR partition table (0x55AA at 510, %d partitions)", parts);
		else
			snprintf(what, whatlen, "a boot sector signature (0x55AA at 510)");
		r = 1;
	}
	/* Superblocks kept at the end: mdraid 1.0 and 0.90, GPT's backup header. */
	if (!r && size >= 2 * 65536) {
		uint64_t md10 = (((size >> 9) - 16) & ~(uint64_t)7) << 9;
		uint64_t md090 = (size & ~(uint64_t)65535) - 65536;
		uint64_t offs[2] = { md10, md090 };

		for (int i = 0; i < 2 && !r; i++) {
			if (offs[i] >= tail_off && offs[i] - tail_off + 4 <= tl &&
			    le32(tail + (offs[i] - tail_off)) == 0xa92b4efcu) {
				snprintf(what, whatlen, "an mdraid %s superblock (0xa92b4efc at %llu)",
					 i ? "0.90" : "1.0", (unsigned long long)offs[i]);
				r = 1;
			}
		}
		if (!r && size - 512 >= tail_off && has(tail, tl, size - 512 - tail_off, "EFI PART", 8)) {
			snprintf(what, whatlen, "a GPT backup header ('EFI PART' in the last sector)");
			r = 1;
		}
	}

out_free:
	free(head);
	free(tail);
	return r;
}

/* ---- block devices ---- */

static void append(char *why, size_t whylen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void append(char *why, size_t whylen, const char *fmt, ...)
{
	size_t l = strlen(why);
	va_list ap;

	if (l >= whylen)
		return;
	va_start(ap, fmt);
	vsnprintf(why + l, whylen - l, fmt, ap);
	va_end(ap);
}

/* The sysfs directory of a block device number, e.g. /sys/dev/block/7:0. */
static void sysdir(char *buf, size_t len, dev_t d)
{
	snprintf(buf, len, "/sys/dev/block/%u:%u", major(d), minor(d));
}

/* Where device number d is mounted (mountinfo field 3), as a malloc'd mount point, or NULL. */
static char *mounted_at(dev_t d)
{
	char *mi = hvt_fs_read("/proc/self/mountinfo", NULL);
	char want[32], *res = NULL, *save = NULL;

	if (!mi)
		return NULL;
	snprintf(want, sizeof(want), "%u:%u", major(d), minor(d));
	for (char *line = strtok_r(mi, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char mm[32], mp[PATH_MAX];

		if (sscanf(line, "%*d %*d %31s %*s %4095s", mm, mp) == 2 && strcmp(mm, want) == 0) {
			res = hvt_strdup(mp);
			break;
		}
	}
	free(mi);
	return res;
}

int hvt_io_device_refusal(const char *path, char *why, size_t whylen)
{
	char dir[128], sub[PATH_MAX + 160], what[160];
	char **names = NULL;
	size_t n = 0;
	struct stat st;
	int fd, r;

	why[0] = 0;
	if (stat(path, &st)) {
		snprintf(why, whylen, "cannot open device '%s': %s", path, strerror(errno));
		return -EINVAL;
	}
	if (!S_ISBLK(st.st_mode)) {
		snprintf(why, whylen, "'%s' is not a block device", path);
		return -EINVAL;
	}
	snprintf(why, whylen, "cannot write to block device '%s':", path);
	size_t base = strlen(why);
	const char *ad = getenv("HVT_ALLOW_DESTRUCTIVE");

	if (!ad || strcmp(ad, "1") != 0)
		append(why, whylen, " writing to a block device needs --allow-destructive;");

	sysdir(dir, sizeof(dir), st.st_rdev);
	if (!hvt_fs_list(dir, &names, &n)) {
		for (size_t i = 0; i < n; i++) {
			snprintf(sub, sizeof(sub), "%s/%s/partition", dir, names[i]);
			if (hvt_fs_exists(sub))
				append(why, whylen, " it has partitions (%s);", names[i]);
		}
		hvt_fs_list_free(names, n);
	}
	snprintf(sub, sizeof(sub), "%s/holders", dir);
	if (!hvt_fs_list(sub, &names, &n)) {
		if (n)
			append(why, whylen, " it is held by %s%s;", names[0], n > 1 ? " and others" : "");
		hvt_fs_list_free(names, n);
	}
	char *mp = mounted_at(st.st_rdev);

	if (mp) {
		append(why, whylen, " it is mounted at %s;", mp);
		free(mp);
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(why, whylen, "cannot open device '%s': %s", path, strerror(errno));
		return -EINVAL;
	}
	uint64_t size = 0;

	if (ioctl(fd, BLKGETSIZE64, &size))
		size = 0;
	r = hvt_io_find_signature(fd, size, what, sizeof(what));
	close(fd);
	if (r > 0)
		append(why, whylen, " it holds %s;", what);
	else if (r < 0)
		append(why, whylen, " its first blocks cannot be read (%s);", strerror(-r));
	fd = open(path, O_RDONLY | O_EXCL | O_CLOEXEC);
	if (fd < 0 && errno == EBUSY)
		append(why, whylen, " it is in use (exclusive open fails with EBUSY);");
	if (fd >= 0)
		close(fd);

	size_t l = strlen(why);

	if (l == base)
		return 0;
	if (why[l - 1] == ';')
		why[l - 1] = 0;
	return -EPERM;
}

/* ---- target description ---- */

static void set_str(json_t *o, const char *key, char *s)
{
	if (s && *s)
		json_object_set_new(o, key, json_string(s));
	free(s);
}

static void set_int_file(json_t *o, const char *key, const char *path)
{
	int64_t v;

	if (!hvt_fs_read_int(path, &v))
		json_object_set_new(o, key, json_integer(v));
}

/* The active scheduler of "none [mq-deadline] kyber" (in place). */
static char *active_sched(char *s)
{
	if (!s)
		return NULL;
	char *a = strchr(s, '['), *b = a ? strchr(a, ']') : NULL;

	if (a && b) {
		memmove(s, a + 1, (size_t)(b - a - 1));
		s[b - a - 1] = 0;
	}
	return s;
}

static char *driver_of(const char *dir, const char *name)
{
	static const char *const rel[] = { "device/driver", "device/device/driver" };
	char p[PATH_MAX];

	for (size_t i = 0; i < HVT_ARRAY_SIZE(rel); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, rel[i]);
		char *t = hvt_fs_readlink(p);

		if (t) {
			const char *slash = strrchr(t, '/');
			char *d = hvt_strdup(slash ? slash + 1 : t);

			free(t);
			return d;
		}
	}
	static const struct {
		const char *prefix, *driver;
	} byname[] = { { "loop", "loop" }, { "dm-", "device-mapper" }, { "md", "md" },
		       { "nbd", "nbd" },   { "zram", "zram" },	       { "ram", "brd" },
		       { "rbd", "rbd" },   { "nullb", "null_blk" } };
	for (size_t i = 0; i < HVT_ARRAY_SIZE(byname); i++)
		if (strncmp(name, byname[i].prefix, strlen(byname[i].prefix)) == 0)
			return hvt_strdup(byname[i].driver);
	return NULL;
}

static json_t *device_info(dev_t d)
{
	char dir[128], p[PATH_MAX], qdir[160];
	json_t *o = json_object();

	if (!o)
		return NULL;
	sysdir(dir, sizeof(dir), d);
	char *real = hvt_fs_readlink(dir);
	const char *name = real ? strrchr(real, '/') : NULL;

	name = name ? name + 1 : "";
	if (*name)
		json_object_set_new(o, "name", json_string(name));
	json_object_set_new(o, "devno", json_sprintf("%u:%u", major(d), minor(d)));

	/* A partition's queue and device links live in its parent's directory. */
	snprintf(qdir, sizeof(qdir), "%s", dir);
	snprintf(p, sizeof(p), "%s/partition", dir);
	if (hvt_fs_exists(p)) {
		snprintf(qdir, sizeof(qdir), "%s/..", dir);
		if (real) {
			char *s = strrchr(real, '/');

			if (s) {
				*s = 0;
				s = strrchr(real, '/');
				if (s)
					json_object_set_new(o, "partition_of", json_string(s + 1));
			}
		}
	}
	snprintf(p, sizeof(p), "%s/device/model", qdir);
	set_str(o, "model", hvt_fs_read_trim(p));
	snprintf(p, sizeof(p), "%s/device/vendor", qdir);
	set_str(o, "vendor", hvt_fs_read_trim(p));
	char *drv = driver_of(qdir, name);

	if (drv) {
		json_object_set_new(o, "driver", json_string(drv));
		snprintf(p, sizeof(p), "/sys/module/%s/parameters/poll_queues", drv);
		set_int_file(o, "poll_queues", p);
		free(drv);
	}
	static const char *const qints[] = { "logical_block_size", "physical_block_size", "rotational",
					     "nr_requests", "io_poll", "max_sectors_kb" };
	for (size_t i = 0; i < HVT_ARRAY_SIZE(qints); i++) {
		snprintf(p, sizeof(p), "%s/queue/%s", qdir, qints[i]);
		set_int_file(o, qints[i], p);
	}
	snprintf(p, sizeof(p), "%s/queue/scheduler", qdir);
	set_str(o, "scheduler", active_sched(hvt_fs_read_trim(p)));
	snprintf(p, sizeof(p), "%s/queue/write_cache", qdir);
	set_str(o, "write_cache", hvt_fs_read_trim(p));
	snprintf(p, sizeof(p), "%s/mq", qdir);
	char **names = NULL;
	size_t n = 0;

	if (!hvt_fs_list(p, &names, &n)) {
		json_object_set_new(o, "nr_hw_queues", json_integer((json_int_t)n));
		hvt_fs_list_free(names, n);
	}
	int64_t sectors;

	snprintf(p, sizeof(p), "%s/size", dir);
	if (!hvt_fs_read_int(p, &sectors))
		json_object_set_new(o, "size", json_integer(sectors * 512));
	snprintf(p, sizeof(p), "%s/loop/backing_file", qdir);
	set_str(o, "backing_file", hvt_fs_read_trim(p));
	snprintf(p, sizeof(p), "%s/slaves", qdir);
	if (!hvt_fs_list(p, &names, &n)) {
		if (n) {
			json_t *a = json_array();

			for (size_t i = 0; a && i < n; i++)
				json_array_append_new(a, json_string(names[i]));
			json_object_set_new(o, "slaves", a);
		}
		hvt_fs_list_free(names, n);
	}
	free(real);
	return o;
}

static const char *fs_magic_name(unsigned long m)
{
	switch (m) {
	case EXT4_SUPER_MAGIC:
		return "ext2/3/4";
	case XFS_SUPER_MAGIC:
		return "xfs";
	case BTRFS_SUPER_MAGIC:
		return "btrfs";
	case TMPFS_MAGIC:
		return "tmpfs";
	case OVERLAYFS_SUPER_MAGIC:
		return "overlay";
	case NFS_SUPER_MAGIC:
		return "nfs";
	case 0x65735546:
		return "fuse";
	case V9FS_MAGIC:
		return "9p";
	case 0x2fc12fc1:
		return "zfs";
	case F2FS_SUPER_MAGIC:
		return "f2fs";
	}
	return NULL;
}

/* The mountinfo entry of device number d whose mount point is the longest prefix of path. */
static void fs_info(json_t *fs, dev_t d, const char *path)
{
	char *mi = hvt_fs_read("/proc/self/mountinfo", NULL);
	char want[32], *save = NULL;
	size_t best = 0;

	if (!mi)
		return;
	snprintf(want, sizeof(want), "%u:%u", major(d), minor(d));
	for (char *line = strtok_r(mi, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char mm[32], mp[PATH_MAX], type[64], src[PATH_MAX];
		const char *dash = strstr(line, " - ");

		if (!dash || sscanf(line, "%*d %*d %31s %*s %4095s", mm, mp) != 2 || strcmp(mm, want))
			continue;
		if (sscanf(dash + 3, "%63s %4095s", type, src) != 2)
			continue;
		size_t l = strlen(mp);

		if (strncmp(path, mp, l) != 0 || (path[l] != '/' && path[l] != 0 && l > 1))
			continue;
		if (l < best)
			continue;
		best = l;
		json_object_set_new(fs, "type", json_string(type));
		json_object_set_new(fs, "mount", json_string(mp));
		json_object_set_new(fs, "source", json_string(src));
	}
	free(mi);
}

json_t *hvt_io_target_info(const char *path)
{
	json_t *o = json_object();
	struct stat st;

	if (!o)
		return NULL;
	json_object_set_new(o, "path", json_string(path));
	if (stat(path, &st)) {
		json_object_set_new(o, "error", json_string(strerror(errno)));
		return o;
	}
	if (S_ISBLK(st.st_mode)) {
		json_object_set_new(o, "kind", json_string("block"));
		json_object_set_new(o, "device", device_info(st.st_rdev));
		return o;
	}
	json_object_set_new(o, "kind", json_string("file"));
	json_t *fs = json_object();
	struct statfs sf;
	char *real = realpath(path, NULL);

	if (fs && !statfs(path, &sf)) {
		const char *nm = fs_magic_name((unsigned long)sf.f_type);

		json_object_set_new(fs, "magic", json_sprintf("0x%lx", (unsigned long)sf.f_type));
		if (nm)
			json_object_set_new(fs, "type", json_string(nm));
	}
	if (fs)
		fs_info(fs, st.st_dev, real ? real : path);
	free(real);
	json_object_set_new(o, "fs", fs);

	/* Anonymous device numbers (major 0: tmpfs, overlay, btrfs) have no queue to describe. */
	char dir[128];

	sysdir(dir, sizeof(dir), st.st_dev);
	if (major(st.st_dev) != 0 && hvt_fs_exists(dir))
		json_object_set_new(o, "device", device_info(st.st_dev));
	else
		json_object_set_new(o, "device", json_null());
	return o;
}

char *hvt_io_default_path(const struct hvt_io_params *p)
{
	char sz[32];

	if (p->file[0])
		return hvt_strdup(p->file);
	const char *dir = getenv("HVT_RESULTS_DIR");

	if (!dir || !*dir)
		dir = "results";
	hvt_fmt_size(sz, sizeof(sz), p->size);
	return hvt_asprintf("%s/hvtax-io-%s.dat", dir, sz);
}

/* ---- the benchmarks (liburing) ---- */
#ifdef HAVE_URING
#include <liburing.h>

static int mode_random(enum hvt_io_mode m)
{
	return m == HVT_IO_RANDREAD || m == HVT_IO_RANDWRITE || m == HVT_IO_RANDRW;
}

/* One job: a thread with its own ring, buffers and histogram. */
struct io_job {
	struct io_uring ring;
	int ring_ok;
	unsigned char *bufs; /* qd slots of `stride` bytes, page aligned */
	size_t stride;
	uint64_t *t_sub;      /* per slot: submission time (ns) */
	unsigned *freeslots;  /* stack of idle slots */
	unsigned *queued;     /* slots queued since the last submit */
	unsigned char *isw;   /* per slot: 1 = write */
	struct hvt_iohist *hist;
	struct hvt_rng rng;
	uint64_t seq_lo, seq_hi, seq_off; /* this job's slice for sequential modes */
	/* results of the last repetition */
	uint64_t ops[2]; /* reads, writes completed in the window */
	uint64_t elapsed_ns;
	uint64_t slat_sum_ns; /* sum over submitted I/Os of their submission latency */
	uint64_t nsub;	      /* I/Os submitted */
	uint64_t nclock;
	char errmsg[200];
};

struct io_state {
	enum hvt_io_mode mode;
	const struct hvt_io_params *p;
	char *path;
	int fd;
	int is_dev;
	int remove;	 /* unlink path in teardown */
	uint64_t region; /* bytes used, a multiple of bs */
	uint64_t nblocks;
	unsigned qd, batch, jobs;
	uint64_t deadline_ns;
	struct io_job *job;
	struct hvt_thread *th;
	struct hvt_iohist *total;
	json_t *target;
};

static const char *uring_flags_text(const struct hvt_io_params *p)
{
	if (p->sqpoll && p->iopoll)
		return " with SQPOLL and IOPOLL";
	if (p->sqpoll)
		return " with SQPOLL";
	if (p->iopoll)
		return " with IOPOLL";
	return "";
}

static int ring_init(struct io_uring *ring, unsigned entries, const struct hvt_io_params *p)
{
	struct io_uring_params prm;

	memset(&prm, 0, sizeof(prm));
	if (p->sqpoll) {
		prm.flags |= IORING_SETUP_SQPOLL;
		prm.sq_thread_idle = 1000; /* ms: stays awake across a repetition's gaps */
	}
	if (p->iopoll)
		prm.flags |= IORING_SETUP_IOPOLL;
	if (!p->sqpoll) {
		/*
		 * As fio does: completions are run when the submitting task asks for
		 * them, not by interrupting it (in a VM every such interruption is an
		 * IPI, a VM exit). Older kernels refuse the flags: fall back step by step.
		 */
		static const unsigned extra[] = {
#ifdef IORING_SETUP_DEFER_TASKRUN
			IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
#endif
#ifdef IORING_SETUP_SINGLE_ISSUER
			IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SINGLE_ISSUER,
#endif
#ifdef IORING_SETUP_COOP_TASKRUN
			IORING_SETUP_COOP_TASKRUN,
#endif
		};
		unsigned base = prm.flags;
		/* a ring is set up and used by one task only when there is one job (thread 0
		 * runs on the calling thread in both setup and run); SINGLE_ISSUER needs that */
		size_t first = p->jobs > 1 ? sizeof(extra) / sizeof(extra[0]) - 1 : 0;

		for (size_t i = first; i < sizeof(extra) / sizeof(extra[0]); i++) {
			struct io_uring_params q = prm;

			q.flags = base | extra[i];
			if (io_uring_queue_init_params(entries, ring, &q) == 0)
				return 0;
		}
	}
	return io_uring_queue_init_params(entries, ring, &prm);
}

/* Bytes the registered buffers of all jobs lock. */
static uint64_t locked_bytes(const struct hvt_io_params *p)
{
	uint64_t stride = (p->bs + 4095) & ~(uint64_t)4095;

	return stride * (uint64_t)p->qd * (uint64_t)p->jobs;
}

/*
 * One read of 4 KiB at offset 0 of `path` through a ring set up the way the
 * case will: the only reliable test for O_DIRECT, SQPOLL and IOPOLL support.
 */
static int test_ring(const struct hvt_io_params *p, const char *path, char *why, size_t whylen)
{
	struct io_uring ring;
	struct io_uring_cqe *cqe;
	struct __kernel_timespec ts = { .tv_sec = 2 };
	void *buf = NULL;
	int r, fd;

	r = ring_init(&ring, 1, p);
	if (r) {
		snprintf(why, whylen, "cannot set up an io_uring%s: %s%s", uring_flags_text(p), strerror(-r),
			 r == -EPERM ? " (kernel.io_uring_disabled, seccomp or a container policy)" : "");
		return -EOPNOTSUPP;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | (p->direct ? O_DIRECT : 0));
	if (fd < 0) {
		r = errno;
		if (r == EINVAL && p->direct)
			snprintf(why, whylen, "'%s' does not support O_DIRECT; set direct=0", path);
		else
			snprintf(why, whylen, "cannot open '%s': %s", path, strerror(r));
		r = r == EACCES || r == EPERM ? -EACCES : -EOPNOTSUPP;
		goto out_exit;
	}
	if (posix_memalign(&buf, 4096, 4096)) {
		r = -ENOMEM;
		goto out_close;
	}
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

	io_uring_prep_read(sqe, fd, buf, 4096, 0);
	r = io_uring_submit(&ring);
	if (r >= 0)
		r = io_uring_wait_cqe_timeout(&ring, &cqe, &ts);
	if (r < 0) {
		snprintf(why, whylen, "io_uring%s read of '%s' failed: %s%s", uring_flags_text(p), path,
			 strerror(-r), r == -ETIME && p->iopoll ? " (polled I/O never completed)" : "");
		r = -EOPNOTSUPP;
		goto out_free;
	}
	r = cqe->res;
	io_uring_cqe_seen(&ring, cqe);
	if (r < 0) {
		if (r == -EOPNOTSUPP && p->iopoll)
			snprintf(why, whylen, "polled I/O (iopoll) is not supported on '%s'", path);
		else
			snprintf(why, whylen, "io_uring%s read of '%s' failed: %s", uring_flags_text(p), path,
				 strerror(-r));
		r = -EOPNOTSUPP;
		goto out_free;
	}
	r = 0;
out_free:
	free(buf);
out_close:
	close(fd);
out_exit:
	io_uring_queue_exit(&ring);
	return r;
}

/* The directory part of path ("." when none), malloc'd. */
static char *dir_of(const char *path)
{
	const char *s = strrchr(path, '/');

	if (!s)
		return hvt_strdup(".");
	if (s == path)
		return hvt_strdup("/");
	return hvt_asprintf("%.*s", (int)(s - path), path);
}

/* Make the default results directory (one level) when it is missing. */
static int ensure_dir(const char *dir, char *why, size_t whylen)
{
	struct stat st;

	if (mkdir(dir, 0755) && errno != EEXIST) {
		snprintf(why, whylen, "cannot create directory '%s': %s", dir, strerror(errno));
		return -EINVAL;
	}
	if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
		snprintf(why, whylen, "'%s' is not a directory", dir);
		return -EINVAL;
	}
	return 0;
}

/*
 * Polled completion needs a queue with poll queues (queue/io_poll = 1, e.g.
 * nvme.poll_queues > 0); without them an IOPOLL ring spins on a completion
 * that arrives by interrupt only, or never. -EOPNOTSUPP with the reason,
 * else 0 (also when it cannot be told: the test read decides).
 */
static int poll_queues_missing(const struct stat *st, const char *path, char *why, size_t whylen)
{
	struct stat dst;
	char q[192];
	int64_t v;

	if (!st) {
		char *dir = dir_of(path);

		if (!dir || stat(dir, &dst)) {
			free(dir);
			return 0;
		}
		free(dir);
		st = &dst;
	}
	dev_t d = S_ISBLK(st->st_mode) ? st->st_rdev : st->st_dev;

	snprintf(q, sizeof(q), "/sys/dev/block/%u:%u/queue/io_poll", major(d), minor(d));
	if (hvt_fs_read_int(q, &v)) {
		snprintf(q, sizeof(q), "/sys/dev/block/%u:%u/../queue/io_poll", major(d), minor(d));
		if (hvt_fs_read_int(q, &v))
			return 0;
	}
	if (v)
		return 0;
	snprintf(why, whylen,
		 "polled I/O (iopoll) needs poll queues, and the device under '%s' (%u:%u) has none "
		 "(queue/io_poll = 0; for NVMe load nvme with poll_queues=N)",
		 path, major(d), minor(d));
	return -EOPNOTSUPP;
}

static int probe_target(enum hvt_io_mode m, const struct hvt_io_params *p, const char *path, char *why,
			size_t whylen)
{
	char a[32], b[32];
	struct stat st;
	int exists = stat(path, &st) == 0;
	int r;

	if (p->device[0] || (exists && S_ISBLK(st.st_mode))) {
		if (!exists) {
			snprintf(why, whylen, "cannot open device '%s': %s", path, strerror(errno));
			return -EINVAL;
		}
		if (hvt_io_mode_writes(m)) {
			r = hvt_io_device_refusal(path, why, whylen);
			if (r)
				return r;
		} else if (!S_ISBLK(st.st_mode)) {
			snprintf(why, whylen, "'%s' is not a block device", path);
			return -EINVAL;
		}
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		uint64_t devsize = 0;
		int lbs = 512;

		if (fd < 0) {
			snprintf(why, whylen, "cannot open device '%s': %s", path, strerror(errno));
			return errno == EACCES ? -EACCES : -EINVAL;
		}
		if (ioctl(fd, BLKGETSIZE64, &devsize) || ioctl(fd, BLKSSZGET, &lbs))
			lbs = 512;
		close(fd);
		if (p->direct && p->bs % (uint64_t)lbs) {
			hvt_fmt_size(a, sizeof(a), p->bs);
			snprintf(why, whylen, "bs=%s is not a multiple of the logical block size %d B of '%s'",
				 a, lbs, path);
			return -EINVAL;
		}
		if (devsize < p->bs) {
			snprintf(why, whylen, "device '%s' is smaller than bs", path);
			return -EINVAL;
		}
	} else if (exists) {
		if (!S_ISREG(st.st_mode)) {
			snprintf(why, whylen, "'%s' is neither a regular file nor a block device", path);
			return -EINVAL;
		}
		if (p->file[0] && (uint64_t)st.st_size < p->size) {
			hvt_fmt_size(a, sizeof(a), (uint64_t)st.st_size);
			hvt_fmt_size(b, sizeof(b), p->size);
			snprintf(why, whylen,
				 "file '%s' (%s) is smaller than size=%s; remove it or give a smaller size", path,
				 a, b);
			return -EINVAL;
		}
	}
	uint64_t nblocks = p->size / p->bs;

	if (!mode_random(m) && nblocks < (uint64_t)p->jobs) {
		snprintf(why, whylen, "size holds %llu blocks, fewer than jobs=%lld",
			 (unsigned long long)nblocks, (long long)p->jobs);
		return -EINVAL;
	}
	if (p->fixed_bufs && geteuid() != 0) {
		struct rlimit rl;

		if (!getrlimit(RLIMIT_MEMLOCK, &rl) && rl.rlim_cur != RLIM_INFINITY &&
		    locked_bytes(p) > rl.rlim_cur) {
			hvt_fmt_size(a, sizeof(a), locked_bytes(p));
			hvt_fmt_size(b, sizeof(b), rl.rlim_cur);
			snprintf(why, whylen,
				 "registered buffers need %s of locked memory (qd x bs x jobs), RLIMIT_MEMLOCK is "
				 "%s: raise it (ulimit -l) or set fixed_bufs=0",
				 a, b);
			return -EOPNOTSUPP;
		}
	}
	if (p->iopoll) {
		r = poll_queues_missing(exists ? &st : NULL, path, why, whylen);
		if (r)
			return r;
	}
	if (exists && (S_ISBLK(st.st_mode) || st.st_size >= 4096))
		return test_ring(p, path, why, whylen);

	/* No target yet: try the same ring on a small scratch file in the same directory. */
	char *dir = dir_of(path), *tmp = NULL;
	int fd = -1;

	r = -ENOMEM;
	if (!dir)
		goto out;
	if (!p->file[0]) {
		r = ensure_dir(dir, why, whylen);
		if (r)
			goto out;
	}
	tmp = hvt_asprintf("%s/.hvtax-io-probe.XXXXXX", dir);
	if (!tmp)
		goto out;
	fd = mkstemp(tmp);
	if (fd < 0) {
		snprintf(why, whylen, "cannot create a file in '%s': %s", dir, strerror(errno));
		r = -EINVAL;
		goto out;
	}
	char blk[4096];

	memset(blk, 0x5a, sizeof(blk));
	if (write(fd, blk, sizeof(blk)) != (ssize_t)sizeof(blk) || fsync(fd)) {
		snprintf(why, whylen, "cannot write '%s': %s", tmp, strerror(errno));
		r = -EINVAL;
		goto out_unlink;
	}
	r = test_ring(p, tmp, why, whylen);
out_unlink:
	close(fd);
	unlink(tmp);
out:
	free(tmp);
	free(dir);
	return r;
}

static int io_probe(enum hvt_io_mode m, const void *params, char *why, size_t whylen)
{
	const struct hvt_io_params *p = params;
	char *path;
	int r;

	r = hvt_io_check_params(p, m, why, whylen);
	if (r)
		return r;
	path = p->device[0] ? hvt_strdup(p->device) : hvt_io_default_path(p);
	if (!path)
		return -ENOMEM;
	r = probe_target(m, p, path, why, whylen);
	free(path);
	return r;
}

/* Create `path` of p->size bytes of random data, written through, under a temporary name. */
static int fill_file(const struct hvt_io_params *p, const char *path)
{
	const size_t chunk = 1u << 20;
	char *tmp = hvt_asprintf("%s.tmp.%d", path, (int)getpid());
	uint64_t *buf = NULL;
	struct hvt_rng rng;
	int fd = -1, r = -ENOMEM;

	if (!tmp)
		return -ENOMEM;
	buf = malloc(chunk);
	if (!buf)
		goto out_free;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		r = -errno;
		hvt_err("cannot create '%s': %s", tmp, strerror(errno));
		goto out_free;
	}
	if (fallocate(fd, 0, 0, (off_t)p->size) && errno != EOPNOTSUPP) {
		r = -errno;
		hvt_err("cannot allocate %llu bytes for '%s': %s", (unsigned long long)p->size, tmp,
			strerror(errno));
		goto out_unlink;
	}
	/* Random content: storage that compresses or deduplicates must not shortcut the reads. */
	hvt_rng_seed(&rng, 0x68767461782d696full);
	for (uint64_t off = 0; off < p->size;) {
		size_t n = p->size - off < chunk ? (size_t)(p->size - off) : chunk;

		for (size_t i = 0; i < chunk / sizeof(*buf); i++)
			buf[i] = hvt_rng_next(&rng);
		ssize_t w = pwrite(fd, buf, n, (off_t)off);

		if (w <= 0) {
			r = w < 0 ? -errno : -EIO;
			hvt_err("cannot write '%s': %s", tmp, strerror(-r));
			goto out_unlink;
		}
		off += (uint64_t)w;
	}
	if (fsync(fd)) {
		r = -errno;
		hvt_err("cannot sync '%s': %s", tmp, strerror(errno));
		goto out_unlink;
	}
	/* Leave the page cache cold, as a freshly booted environment would have it. */
	posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	if (rename(tmp, path)) {
		r = -errno;
		hvt_err("cannot rename '%s' to '%s': %s", tmp, path, strerror(errno));
		goto out_unlink;
	}
	r = 0;
	goto out_close;
out_unlink:
	unlink(tmp);
out_close:
	close(fd);
out_free:
	free(buf);
	free(tmp);
	return r;
}

/*
 * The default file is ours by name: reused when its size is right (only
 * complete files are renamed into place), recreated otherwise, removed
 * unless keep=1. A file named by file= is used as it is when big enough,
 * and removed only when this case created it.
 */
static int ensure_file(struct io_state *s)
{
	const struct hvt_io_params *p = s->p;
	const int dflt = !p->file[0];
	char why[512];
	struct stat st;
	int r;

	if (dflt) {
		char *dir = dir_of(s->path);

		if (!dir)
			return -ENOMEM;
		r = ensure_dir(dir, why, sizeof(why));
		free(dir);
		if (r) {
			hvt_err("%s", why);
			return r;
		}
	}
	if (stat(s->path, &st) == 0) {
		if (!S_ISREG(st.st_mode)) {
			hvt_err("'%s' is not a regular file", s->path);
			return -EINVAL;
		}
		if ((uint64_t)st.st_size == p->size || (!dflt && (uint64_t)st.st_size >= p->size)) {
			s->remove = dflt && !p->keep;
			return 0;
		}
		if (!dflt) {
			hvt_err("file '%s' is smaller than size", s->path);
			return -EINVAL;
		}
	}
	r = fill_file(p, s->path);
	if (!r)
		s->remove = !p->keep;
	return r;
}

static void job_release(struct io_job *j)
{
	if (j->ring_ok) {
		/*
		 * Drop the registered file and buffers now: the ring's own teardown
		 * after close runs later on a kernel workqueue, and until it does the
		 * unlinked file keeps its blocks. In a TCG guest that was seconds, and
		 * the next case's 1 GiB file found its 2 GiB scratch disk full (ENOSPC).
		 * Both calls fail harmlessly when nothing was registered.
		 */
		(void)io_uring_unregister_files(&j->ring);
		(void)io_uring_unregister_buffers(&j->ring);
		io_uring_queue_exit(&j->ring);
	}
	free(j->bufs);
	free(j->t_sub);
	free(j->freeslots);
	free(j->queued);
	free(j->isw);
	free(j->hist);
}

static void state_free(struct io_state *s)
{
	if (!s)
		return;
	for (unsigned i = 0; s->job && i < s->jobs; i++)
		job_release(&s->job[i]);
	free(s->job);
	free(s->th);
	free(s->total);
	if (s->fd >= 0)
		close(s->fd);
	if (s->remove && s->path)
		unlink(s->path);
	json_decref(s->target);
	free(s->path);
	free(s);
}

/* Runs on job i's pinned CPU, so its buffers and ring are first touched there. */
static void job_setup(struct hvt_thread *t)
{
	struct io_state *s = t->arg;
	struct io_job *j = &s->job[t->idx];
	const struct hvt_io_params *p = s->p;
	const unsigned qd = s->qd;
	int r;

	j->stride = (p->bs + 4095) & ~(uint64_t)4095;
	j->t_sub = calloc(qd, sizeof(*j->t_sub));
	j->freeslots = calloc(qd, sizeof(*j->freeslots));
	j->queued = calloc(qd, sizeof(*j->queued));
	j->isw = calloc(qd, sizeof(*j->isw));
	j->hist = hvt_iohist_new();
	if (!j->t_sub || !j->freeslots || !j->queued || !j->isw || !j->hist ||
	    posix_memalign((void **)&j->bufs, 4096, j->stride * qd)) {
		j->bufs = NULL;
		t->err = -ENOMEM;
		return;
	}
	hvt_rng_seed(&j->rng, 0x696f2d6a6f62ull + t->idx);
	for (size_t i = 0; i < j->stride * qd / sizeof(uint64_t); i++)
		((uint64_t *)j->bufs)[i] = hvt_rng_next(&j->rng);
	uint64_t per = s->nblocks / s->jobs;

	j->seq_lo = (uint64_t)t->idx * per * p->bs;
	j->seq_hi = j->seq_lo + per * p->bs;
	j->seq_off = j->seq_lo;

	r = ring_init(&j->ring, qd, p);
	if (r) {
		snprintf(j->errmsg, sizeof(j->errmsg), "cannot set up an io_uring%s: %s", uring_flags_text(p),
			 strerror(-r));
		t->err = r;
		return;
	}
	j->ring_ok = 1;
	if (p->fixed_files) {
		r = io_uring_register_files(&j->ring, &s->fd, 1);
		if (r) {
			snprintf(j->errmsg, sizeof(j->errmsg), "cannot register the file: %s", strerror(-r));
			t->err = r;
			return;
		}
	}
	if (p->fixed_bufs) {
		struct iovec *iov = calloc(qd, sizeof(*iov));

		if (!iov) {
			t->err = -ENOMEM;
			return;
		}
		for (unsigned i = 0; i < qd; i++) {
			iov[i].iov_base = j->bufs + (size_t)i * j->stride;
			iov[i].iov_len = p->bs;
		}
		r = io_uring_register_buffers(&j->ring, iov, qd);
		free(iov);
		if (r) {
			snprintf(j->errmsg, sizeof(j->errmsg), "cannot register %u buffers: %s%s", qd,
				 strerror(-r), r == -ENOMEM ? " (RLIMIT_MEMLOCK? set fixed_bufs=0)" : "");
			t->err = r;
			return;
		}
	}
}

static const char *first_errmsg(const struct io_state *s)
{
	for (unsigned i = 0; i < s->jobs; i++)
		if (s->job[i].errmsg[0])
			return s->job[i].errmsg;
	return NULL;
}

static int io_setup(enum hvt_io_mode m, const void *params, void **state)
{
	const struct hvt_io_params *p = params;
	struct io_state *s = hvt_calloc(1, sizeof(*s));
	char why[1024];
	int r = -ENOMEM;

	*state = NULL;
	if (!s)
		return -ENOMEM;
	s->fd = -1;
	s->mode = m;
	s->p = p;
	s->qd = (unsigned)p->qd;
	s->batch = p->batch < 1 ? 1 : (unsigned)p->batch;
	s->jobs = (unsigned)p->jobs;
	s->path = p->device[0] ? hvt_strdup(p->device) : hvt_io_default_path(p);
	if (!s->path)
		goto out_fail;

	struct stat st;
	int flags = O_CLOEXEC | (p->direct ? O_DIRECT : 0) | (hvt_io_mode_writes(m) ? O_RDWR : O_RDONLY);

	s->is_dev = p->device[0] || (stat(s->path, &st) == 0 && S_ISBLK(st.st_mode));
	if (s->is_dev) {
		if (hvt_io_mode_writes(m)) {
			/* Checked again here: probe ran before, the device may have changed since. */
			r = hvt_io_device_refusal(s->path, why, sizeof(why));
			if (r) {
				hvt_err("%s", why);
				goto out_fail;
			}
			flags |= O_EXCL; /* keeps mounts and other exclusive users out while we write */
		}
	} else {
		r = ensure_file(s);
		if (r)
			goto out_fail;
	}
	s->fd = open(s->path, flags);
	if (s->fd < 0) {
		r = -errno;
		hvt_err("cannot open '%s': %s", s->path, strerror(errno));
		goto out_fail;
	}
	uint64_t avail = p->size;

	if (s->is_dev) {
		if (ioctl(s->fd, BLKGETSIZE64, &avail)) {
			r = -errno;
			hvt_err("cannot get the size of '%s': %s", s->path, strerror(errno));
			goto out_fail;
		}
		if (avail > p->size)
			avail = p->size;
	}
	s->nblocks = avail / p->bs;
	s->region = s->nblocks * p->bs;
	if (!s->nblocks || (!mode_random(m) && s->nblocks < s->jobs)) {
		r = -EINVAL;
		hvt_err("'%s' is too small for bs and jobs", s->path);
		goto out_fail;
	}
	s->target = hvt_io_target_info(s->path);
	s->job = hvt_calloc(s->jobs, sizeof(*s->job));
	s->th = hvt_calloc(s->jobs, sizeof(*s->th));
	s->total = hvt_iohist_new();
	r = -ENOMEM;
	if (!s->job || !s->th || !s->total)
		goto out_fail;
	r = hvt_threads_run(s->jobs, job_setup, s, s->th);
	if (r) {
		const char *msg = first_errmsg(s);

		hvt_err("io setup on '%s': %s", s->path, msg ? msg : strerror(-r));
		goto out_fail;
	}
	*state = s;
	return 0;

out_fail:
	state_free(s);
	return r;
}

static inline uint64_t next_offset(const struct io_state *s, struct io_job *j, int random)
{
	if (random)
		return (uint64_t)(((unsigned __int128)hvt_rng_next(&j->rng) * s->nblocks) >> 64) * s->p->bs;
	uint64_t off = j->seq_off;

	j->seq_off += s->p->bs;
	if (j->seq_off >= j->seq_hi)
		j->seq_off = j->seq_lo;
	return off;
}

/*
 * One repetition of one job, timed the way fio times io_uring: an I/O's
 * issue time is taken right after the io_uring_enter that submits it
 * returns, its completion time right after the wait that reaps it; clat is
 * the difference (fio's clat), and slat the time from the previous reap
 * (when fio would get and prepare the io_u) to the issue time. One clock
 * read stamps a whole submission batch and one a whole completion batch, as
 * in fio. The window ends at the first reap past the deadline; I/Os still
 * in flight then are drained and not counted.
 */
static void job_run(struct hvt_thread *t)
{
	struct io_state *s = t->arg;
	struct io_job *j = &s->job[t->idx];
	const struct hvt_io_params *p = s->p;
	struct io_uring *ring = &j->ring;
	const uint64_t deadline = s->deadline_ns;
	const unsigned qd = s->qd, bs = (unsigned)p->bs;
	const int fd = p->fixed_files ? 0 : s->fd;
	const int random = mode_random(s->mode);
	const unsigned rmix = s->mode == HVT_IO_RANDRW ? (unsigned)p->rwmix
			      : hvt_io_mode_writes(s->mode) ? 0
							    : 100;
	unsigned nfree = qd, inflight = 0;
	const unsigned sb = p->submit_batch > 0 ? (unsigned)p->submit_batch : qd;
	const unsigned cmax = p->complete_max > 0 ? (unsigned)p->complete_max : s->batch;
	const int getev = !p->sqpoll;
	uint64_t ops[2] = { 0, 0 }, nclock = 0, slat_sum = 0, nsub = 0, now, t0;
	int err = 0;

	hvt_iohist_reset(j->hist);
	j->errmsg[0] = 0;
	for (unsigned i = 0; i < qd; i++)
		j->freeslots[i] = qd - 1 - i;
	t0 = now = hvt_now_ns();
	nclock++;
	for (;;) {
		/* refill every free slot, at most sb I/Os per submission (fio's iodepth_batch_submit) */
		while (nfree && !err) {
			unsigned nq = 0;

			while (nfree) {
				struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

				if (!sqe)
					break; /* SQPOLL has not consumed the ring yet: submit what we have */
				unsigned slot = j->freeslots[--nfree];
				uint64_t off = next_offset(s, j, random);
				int w = rmix == 100 ? 0 : rmix == 0 ? 1 : hvt_rng_below(&j->rng, 100) >= rmix;
				void *buf = j->bufs + (size_t)slot * j->stride;

				if (p->fixed_bufs) {
					if (w)
						io_uring_prep_write_fixed(sqe, fd, buf, bs, off, (int)slot);
					else
						io_uring_prep_read_fixed(sqe, fd, buf, bs, off, (int)slot);
				} else {
					if (w)
						io_uring_prep_write(sqe, fd, buf, bs, off);
					else
						io_uring_prep_read(sqe, fd, buf, bs, off);
				}
				if (p->fixed_files)
					sqe->flags |= IOSQE_FIXED_FILE;
				sqe->user_data = slot;
				j->isw[slot] = (unsigned char)w;
				j->queued[nq++] = slot;
				if (nq == sb)
					break;
			}
			if (!nq)
				break;

			/* as fio commits: GETEVENTS too, so deferred completions are posted now */
			int r = getev ? io_uring_submit_and_get_events(ring) : io_uring_submit(ring);

			if (r < 0 && r != -EINTR && r != -EAGAIN && r != -EBUSY) {
				err = r;
				snprintf(j->errmsg, sizeof(j->errmsg), "io_uring_submit: %s", strerror(-r));
				break;
			}
			uint64_t ts = hvt_now_ns();

			nclock++;
			slat_sum += (ts - now) * nq;
			nsub += nq;
			for (unsigned i = 0; i < nq; i++)
				j->t_sub[j->queued[i]] = ts;
			inflight += nq;
		}
		if (err)
			break;

		struct io_uring_cqe *cqe;
		int r = io_uring_wait_cqe_nr(ring, &cqe, s->batch < inflight ? s->batch : inflight);

		if (r < 0 && r != -EINTR && r != -EAGAIN && r != -EBUSY) {
			err = r;
			snprintf(j->errmsg, sizeof(j->errmsg), "io_uring_wait_cqe: %s", strerror(-r));
			break;
		}
		now = hvt_now_ns();
		nclock++;

		unsigned head, n = 0;

		io_uring_for_each_cqe(ring, head, cqe)
		{
			unsigned slot = (unsigned)cqe->user_data;

			if (cqe->res != (int)bs && !err) {
				err = cqe->res < 0 ? cqe->res : -EIO;
				snprintf(j->errmsg, sizeof(j->errmsg), "%s of %u bytes failed: %s",
					 j->isw[slot] ? "write" : "read", bs,
					 cqe->res < 0 ? strerror(-cqe->res) : "short transfer");
			}
			hvt_iohist_add(j->hist, now - j->t_sub[slot]);
			ops[j->isw[slot]]++;
			j->freeslots[nfree++] = slot;
			if (++n == cmax)
				break;
		}
		io_uring_cq_advance(ring, n);
		inflight -= n;
		if (err || now >= deadline)
			break;
	}
	j->elapsed_ns = now - t0;
	while (inflight) {
		struct io_uring_cqe *cqe;
		int r = io_uring_wait_cqe(ring, &cqe);

		if (r == -EINTR)
			continue;
		if (r < 0) {
			if (!err)
				err = r;
			break;
		}
		io_uring_cqe_seen(ring, cqe);
		inflight--;
	}
	j->ops[0] = ops[0];
	j->ops[1] = ops[1];
	j->slat_sum_ns = slat_sum;
	j->nsub = nsub;
	j->nclock = nclock;
	t->ops = ops[0] + ops[1];
	t->t_ns = j->elapsed_ns;
	t->err = err;
}

static int io_run(const void *params, void *state, struct hvt_rep *rep)
{
	const struct hvt_io_params *p = params;
	struct io_state *s = state;
	uint64_t reads = 0, writes = 0, nclock = 0, slat_sum = 0, nsub = 0;
	double iops = 0.0;
	int r;

	s->deadline_ns = rep->deadline_ns;
	r = hvt_threads_run(s->jobs, job_run, s, s->th);
	for (unsigned i = 0; i < s->jobs; i++)
		nclock += s->job[i].nclock;
	rep->nclock += (unsigned)nclock;
	if (r) {
		const char *msg = first_errmsg(s);

		hvt_err("io on '%s': %s", s->path, msg ? msg : strerror(-r));
		return r;
	}
	hvt_iohist_reset(s->total);
	for (unsigned i = 0; i < s->jobs; i++) {
		const struct io_job *j = &s->job[i];

		hvt_iohist_merge(s->total, j->hist);
		slat_sum += j->slat_sum_ns;
		nsub += j->nsub;
		reads += j->ops[0];
		writes += j->ops[1];
		/* Jobs run concurrently, each over its own window: their rates add up. */
		if (j->elapsed_ns)
			iops += (double)(j->ops[0] + j->ops[1]) / ((double)j->elapsed_ns * 1e-9);
	}
	const struct hvt_iohist *h = s->total;

	hvt_rep_set(rep, "iops", iops);
	hvt_rep_set(rep, "bw", iops * (double)p->bs);
	hvt_rep_set(rep, "lat_p50", hvt_iohist_percentile(h, 50.0) * 1e-9);
	hvt_rep_set(rep, "lat_p90", hvt_iohist_percentile(h, 90.0) * 1e-9);
	hvt_rep_set(rep, "lat_p99", hvt_iohist_percentile(h, 99.0) * 1e-9);
	hvt_rep_set(rep, "lat_p999", hvt_iohist_percentile(h, 99.9) * 1e-9);
	hvt_rep_set(rep, "lat_p9999", hvt_iohist_percentile(h, 99.99) * 1e-9);
	hvt_rep_set(rep, "lat_mean", hvt_iohist_mean(h) * 1e-9);
	hvt_rep_set(rep, "lat_max", (double)h->max * 1e-9);
	hvt_rep_set(rep, "slat_mean", nsub ? (double)slat_sum / (double)nsub * 1e-9 : NAN);
	hvt_rep_extra(rep, "hist", hvt_iohist_json(h, "ns"));
	hvt_rep_extra(rep, "ops", json_pack("{sIsI}", "read", (json_int_t)reads, "write", (json_int_t)writes));
	if (s->target)
		hvt_rep_extra(rep, "target", json_incref(s->target));
	return 0;
}

static void io_teardown(const void *params, void *state)
{
	(void)params;
	state_free(state);
}

static unsigned io_nthreads(const void *params)
{
	const struct hvt_io_params *p = params;

	return (unsigned)p->jobs;
}

#define IO_OFF(f) offsetof(struct hvt_io_params, f)
#define IO_PARAMS(BS)                                                                                       \
	{ "bs", HVT_P_SIZE, IO_OFF(bs), BS, 512, 64.0 * 1024 * 1024, NULL, "bytes per I/O" },             \
	{ "qd", HVT_P_INT, IO_OFF(qd), "1", 1, 128, NULL, "I/Os in flight per job (queue depth)" },        \
	{ "jobs", HVT_P_THREADS, IO_OFF(jobs), "1", 1, 1024, NULL,                                         \
	  "threads, each pinned with its own ring and buffers" },                                           \
	{ "direct", HVT_P_BOOL, IO_OFF(direct), "1", 1, 0, NULL, "O_DIRECT: bypass the page cache" },     \
	{ "fixed_bufs", HVT_P_BOOL, IO_OFF(fixed_bufs), "1", 1, 0, NULL,                                   \
	  "registered buffers (locks qd x bs x jobs bytes)" },                                              \
	{ "fixed_files", HVT_P_BOOL, IO_OFF(fixed_files), "1", 1, 0, NULL, "registered file descriptor" }, \
	{ "batch", HVT_P_INT, IO_OFF(batch), "1", 1, 128, NULL,                                            \
	  "completions to wait for before refilling" },                                                    \
	{ "submit_batch", HVT_P_INT, IO_OFF(submit_batch), "1", 0, 128, NULL,                              \
	  "most I/Os per submission (fio's iodepth_batch_submit); 0 = all refills in one" },               \
	{ "complete_max", HVT_P_INT, IO_OFF(complete_max), "0", 0, 128, NULL,                              \
	  "most completions reaped before refilling (fio's iodepth_batch_complete_max); 0 = batch" },      \
	{ "sqpoll", HVT_P_BOOL, IO_OFF(sqpoll), "0", 1, 0, NULL, "kernel thread polls the submission queue" }, \
	{ "iopoll", HVT_P_BOOL, IO_OFF(iopoll), "0", 1, 0, NULL,                                           \
	  "polled completion (needs direct=1 and a device with poll queues)" },                            \
	{ "file", HVT_P_STRING, IO_OFF(file), "", 1, 0, NULL,                                              \
	  "target file (default: $HVT_RESULTS_DIR or results/, hvtax-io-SIZE.dat)" },                      \
	{ "device", HVT_P_STRING, IO_OFF(device), "", 1, 0, NULL,                                          \
	  "block device instead of a file; writes need --allow-destructive" },                              \
	{ "size", HVT_P_SIZE, IO_OFF(size), "1GiB", 4096, 1125899906842624.0, NULL,                        \
	  "file size, or bytes of the device used from its start" },                                        \
	{ "keep", HVT_P_BOOL, IO_OFF(keep), "0", 1, 0, NULL, "keep the file hvtax created" }

static const struct hvt_param io_params_rand[] = { IO_PARAMS("4KiB") };
static const struct hvt_param io_params_seq[] = { IO_PARAMS("128KiB") };
static const struct hvt_param io_params_rw[] = {
	IO_PARAMS("4KiB"),
	{ "rwmix", HVT_P_INT, IO_OFF(rwmix), "50", 0, 100, NULL, "percent of I/Os that are reads" },
};

/*
 * lat_* is completion latency, fio's clat: from the return of the io_uring_enter that submitted
 * the I/O to the reap of its completion. Percentiles come from hvt_iohist (error <=
 * HVT_IOHIST_REL_ERROR); mean and max are exact.
 */
static const struct hvt_metric io_metrics[] = {
	{ "iops", "op/s", HVT_HIGHER_IS_BETTER, "I/Os completed per second, all jobs" },
	{ "bw", "B/s", HVT_HIGHER_IS_BETTER, "bytes transferred per second (iops x bs)" },
	{ "lat_p50", "s", HVT_LOWER_IS_BETTER, "median completion latency" },
	{ "lat_p90", "s", HVT_LOWER_IS_BETTER, "90th percentile completion latency" },
	{ "lat_p99", "s", HVT_LOWER_IS_BETTER, "99th percentile completion latency" },
	{ "lat_p999", "s", HVT_LOWER_IS_BETTER, "99.9th percentile completion latency" },
	{ "lat_p9999", "s", HVT_LOWER_IS_BETTER, "99.99th percentile completion latency" },
	{ "lat_mean", "s", HVT_LOWER_IS_BETTER, "mean completion latency (exact)" },
	{ "lat_max", "s", HVT_LOWER_IS_BETTER, "largest completion latency (exact)" },
	{ "slat_mean", "s", HVT_LOWER_IS_BETTER,
	  "mean submission latency (fio's slat): previous reap to the submitting io_uring_enter's return" },
};

#define IO_BENCH(NAME, MODE, PARAMS, HELP)                                                              \
	static int probe_##NAME(const void *p, char *why, size_t whylen)                                  \
	{                                                                                                  \
		return io_probe(MODE, p, why, whylen);                                                     \
	}                                                                                                  \
	static int setup_##NAME(const void *p, void **state)                                              \
	{                                                                                                  \
		return io_setup(MODE, p, state);                                                           \
	}                                                                                                  \
	const struct hvt_bench hvt_bench_io_##NAME = {                                                    \
		.name = "io." #NAME,                                                                       \
		.help = HELP,                                                                              \
		.params = PARAMS,                                                                          \
		.nparams = HVT_ARRAY_SIZE(PARAMS),                                                         \
		.params_size = sizeof(struct hvt_io_params),                                               \
		.metrics = io_metrics,                                                                     \
		.nmetrics = HVT_ARRAY_SIZE(io_metrics),                                                    \
		.probe = probe_##NAME,                                                                     \
		.setup = setup_##NAME,                                                                     \
		.run = io_run,                                                                             \
		.teardown = io_teardown,                                                                   \
		.nthreads = io_nthreads,                                                                   \
	}

IO_BENCH(randread, HVT_IO_RANDREAD, io_params_rand, "random reads (io_uring): IOPS and completion latency");
IO_BENCH(randwrite, HVT_IO_RANDWRITE, io_params_rand, "random writes (io_uring): IOPS and completion latency");
IO_BENCH(randrw, HVT_IO_RANDRW, io_params_rw, "random mixed reads and writes (io_uring), rwmix % reads");
IO_BENCH(seqread, HVT_IO_SEQREAD, io_params_seq, "sequential reads (io_uring): throughput and latency");
IO_BENCH(seqwrite, HVT_IO_SEQWRITE, io_params_seq, "sequential writes (io_uring): throughput and latency");

#endif /* HAVE_URING */
