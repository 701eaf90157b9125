/* SPDX-License-Identifier: MIT */
/* Thread placement with hwloc, and the pinned thread team benchmarks use. */
#include <errno.h>
#include <hwloc.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <limits.h>
#include <linux/futex.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core.h"

static pthread_once_t topo_once = PTHREAD_ONCE_INIT;
static hwloc_topology_t topo;
static hwloc_bitmap_t allowed; /* OS indexes of the CPUs we may use, in order */
static int topo_ok;

static void topo_init(void)
{
	cpu_set_t set;

	allowed = hwloc_bitmap_alloc();
	if (!allowed)
		return;
	/* the process's own affinity at start-up is what we may use (cpuset, taskset) */
	if (sched_getaffinity(0, sizeof(set), &set) == 0) {
		for (int i = 0; i < CPU_SETSIZE; i++)
			if (CPU_ISSET(i, &set))
				hwloc_bitmap_set(allowed, (unsigned)i);
	}
	if (hwloc_topology_init(&topo) == 0 && hwloc_topology_load(topo) == 0)
		topo_ok = 1;
	if (hwloc_bitmap_iszero(allowed) && topo_ok)
		hwloc_bitmap_copy(allowed, hwloc_topology_get_allowed_cpuset(topo));
}

unsigned hvt_cpus_allowed(void)
{
	int w;

	pthread_once(&topo_once, topo_init);
	if (!allowed)
		return 1;
	w = hwloc_bitmap_weight(allowed);
	return w > 0 ? (unsigned)w : 1;
}

int hvt_cpu_nth(unsigned k)
{
	unsigned n = hvt_cpus_allowed();
	int id;
	unsigned i = 0;

	if (!allowed || hwloc_bitmap_iszero(allowed))
		return -1;
	k %= n;
	hwloc_bitmap_foreach_begin(id, allowed)
	{
		if (i++ == k)
			return id;
	}
	hwloc_bitmap_foreach_end();
	return -1;
}

int hvt_pin_self(int cpu)
{
	hwloc_bitmap_t set;
	int r = 0;

	pthread_once(&topo_once, topo_init);
	if (cpu < 0)
		return -EINVAL;
	if (!topo_ok) {
		cpu_set_t cs;

		CPU_ZERO(&cs);
		CPU_SET(cpu, &cs);
		return sched_setaffinity(0, sizeof(cs), &cs) ? -errno : 0;
	}
	set = hwloc_bitmap_alloc();
	if (!set)
		return -ENOMEM;
	hwloc_bitmap_only(set, (unsigned)cpu);
	if (hwloc_set_cpubind(topo, set, HWLOC_CPUBIND_THREAD | HWLOC_CPUBIND_STRICT) < 0 &&
	    hwloc_set_cpubind(topo, set, HWLOC_CPUBIND_THREAD) < 0)
		r = -errno;
	hwloc_bitmap_free(set);
	return r;
}

int hvt_unpin_self(void)
{
	pthread_once(&topo_once, topo_init);
	if (!allowed)
		return -ENOMEM;
	if (topo_ok)
		return hwloc_set_cpubind(topo, allowed, HWLOC_CPUBIND_THREAD) < 0 ? -errno : 0;
	return 0;
}

/*
 * The team barrier spins a while (as OpenMP's does) before it sleeps on a
 * futex: a thread that goes to sleep at every meeting hands its CPU to
 * whatever else is runnable and pays a wake-up (an IPI, a VM exit in a guest)
 * to get it back, which shows up as lost bandwidth in per-pass benchmarks
 * such as STREAM; a thread that spins forever starves a preempted team mate
 * on a busy machine.
 */
struct spin_barrier {
	unsigned n;
	unsigned count;	   /* arrivals in this generation */
	unsigned gen;	   /* generation: the futex word */
	unsigned sleepers; /* threads in FUTEX_WAIT */
};

#define SPIN_BEFORE_SLEEP 4096

