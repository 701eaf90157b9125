/* SPDX-License-Identifier: MIT */
/* Unit tests of bench/io.c: parameter validation, signature detection, refusals, target info. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../common/util.h"
#include "../../bench/io.h"
#include "../../bench/params.h"

static struct hvt_io_params base(void)
{
	struct hvt_io_params p;

	memset(&p, 0, sizeof(p));
	p.bs = 4096;
	p.qd = 32;
	p.jobs = 1;
	p.direct = 1;
	p.batch = 1;
	p.file = "";
	p.device = "";
	p.size = 1 << 20;
	return p;
}

static void test_check_params(void **state)
{
	(void)state;
	char why[256];
	struct hvt_io_params p = base();

	assert_int_equal(hvt_io_check_params(&p, HVT_IO_RANDREAD, why, sizeof(why)), 0);
	p.file = "/tmp/x";
	p.device = "/dev/null";
	assert_int_equal(hvt_io_check_params(&p, HVT_IO_RANDREAD, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "not both"));

	p = base();
	p.iopoll = 1;
	p.direct = 0;
	assert_int_equal(hvt_io_check_params(&p, HVT_IO_RANDREAD, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "iopoll"));

	p = base();
	p.bs = 1000;
	assert_int_equal(hvt_io_check_params(&p, HVT_IO_SEQREAD, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "512"));
	p.direct = 0; /* buffered I/O takes any size */
	assert_int_equal(hvt_io_check_params(&p, HVT_IO_SEQREAD, why, sizeof(why)), 0);

	p = base();
	p.batch = 64;
	assert_int_equal(hvt_io_check_params(&p, HVT_IO_RANDWRITE, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "batch"));

	p = base();
	p.batch = 4;
	p.complete_max = 2; /* fewer than the completions waited for */
	assert_int_equal(hvt_io_check_params(&p, HVT_IO_RANDREAD, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "complete_max"));
	p.complete_max = 33; /* more than can be in flight */
	assert_int_equal(hvt_io_check_params(&p, HVT_IO_RANDREAD, why, sizeof(why)), -EINVAL);
	p.complete_max = 32;
	assert_int_equal(hvt_io_check_params(&p, HVT_IO_RANDREAD, why, sizeof(why)), 0);
	p.complete_max = 0; /* 0: as many as batch */
	assert_int_equal(hvt_io_check_params(&p, HVT_IO_RANDREAD, why, sizeof(why)), 0);

	p = base();
	p.size = 2048;
	assert_int_equal(hvt_io_check_params(&p, HVT_IO_RANDREAD, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "size"));

	assert_true(hvt_io_mode_writes(HVT_IO_RANDWRITE) && hvt_io_mode_writes(HVT_IO_RANDRW) &&
		    hvt_io_mode_writes(HVT_IO_SEQWRITE));
	assert_false(hvt_io_mode_writes(HVT_IO_RANDREAD) || hvt_io_mode_writes(HVT_IO_SEQREAD));
}

static int expand(const char *bench, const char *k, const char *v, size_t *n)
{
	const struct hvt_bench *b = hvt_bench_find(bench);
	struct hvt_assign a = { k, v, NULL, 0 };
	struct hvt_case *c = NULL;
	int r;

	*n = 0;
	r = hvt_cases_expand(b, &a, 1, &c, n);
	if (!r)
		hvt_cases_free(c, *n);
	return r;
}

