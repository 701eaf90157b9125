/* SPDX-License-Identifier: MIT */
/* Side channels: /proc/stat steal, getrusage, and perf_event_open counters named through libpfm4. */
#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#ifdef HAVE_PFM
#include <perfmon/pfmlib_perf_event.h>
#endif

#include "core.h"
#include "sidech.h"

struct event {
	const char *name;    /* our name in the output */
	const char *pfm;     /* libpfm4 event string */
	uint32_t type;	     /* fallback encoding without libpfm4 */
	uint64_t config;
	int hardware;
};

#define CACHE_CFG(c, op, res) ((c) | ((op) << 8) | ((res) << 16))

static const struct event events[] = {
	{ "cycles", "cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES, 1 },
	{ "instructions", "instructions", PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS, 1 },
	{ "dtlb_load_misses", "PERF_COUNT_HW_CACHE_DTLB:READ:MISS", PERF_TYPE_HW_CACHE,
	  CACHE_CFG(PERF_COUNT_HW_CACHE_DTLB, PERF_COUNT_HW_CACHE_OP_READ,
		    PERF_COUNT_HW_CACHE_RESULT_MISS),
	  1 },
	{ "task_clock_ns", "PERF_COUNT_SW_TASK_CLOCK", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK, 0 },
	{ "context_switches", "PERF_COUNT_SW_CONTEXT_SWITCHES", PERF_TYPE_SOFTWARE,
	  PERF_COUNT_SW_CONTEXT_SWITCHES, 0 },
	{ "cpu_migrations", "PERF_COUNT_SW_CPU_MIGRATIONS", PERF_TYPE_SOFTWARE,
	  PERF_COUNT_SW_CPU_MIGRATIONS, 0 },
	{ "page_faults", "PERF_COUNT_SW_PAGE_FAULTS", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS, 0 },
};

#define NEV HVT_ARRAY_SIZE(events)

int hvt_side_counters = HVT_COUNTERS_WARMUP;
static int fds[NEV] = { -1, -1, -1, -1, -1, -1, -1 };
static int usable[NEV];
static int open_err[NEV];
static int inited;
static int pfm_ok;
static char pfm_pmu[64];

static int encode(const struct event *e, struct perf_event_attr *attr)
{
	memset(attr, 0, sizeof(*attr));
	attr->size = sizeof(*attr);
#ifdef HAVE_PFM
	if (pfm_ok) {
		pfm_perf_encode_arg_t arg;

		memset(&arg, 0, sizeof(arg));
		arg.attr = attr;
		arg.size = sizeof(arg);
		if (pfm_get_os_event_encoding(e->pfm, PFM_PLM3, PFM_OS_PERF_EVENT, &arg) ==
		    PFM_SUCCESS)
			goto done;
		memset(attr, 0, sizeof(*attr));
		attr->size = sizeof(*attr);
	}
#endif
	attr->type = e->type;
	attr->config = e->config;
#ifdef HAVE_PFM
done:
#endif
	attr->size = sizeof(*attr);
	attr->disabled = 0;
	attr->inherit = 1;
	attr->exclude_kernel = 1;
	attr->exclude_hv = 1;
	attr->read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
	return 0;
}

static int open_event(const struct event *e)
{
	struct perf_event_attr attr;
	int fd;

	encode(e, &attr);
	fd = (int)syscall(SYS_perf_event_open, &attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0 && errno == EACCES) {
		/* paranoid settings may still allow user-only counting with exclude_kernel */
		fd = -1;
	}
	return fd < 0 ? -errno : fd;
}

void hvt_side_init(void)
{
	if (inited)
		return;
	inited = 1;
#ifdef HAVE_PFM
	if (pfm_initialize() == PFM_SUCCESS) {
		pfm_pmu_info_t info;

		pfm_ok = 1;
		/* the default hardware PMU libpfm4 detected (may be one the kernel refuses) */
		for (int p = PFM_PMU_NONE; p < PFM_PMU_MAX; p++) {
			memset(&info, 0, sizeof(info));
			info.size = sizeof(info);
			if (pfm_get_pmu_info((pfm_pmu_t)p, &info) == PFM_SUCCESS && info.is_present &&
			    info.type == PFM_PMU_TYPE_CORE) {
				snprintf(pfm_pmu, sizeof(pfm_pmu), "%s", info.name);
				break;
			}
		}
	}
#endif
	/* decide what the kernel grants by opening each event once; keep none open */
	for (size_t i = 0; i < NEV; i++) {
		int fd = hvt_side_counters ? open_event(&events[i]) : -EPERM;

		usable[i] = fd >= 0;
		open_err[i] = fd >= 0 ? 0 : -fd;
		if (fd >= 0)
			close(fd);
	}
}

void hvt_side_start(void)
{
	hvt_side_init();
	for (size_t i = 0; i < NEV; i++) {
		if (usable[i] && fds[i] < 0) {
			int fd = open_event(&events[i]);

			fds[i] = fd >= 0 ? fd : -1;
		}
	}
}

void hvt_side_stop(void)
{
	for (size_t i = 0; i < NEV; i++)
		if (fds[i] >= 0) {
			close(fds[i]);
			fds[i] = -1;
		}
}

void hvt_side_close(void)
{
	hvt_side_stop();
	inited = 0;
}

static uint64_t read_steal(void)
{
	FILE *f = fopen("/proc/stat", "r");
	char line[512];
	uint64_t steal = 0;

	if (!f)
		return 0;
	if (fgets(line, sizeof(line), f)) {
		unsigned long long v[8] = { 0 };

		/* cpu user nice system idle iowait irq softirq steal */
		if (sscanf(line, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
			   &v[3], &v[4], &v[5], &v[6], &v[7]) == 8)
			steal = v[7];
	}
	fclose(f);
	return steal;
}

void hvt_side_snap(struct hvt_side_snap *s)
{
	struct rusage ru;

	memset(s, 0, sizeof(*s));
	for (size_t i = 0; inited && i < NEV && i < HVT_SIDE_MAX_EVENTS; i++) {
		uint64_t buf[3];

		if (fds[i] >= 0 && read(fds[i], buf, sizeof(buf)) == (ssize_t)sizeof(buf)) {
			s->ev_valid |= 1u << i;
			s->ev[i] = buf[0];
			s->ev_enabled[i] = buf[1];
			s->ev_running[i] = buf[2];
		}
	}
	s->steal_ticks = read_steal();
	if (getrusage(RUSAGE_SELF, &ru) == 0) {
		s->nvcsw = ru.ru_nvcsw;
		s->nivcsw = ru.ru_nivcsw;
		s->minflt = ru.ru_minflt;
		s->majflt = ru.ru_majflt;
		s->utime_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6;
		s->stime_s = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
	}
	s->t_ns = hvt_now_ns();
}

json_t *hvt_side_delta(const struct hvt_side_snap *a, const struct hvt_side_snap *b)
{
	json_t *o = json_object();
	long hz = sysconf(_SC_CLK_TCK);

	if (!o)
		return NULL;
	json_object_set_new(o, "steal_s",
			    json_real((double)(b->steal_ticks - a->steal_ticks) / (hz > 0 ? hz : 100)));
	json_object_set_new(o, "utime_s", json_real(b->utime_s - a->utime_s));
	json_object_set_new(o, "stime_s", json_real(b->stime_s - a->stime_s));
	json_object_set_new(o, "nvcsw", json_integer(b->nvcsw - a->nvcsw));
	json_object_set_new(o, "nivcsw", json_integer(b->nivcsw - a->nivcsw));
	json_object_set_new(o, "minflt", json_integer(b->minflt - a->minflt));
	json_object_set_new(o, "majflt", json_integer(b->majflt - a->majflt));
	for (size_t i = 0; inited && i < NEV; i++) {
		uint64_t v, en, run;

		if (!(a->ev_valid & b->ev_valid & (1u << i)))
			continue;
		v = b->ev[i] - a->ev[i];
		en = b->ev_enabled[i] - a->ev_enabled[i];
		run = b->ev_running[i] - a->ev_running[i];
		/* multiplexed counters are scaled, as perf stat does */
		if (run && run < en)
			v = (uint64_t)((double)v * (double)en / (double)run);
		json_object_set_new(o, events[i].name, json_integer((json_int_t)v));
	}
	return o;
}

json_t *hvt_pmu_describe(void)
{
	json_t *o = json_object(), *opened = json_array(), *refused = json_object();
	int hw = 0;

	hvt_side_init();
	for (size_t i = 0; i < NEV; i++) {
		if (usable[i]) {
			json_array_append_new(opened, json_string(events[i].name));
			if (events[i].hardware)
				hw = 1;
		} else {
			json_object_set_new(refused, events[i].name, json_string(strerror(open_err[i])));
		}
	}
	json_object_set_new(o, "hardware", json_boolean(hw));
	json_object_set_new(o, "counters",
			    json_string(hvt_side_counters == HVT_COUNTERS_ALL	   ? "every repetition"
					: hvt_side_counters == HVT_COUNTERS_WARMUP ? "warm-up repetitions only"
										   : "off"));
	json_object_set_new(o, "counting", json_string(hw ? "hardware+software" : "software-only"));
	json_object_set_new(o, "libpfm4", json_boolean(pfm_ok));
	if (pfm_pmu[0])
		json_object_set_new(o, "libpfm4_pmu", json_string(pfm_pmu));
	json_object_set_new(o, "events", opened);
	json_object_set_new(o, "refused", refused);
	if (!hvt_side_counters)
		json_object_set_new(o, "finding",
				    json_string("counters off (--counters off): PMU not probed"));
	else if (!hw)
		json_object_set_new(o, "finding",
				    json_string("no hardware PMU available to this environment: "
						"the kernel refused every hardware event"));
	return o;
}
