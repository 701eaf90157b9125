/* SPDX-License-Identifier: MIT */
/* The serving end of the net cases in a target of its own: hvtax run/matrix --peer-target. */
#ifndef HVT_NETPAIR_H
#define HVT_NETPAIR_H

#include <jansson.h>

#include "matrix.h"
#include "target.h"

/*
 * hvtax-bench run --listen 0.0.0.0:PORT started in a target (host, container
 * or ssh:HOST), while the measuring targets' agents run their net cases with
 * --peer ADDR:PORT, ADDR being how each of them reaches the server:
 *
 *   server \ client   host        container (bridge)     vm (user net)   ssh:H
 *   host              127.0.0.1   the network's gateway  10.0.2.2        --peer-addr
 *   container         its IP      its IP                 its IP          --peer-addr
 *   ssh:S             S           S                      S               S
 *
 * A vm cannot serve (user networking has no inbound path). A container on
 * network "none" at either end is moved to the engine's default bridge.
 */
struct hvt_netpair {
	struct hvt_target t;
	int inited, live;
	char port[8];
	char listen[32];
	const char *addr_override; /* --peer-addr: the server's address for every client */
	json_t *fp;		   /* the server's fingerprint record */
};

/*
 * Set up the server target from spec (target config files and payload as for
 * the clients). 0, or HVT_EXIT_USAGE with the reason printed (unknown or vm).
 */
int hvt_netpair_init(struct hvt_netpair *p, const char *spec, const char *const *conf_files,
		     const char *payload, unsigned port, const char *addr_override);
/* Make a client target able to reach the server (network "none" -> bridge). */
void hvt_netpair_prepare_client(struct hvt_netpair *p, struct hvt_target *client);
/* Start the server and wait for its fingerprint (it listens by then). 0 or -errno, reported. */
int hvt_netpair_start(struct hvt_netpair *p);
/*
 * "--peer ADDR:PORT" for a client target: buf gets "ADDR:PORT". 0, or
 * -errno with the reason printed (no way to tell the address).
 */
int hvt_netpair_addr(struct hvt_netpair *p, const struct hvt_target *client, char *buf, size_t len);
/* What a client's run records about its peer: target, address, server fingerprint. New reference. */
json_t *hvt_netpair_facts(const struct hvt_netpair *p, const char *addr);
/* The HVT_OPT_ROWS_PEER options into mo: 1 taken, 0 not one of them, -1 bad value (reported). */
int hvt_netpair_opt(int c, const char *arg, struct hvt_matrix_opts *mo);
/* Stop the server ("end" on its stdin, then SIGTERM), report its sessions, release. */
void hvt_netpair_stop(struct hvt_netpair *p);

#endif