static void test_descriptors(void **state)
{
	(void)state;
	const struct hvt_bench *rr = hvt_bench_find("io.randread");
	size_t n;

	if (!rr)
		skip(); /* built without liburing */
	assert_non_null(hvt_bench_find("io.randwrite"));
	assert_non_null(hvt_bench_find("io.randrw"));
	assert_non_null(hvt_bench_find("io.seqwrite"));
	assert_int_equal(rr->params_size, sizeof(struct hvt_io_params));

	assert_int_equal(expand("io.randread", "qd", "1,32", &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(expand("io.randread", "qd", "1..128*2", &n), 0);
	assert_int_equal(n, 8);
	assert_int_not_equal(expand("io.randread", "qd", "0", &n), 0);
	assert_int_not_equal(expand("io.randread", "qd", "129", &n), 0);
	assert_int_not_equal(expand("io.randread", "bs", "256", &n), 0);
	assert_int_not_equal(expand("io.randread", "bs", "lots", &n), 0);
	assert_int_not_equal(expand("io.randread", "depth", "4", &n), 0);
	assert_int_not_equal(expand("io.randread", "rwmix", "50", &n), 0); /* randrw only */
	assert_int_equal(expand("io.randrw", "rwmix", "0,70,100", &n), 0);
	assert_int_equal(n, 3);
	assert_int_not_equal(expand("io.randrw", "rwmix", "101", &n), 0);
	assert_int_not_equal(expand("io.seqread", "direct", "maybe", &n), 0);

	/* defaults: 4 KiB random, 128 KiB sequential, qd 1, direct, registered file and buffers */
	struct hvt_case *c = NULL;
	const struct hvt_bench *b[2] = { rr, hvt_bench_find("io.seqread") };
	const uint64_t bs[2] = { 4096, 131072 };

	for (int i = 0; i < 2; i++) {
		n = 0;
		c = NULL;
		assert_int_equal(hvt_cases_expand(b[i], NULL, 0, &c, &n), 0);
		assert_int_equal(n, 1);
		const struct hvt_io_params *p = c[0].params;

		assert_true(p->bs == bs[i]);
		assert_true(p->qd == 1 && p->jobs == 1 && p->direct == 1 && p->batch == 1);
		assert_true(p->submit_batch == 1 && p->complete_max == 0);
		assert_true(p->fixed_bufs == 1 && p->fixed_files == 1 && p->keep == 0);
		assert_true(p->size == 1ull << 30);
		assert_string_equal(p->file, "");
		hvt_cases_free(c, n);
	}
}

/* A scratch file of `size` zero bytes with `magic` written at `off`. */
static int scratch(char *path, uint64_t size, uint64_t off, const void *magic, size_t len)
{
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	if (magic)
		assert_int_equal(pwrite(fd, magic, len, (off_t)off), (ssize_t)len);
	return fd;
}

static void test_signatures(void **state)
{
	(void)state;
	static const unsigned char ext[] = { 0x53, 0xEF };
	static const unsigned char md[] = { 0xfc, 0x4e, 0x2b, 0xa9 };
	static const unsigned char mbr[] = { 0x55, 0xAA };
	static const struct {
		uint64_t off;
		const void *magic;
		size_t len;
		const char *word;
	} sigs[] = {
		{ 1080, ext, 2, "ext2/3/4" },
		{ 0, "XFSB", 4, "XFS" },
		{ 65600, "_BHRfS_M", 8, "btrfs" },
		{ 512, "LABELONE", 8, "LVM" },
		{ 4096, md, 4, "mdraid 1.2" },
		{ 4086, "SWAPSPACE2", 10, "swap" },
		{ 512, "EFI PART", 8, "GPT" },
		{ 510, mbr, 2, "boot sector" },
		{ 0, "LUKS\xba\xbe", 6, "LUKS" },
	};
	const uint64_t size = 4u << 20;
	char what[160];

	for (size_t i = 0; i < HVT_ARRAY_SIZE(sigs); i++) {
		char path[] = "/tmp/hvt-test-io.XXXXXX";
		int fd = scratch(path, size, sigs[i].off, sigs[i].magic, sigs[i].len);

		what[0] = 0;
		assert_int_equal(hvt_io_find_signature(fd, size, what, sizeof(what)), 1);
		if (!strstr(what, sigs[i].word))
			fail_msg("signature %zu: '%s' does not name '%s'", i, what, sigs[i].word);
		close(fd);
		unlink(path);
	}

	/* an MBR with one partition entry says so */
	char path[] = "/tmp/hvt-test-io.XXXXXX";
	int fd = scratch(path, size, 510, mbr, 2);
	unsigned char type = 0x83;

	assert_int_equal(pwrite(fd, &type, 1, 446 + 4), 1);
	assert_int_equal(hvt_io_find_signature(fd, size, what, sizeof(what)), 1);
	assert_non_null(strstr(what, "MBR partition table"));
	close(fd);
	unlink(path);

	/* mdraid 1.0 sits near the end */
	char p2[] = "/tmp/hvt-test-io.XXXXXX";
	uint64_t md10 = (((size >> 9) - 16) & ~(uint64_t)7) << 9;

	fd = scratch(p2, size, md10, md, 4);
	assert_int_equal(hvt_io_find_signature(fd, size, what, sizeof(what)), 1);
	assert_non_null(strstr(what, "mdraid 1.0"));
	close(fd);
	unlink(p2);

	/* zeros and random data carry no signature; a tiny device is fine too */
	char p3[] = "/tmp/hvt-test-io.XXXXXX";

	fd = scratch(p3, size, 0, NULL, 0);
	assert_int_equal(hvt_io_find_signature(fd, size, what, sizeof(what)), 0);
	struct hvt_rng r;
	uint64_t buf[8192];

	hvt_rng_seed(&r, 5);
	for (uint64_t off = 0; off < size; off += sizeof(buf)) {
		for (size_t i = 0; i < HVT_ARRAY_SIZE(buf); i++)
			buf[i] = hvt_rng_next(&r);
		/* two-byte magics match random data by chance (1 in 65536): rule them out */
		((unsigned char *)buf)[510] = 0;
		((unsigned char *)buf)[1080] = 0;
		assert_int_equal(pwrite(fd, buf, sizeof(buf), (off_t)off), (ssize_t)sizeof(buf));
	}
	assert_int_equal(hvt_io_find_signature(fd, size, what, sizeof(what)), 0);
	assert_int_equal(hvt_io_find_signature(fd, 4096, what, sizeof(what)), 0);
	close(fd);
	unlink(p3);
}

static void test_refusal_not_blockdev(void **state)
{
	(void)state;
	char why[512];
	char path[] = "/tmp/hvt-test-io.XXXXXX";
	int fd = scratch(path, 65536, 0, NULL, 0);

	assert_int_equal(hvt_io_device_refusal(path, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "not a block device"));
	assert_int_equal(hvt_io_device_refusal("/nonexistent/dev", why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "cannot open"));
	close(fd);
	unlink(path);
}

static void test_default_path(void **state)
{
	(void)state;
	struct hvt_io_params p = base();
	char *s;

	p.size = 1ull << 30;
	setenv("HVT_RESULTS_DIR", "/var/tmp/r", 1);
	s = hvt_io_default_path(&p);
	assert_string_equal(s, "/var/tmp/r/hvtax-io-1GiB.dat");
	free(s);
	unsetenv("HVT_RESULTS_DIR");
	p.size = 64ull << 20;
	s = hvt_io_default_path(&p);
	assert_string_equal(s, "results/hvtax-io-64MiB.dat");
	free(s);
	p.file = "/data/x.dat";
	s = hvt_io_default_path(&p);
	assert_string_equal(s, "/data/x.dat");
	free(s);
}

static void test_target_info(void **state)
{
	(void)state;
	char path[] = "/tmp/hvt-test-io.XXXXXX";
	int fd = scratch(path, 65536, 0, NULL, 0);
	json_t *o = hvt_io_target_info(path);

	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "kind")), "file");
	json_t *fs = json_object_get(o, "fs");

	assert_true(json_is_object(fs));
	assert_non_null(json_string_value(json_object_get(fs, "magic")));
	assert_non_null(json_object_get(o, "device")); /* an object, or null on tmpfs */
	json_decref(o);
	o = hvt_io_target_info("/nonexistent/file");
	assert_non_null(json_object_get(o, "error"));
	json_decref(o);
	close(fd);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_params),	     cmocka_unit_test(test_descriptors),
		cmocka_unit_test(test_signatures),	     cmocka_unit_test(test_refusal_not_blockdev),
		cmocka_unit_test(test_default_path),	     cmocka_unit_test(test_target_info),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
