/* SPDX-License-Identifier: MIT */
/* The io family: io_uring random/sequential IOPS, bandwidth and completion latency. */
#ifndef HVT_IO_H
#define HVT_IO_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "core.h"

/* Built only with liburing (HAVE_URING); bench/registry.c lists them under that guard. */
extern const struct hvt_bench hvt_bench_io_randread;
extern const struct hvt_bench hvt_bench_io_randwrite;
extern const struct hvt_bench hvt_bench_io_randrw;
extern const struct hvt_bench hvt_bench_io_seqread;
extern const struct hvt_bench hvt_bench_io_seqwrite;

enum hvt_io_mode {
	HVT_IO_RANDREAD,
	HVT_IO_RANDWRITE,
	HVT_IO_RANDRW,
	HVT_IO_SEQREAD,
	HVT_IO_SEQWRITE,
};

/* The parameters of every io case (randrw alone declares rwmix; the others leave it 100 or 0). */
struct hvt_io_params {
	uint64_t bs;	    /* bytes per I/O */
	int64_t qd;	    /* I/Os in flight per job */
	int64_t jobs;	    /* threads, each with its own ring */
	int direct;	    /* O_DIRECT */
	int fixed_bufs;	    /* registered buffers (IORING_REGISTER_BUFFERS) */
	int fixed_files;    /* registered file (IOSQE_FIXED_FILE) */
	int64_t batch;	    /* completions to wait for before refilling and submitting */
	int64_t submit_batch; /* most SQEs per io_uring_enter; 0 = every free slot at once */
	int64_t complete_max; /* most CQEs reaped per pass before refilling; 0 = batch */
	int sqpoll;	    /* IORING_SETUP_SQPOLL */
	int iopoll;	    /* IORING_SETUP_IOPOLL */
	int64_t rwmix;	    /* read percent (randrw) */
	const char *file;   /* "" = default file under $HVT_RESULTS_DIR or ./results */
	const char *device; /* "" = none; a block device path */
	uint64_t size;	    /* bytes of the file, or of the device region used */
	int keep;	    /* keep the file hvtax created */
};

/* 1 when the mode writes. */
int hvt_io_mode_writes(enum hvt_io_mode m);

/*
 * Parameter combinations the descriptors cannot express (file and device
 * both set, iopoll without direct, bs not a multiple of 512 with direct,
 * batch > qd, size < bs). 0, or -EINVAL with the reason in why.
 */
int hvt_io_check_params(const struct hvt_io_params *p, enum hvt_io_mode m, char *why, size_t whylen)
	__attribute__((warn_unused_result));

/*
 * Look for a partition table, filesystem, RAID, LVM, LUKS or swap signature
 * in the first 68 KiB and the last 128 KiB of fd (size bytes long). Returns
 * 1 and a description in what ("ext2/3/4 superblock (0xEF53 at 1080)"), 0
 * when none is found, or -errno when fd cannot be read.
 */
int hvt_io_find_signature(int fd, uint64_t size, char *what, size_t whatlen)
	__attribute__((warn_unused_result));

/*
 * May the io benchmarks write to block device `path`? Needs
 * HVT_ALLOW_DESTRUCTIVE=1 in the environment (hvtax-bench sets it for
 * --allow-destructive) and a device without partitions, holders, mounts,
 * signatures (hvt_io_find_signature) or an exclusive opener. 0 when allowed;
 * -EPERM with every reason found in why; -EINVAL when it is not a block
 * device or cannot be opened. Reads nothing but sysfs, mountinfo and the
 * device's first and last blocks; writes nothing.
 */
int hvt_io_device_refusal(const char *path, char *why, size_t whylen)
	__attribute__((warn_unused_result));

/*
 * Where the file of a case lives: p->file when set, else
 * "$HVT_RESULTS_DIR/hvtax-io-SIZE.dat" (or "results/..."), SIZE canonical
 * ("1GiB"), so runs and rounds reuse it. malloc'd, NULL on error.
 */
char *hvt_io_default_path(const struct hvt_io_params *p);

/*
 * Describe the storage behind `path` (a regular file or a block device):
 * {"path", "kind": "file"|"block", "fs": {"type", "magic", "mount", "source"}
 * (files only), "device": {"name", "partition_of", "model", "driver",
 * "logical_block_size", "physical_block_size", "rotational", "scheduler",
 * "nr_requests", "nr_hw_queues", "io_poll", "poll_queues", "write_cache",
 * "size", "backing_file", "slaves"}}. Unreadable items are left out (null
 * for the device when the file sits on no block device, e.g. tmpfs). New
 * reference, NULL only when out of memory. /sys and /proc are read through
 * bench/fsroot.h.
 */
json_t *hvt_io_target_info(const char *path);

#endif