static void spin_barrier_wait(struct spin_barrier *b)
{
	const unsigned g = __atomic_load_n(&b->gen, __ATOMIC_SEQ_CST);

	if (__atomic_add_fetch(&b->count, 1, __ATOMIC_SEQ_CST) == b->n) {
		__atomic_store_n(&b->count, 0, __ATOMIC_SEQ_CST);
		__atomic_store_n(&b->gen, g + 1, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&b->sleepers, __ATOMIC_SEQ_CST))
			syscall(SYS_futex, &b->gen, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
		return;
	}
	for (unsigned i = 0; i < SPIN_BEFORE_SLEEP; i++) {
		if (__atomic_load_n(&b->gen, __ATOMIC_ACQUIRE) != g)
			return;
#if defined(__x86_64__) || defined(__i386__)
		__builtin_ia32_pause();
#endif
	}
	__atomic_add_fetch(&b->sleepers, 1, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&b->gen, __ATOMIC_SEQ_CST) == g)
		syscall(SYS_futex, &b->gen, FUTEX_WAIT_PRIVATE, g, NULL, NULL, 0);
	__atomic_sub_fetch(&b->sleepers, 1, __ATOMIC_SEQ_CST);
}

struct team {
	struct spin_barrier bar;
	void (*fn)(struct hvt_thread *);
};

struct slot {
	struct hvt_thread *t;
	struct team *team;
};

static __thread struct team *cur_team;

static void *thread_main(void *arg)
{
	struct slot *s = arg;

	cur_team = s->team;
	if (s->t->cpu >= 0 && hvt_pin_self(s->t->cpu))
		s->t->cpu = -1;
	spin_barrier_wait(&s->team->bar);
	s->team->fn(s->t);
	return NULL;
}

void hvt_threads_barrier(struct hvt_thread *t)
{
	(void)t;
	if (cur_team)
		spin_barrier_wait(&cur_team->bar);
}

int hvt_threads_run(unsigned n, void (*fn)(struct hvt_thread *), void *arg, struct hvt_thread *th)
{
	struct team team = { .fn = fn };
	pthread_t *tid;
	struct slot *slots;
	unsigned started = 0;
	int r = 0;

	if (n == 0)
		return -EINVAL;
	tid = hvt_calloc(n, sizeof(*tid));
	slots = hvt_calloc(n, sizeof(*slots));
	if (!tid || !slots) {
		r = -ENOMEM;
		goto out_free;
	}
	team.bar.n = n;
	for (unsigned i = 0; i < n; i++) {
		memset(&th[i], 0, sizeof(th[i]));
		th[i].idx = i;
		th[i].n = n;
		th[i].cpu = hvt_cpu_nth(i);
		th[i].arg = arg;
		slots[i].t = &th[i];
		slots[i].team = &team;
	}
	/* thread 0 runs on the calling thread, so a 1-thread team costs no thread creation */
	for (unsigned i = 1; i < n; i++) {
		int e = pthread_create(&tid[i], NULL, thread_main, &slots[i]);

		if (e) {
			r = -e;
			break;
		}
		started++;
	}
	if (r) {
		/* the barrier cannot complete: the team is unusable; wait is impossible, so abort */
		hvt_err("cannot start %u threads: %s", n, strerror(-r));
		abort();
	}
	{
		struct team *saved = cur_team;
		cpu_set_t old;
		int have_old = sched_getaffinity(0, sizeof(old), &old) == 0;

		cur_team = &team;
		if (th[0].cpu >= 0 && hvt_pin_self(th[0].cpu))
			th[0].cpu = -1;
		spin_barrier_wait(&team.bar);
		fn(&th[0]);
		cur_team = saved;
		if (have_old)
			sched_setaffinity(0, sizeof(old), &old);
	}
	for (unsigned i = 1; i <= started; i++)
		pthread_join(tid[i], NULL);
	for (unsigned i = 0; i < n; i++)
		if (th[i].err) {
			r = th[i].err;
			break;
		}
out_free:
	free(tid);
	free(slots);
	return r;
}
