/* SPDX-License-Identifier: MIT */
/* Net cases as two MPI ranks: rank 1 serves, rank 0 measures; the address swapped over MPI. */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "driver.h"
#include "net.h"
#include "ranks.h"
#include "../common/util.h"

#define PAIR_ADDRS 16

/* What rank 1 tells rank 0: fixed size, so one broadcast carries it. */
struct pair_info {
	int ok;
	unsigned port;
	char host[256];
	int naddr;
	struct {
		char ip[INET_ADDRSTRLEN];
		unsigned prefix;
	} a[PAIR_ADDRS];
	unsigned fp_len; /* bytes of rank 1's fingerprint record (JSON), sent next */
};

static unsigned prefix_of(const struct sockaddr *mask)
{
	uint32_t m = ntohl(((const struct sockaddr_in *)mask)->sin_addr.s_addr);

	return (unsigned)__builtin_popcount(m);
}

/* Non-loopback IPv4 addresses of this host, with their prefix lengths. */
static void my_addrs(struct pair_info *pi)
{
	struct ifaddrs *ifa, *i;

	pi->naddr = 0;
	if (getifaddrs(&ifa))
		return;
	for (i = ifa; i && pi->naddr < PAIR_ADDRS; i = i->ifa_next) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)i->ifa_addr;

		if (!sin || sin->sin_family != AF_INET || ntohl(sin->sin_addr.s_addr) >> 24 == 127)
			continue;
		inet_ntop(AF_INET, &sin->sin_addr, pi->a[pi->naddr].ip, sizeof(pi->a[0].ip));
		pi->a[pi->naddr].prefix = i->ifa_netmask ? prefix_of(i->ifa_netmask) : 32;
		pi->naddr++;
	}
	freeifaddrs(ifa);
}

static int same_subnet(const char *a, const char *b, unsigned prefix)
{
	struct in_addr x, y;
	uint32_t m = prefix ? ~0u << (32 - (prefix > 32 ? 32 : prefix)) : 0;

	if (inet_pton(AF_INET, a, &x) != 1 || inet_pton(AF_INET, b, &y) != 1)
		return 0;
	return (ntohl(x.s_addr) & m) == (ntohl(y.s_addr) & m);
}

/*
 * Rank 0's choice of rank 1's address: loopback when both run on one host
 * (two processes, as the self-contained mode), else an address on a subnet
 * both hosts have, else rank 1's first address.
 */
static const char *pick(const struct pair_info *peer, char *why, size_t len)
{
	struct pair_info me;
	char host[256] = "";

	gethostname(host, sizeof(host) - 1);
	if (!strcmp(host, peer->host))
		return "127.0.0.1";
	my_addrs(&me);
	for (int i = 0; i < peer->naddr; i++)
		for (int j = 0; j < me.naddr; j++)
			if (me.a[j].prefix == peer->a[i].prefix &&
			    same_subnet(me.a[j].ip, peer->a[i].ip, peer->a[i].prefix))
				return peer->a[i].ip;
	if (peer->naddr)
		return peer->a[0].ip;
	snprintf(why, len, "rank 1 (host %s) has no IPv4 address other than loopback", peer->host);
	return NULL;
}

static int stop_when_rank0_done(void)
{
	return hvt_ranks_ibarrier_test();
}

int hvt_net_ranks_pair(FILE *out, json_t **peer_fp)
{
	struct pair_info pi;
	char why[512] = "", *fp_text = NULL;
	int lfd = -1, r;

	*peer_fp = NULL;
	memset(&pi, 0, sizeof(pi));
	if (hvt_rank() == 1) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		json_t *fp = hvt_fingerprint_record();

		lfd = hvt_net_listen("", "0", why, sizeof(why));
		if (lfd >= 0 && !getsockname(lfd, (struct sockaddr *)&ss, &sl)) {
			pi.port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
								 : ((struct sockaddr_in *)&ss)->sin_port);
			pi.ok = 1;
		} else {
			hvt_err("rank 1: cannot serve the net cases: %s", why[0] ? why : strerror(errno));
		}
		gethostname(pi.host, sizeof(pi.host) - 1);
		my_addrs(&pi);
		fp_text = fp ? json_dumps(fp, JSON_COMPACT) : NULL;
		pi.fp_len = fp_text ? (unsigned)strlen(fp_text) + 1 : 0;
		json_decref(fp);
	}
	if (hvt_ranks_bcast_from(1, &pi, sizeof(pi)))
		goto fail;
	if (hvt_rank() == 0 && pi.fp_len)
		fp_text = hvt_calloc(1, pi.fp_len);
	if (pi.fp_len) {
		/* every rank takes part; one with no buffer lends a scratch byte count's worth */
		char *buf = fp_text ? fp_text : hvt_calloc(1, pi.fp_len);

		r = buf ? hvt_ranks_bcast_from(1, buf, pi.fp_len) : -ENOMEM;
		if (buf != fp_text)
			free(buf);
		if (r)
			goto fail;
	}
	if (!pi.ok)
		goto fail;
	if (hvt_rank() == 1) {
		free(fp_text);
		hvt_ranks_ibarrier_start();
		return hvt_net_serve_fd(lfd, out, hvt_fingerprint_record(), stop_when_rank0_done);
	}
	if (hvt_rank() == 0) {
		const char *ip = pick(&pi, why, sizeof(why));
		char peer[300];

		if (!ip) {
			hvt_err("net cases as MPI ranks: %s", why);
			/* rank 1 is serving already: let it go */
			hvt_ranks_ibarrier_start();
			free(fp_text);
			return -EADDRNOTAVAIL;
		}
		snprintf(peer, sizeof(peer), "%s:%u", ip, pi.port);
		setenv("HVT_NET_PEER", peer, 1);
		setenv("HVT_NET_VIA", "mpi", 1);
		if (fp_text) {
			json_t *fp = json_loads(fp_text, 0, NULL);

			*peer_fp = json_pack("{s:s,s:s,s:i,s:o*}", "via", "mpi ranks (rank 1 serves)", "address",
					     peer, "rank", 1, "fingerprint", fp);
		}
		hvt_info("net cases as MPI ranks: rank 1 serves on %s (host %s), rank 0 measures", peer,
			 pi.host);
	}
	free(fp_text);
	return 0;
fail:
	if (lfd >= 0)
		close(lfd);
	free(fp_text);
	return -EIO;
}

void hvt_net_ranks_done(void)
{
	if (hvt_ranks_ibarrier_start() == 0)
		while (hvt_ranks_ibarrier_test() == 0)
			usleep(1000);
}
