/* SPDX-License-Identifier: MIT */
/* The serving end of the net cases in a target of its own: hvtax run/matrix --peer-target. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netpair.h"
#include "opts.h"
#include "../common/units.h"
#include "../common/schema.h"
#include "../common/util.h"

#define INSPECT_NS (30 * HVT_TARGET_S)

static int is_kind(const struct hvt_target *t, const char *kind)
{
	return strcmp(t->ops->kind, kind) == 0;
}

int hvt_netpair_init(struct hvt_netpair *p, const char *spec, const char *const *conf_files,
		     const char *payload, unsigned port, const char *addr_override)
{
	memset(p, 0, sizeof(*p));
	if (!hvt_target_find(spec)) {
		hvt_err("--peer-target: unknown target '%s' (targets: %s)", spec, hvt_target_kinds());
		return HVT_EXIT_USAGE;
	}
	if (port == 0 || port > 65535) {
		hvt_err("--peer-port: %u is not a port (1..65535)", port);
		return HVT_EXIT_USAGE;
	}
	if (hvt_target_init(&p->t, spec, conf_files, payload))
		return HVT_EXIT_USAGE;
	p->inited = 1;
	if (is_kind(&p->t, "vm")) {
		hvt_err("--peer-target vm: a guest on user networking cannot be reached from outside; "
			"serve from host, container or ssh:HOST");
		return HVT_EXIT_USAGE;
	}
	snprintf(p->port, sizeof(p->port), "%u", port);
	snprintf(p->listen, sizeof(p->listen), "0.0.0.0:%u", port);
	p->addr_override = addr_override && *addr_override ? addr_override : NULL;
	hvt_netpair_prepare_client(p, &p->t);
	return 0;
}

void hvt_netpair_prepare_client(struct hvt_netpair *p, struct hvt_target *client)
{
	(void)p;
	if (is_kind(client, "container") && !strcmp(client->conf.network, "none")) {
		hvt_info("%s: network 'none' cannot reach a peer; using the engine's bridge", client->name);
		snprintf(client->conf.network, sizeof(client->conf.network), "bridge");
	}
}

static int is_fingerprint(const char *line)
{
	return strstr(line, "\"type\":\"fingerprint\"") != NULL;
}

int hvt_netpair_start(struct hvt_netpair *p)
{
	struct hvt_launch l = { .listen = p->listen };
	uint64_t deadline;
	const char *line;
	int r;

	r = hvt_target_start(&p->t, &l);
	if (r) {
		hvt_err("net server in %s: cannot start: %s", p->t.name, p->t.why);
		hvt_target_stop(&p->t, HVT_TARGET_S);
		return r;
	}
	p->live = 1;
	hvt_info("net server in %s: started; waiting until it listens on port %s", p->t.name, p->port);
	deadline = hvt_now_ns() + p->t.conf.start_timeout_ns;
	for (;;) {
		r = hvt_target_read(&p->t, deadline, &line);
		if (r <= 0) {
			char tail[256];

			hvt_target_stderr_tail(&p->t, tail, sizeof(tail));
			hvt_err("net server in %s: %s%s%s", p->t.name,
				r == 0 ? "no fingerprint before the start timeout" : "ended before listening",
				tail[0] ? ": " : "", tail);
			hvt_netpair_stop(p);
			return r == 0 ? -ETIMEDOUT : -EPIPE;
		}
		if (is_fingerprint(line))
			break;
	}
	p->fp = json_loads(line, 0, NULL);
	return 0;
}

/* The first gateway in `ENGINE network inspect NAME` (podman's netavark or docker's form). */
static int network_gateway(const struct hvt_target *c, char *buf, size_t len)
{
	const char *net = c->conf.network;
	char out[8192];
	char *argv[] = { (char *)c->conf.engine, "network", "inspect", NULL, NULL };
	json_t *j, *n, *v;
	int r;

	if (!strcmp(net, "bridge") && strstr(c->conf.engine, "podman"))
		net = "podman"; /* podman's default bridge network is called podman */
	argv[3] = (char *)net;
	r = hvt_target_run_output(argv, INSPECT_NS, out, sizeof(out));
	if (r)
		return r < 0 ? r : -EIO;
	j = json_loads(out, 0, NULL);
	n = json_is_array(j) ? json_array_get(j, 0) : j;
	v = json_object_get(json_array_get(json_object_get(n, "subnets"), 0), "gateway");
	if (!json_is_string(v))
		v = json_object_get(json_array_get(json_object_get(json_object_get(n, "IPAM"), "Config"), 0),
				    "Gateway");
	r = json_is_string(v) && *json_string_value(v) ? 0 : -ENOENT;
	if (!r)
		snprintf(buf, len, "%s", json_string_value(v));
	json_decref(j);
	return r;
}

/* The running server container's address on its network. */
static int container_ip(const struct hvt_target *c, char *buf, size_t len)
{
	static const char *const fmts[] = { "{{.NetworkSettings.IPAddress}}",
					    "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}" };

	for (size_t i = 0; i < HVT_ARRAY_SIZE(fmts); i++) {
		char out[256];
		char *argv[] = { (char *)c->conf.engine, "inspect", "-f", (char *)fmts[i], (char *)c->cname, NULL };

		if (hvt_target_run_output(argv, INSPECT_NS, out, sizeof(out)) == 0) {
			out[strcspn(out, " \n")] = '\0';
			if (out[0]) {
				snprintf(buf, len, "%s", out);
				return 0;
			}
		}
	}
	return -ENOENT;
}

int hvt_netpair_addr(struct hvt_netpair *p, const struct hvt_target *client, char *buf, size_t len)
{
	char ip[256] = "";
	int r = 0;

	if (p->addr_override) {
		snprintf(ip, sizeof(ip), "%s", p->addr_override);
	} else if (is_kind(&p->t, "ssh")) {
		snprintf(ip, sizeof(ip), "%s", p->t.conf.host);
	} else if (is_kind(&p->t, "container")) {
		if (!strcmp(p->t.conf.network, "host"))
			snprintf(ip, sizeof(ip), "%s", is_kind(client, "vm") ? "10.0.2.2" : "127.0.0.1");
		else
			r = container_ip(&p->t, ip, sizeof(ip));
		if (r)
			hvt_err("net server in %s: cannot tell its address (%s inspect); give --peer-addr",
				p->t.name, p->t.conf.engine);
	} else if (is_kind(client, "host")) { /* the server is on this host from here on */
		snprintf(ip, sizeof(ip), "127.0.0.1");
	} else if (is_kind(client, "container")) {
		if (!strcmp(client->conf.network, "host")) {
			snprintf(ip, sizeof(ip), "127.0.0.1");
		} else {
			r = network_gateway(client, ip, sizeof(ip));
			if (r)
				hvt_err("%s: cannot tell how it reaches this host (%s network inspect %s); "
					"give --peer-addr", client->name, client->conf.engine, client->conf.network);
		}
	} else if (is_kind(client, "vm")) {
		if (strcmp(client->conf.vm_network, "user")) {
			hvt_err("%s: network '%s' has no path to the host; use network = user", client->name,
				client->conf.vm_network);
			r = -ENETUNREACH;
		} else {
			snprintf(ip, sizeof(ip), "10.0.2.2"); /* qemu user networking's host */
		}
	} else {
		hvt_err("%s: how it reaches this host is not known here; give --peer-addr", client->name);
		r = -ENETUNREACH;
	}
	if (r)
		return r;
	snprintf(buf, len, strchr(ip, ':') ? "[%s]:%s" : "%s:%s", ip, p->port);
	return 0;
}

json_t *hvt_netpair_facts(const struct hvt_netpair *p, const char *addr)
{
	json_t *fp = p->fp ? json_object_get(p->fp, "fingerprint") : NULL;

	return json_pack("{s:s,s:s,s:s,s:O*}", "via", "harness (--peer-target)", "target", p->t.name,
			 "address", addr, "fingerprint", fp);
}

void hvt_netpair_stop(struct hvt_netpair *p)
{
	if (p->live) {
		uint64_t deadline = hvt_now_ns() + p->t.conf.stop_timeout_ns;
		const char *line;

		/* "end" on its stdin stops it where a signal cannot reach (ssh) */
		if (hvt_target_send(&p->t, "end") == 0) {
			while (hvt_target_read(&p->t, deadline, &line) > 0) {
				json_t *e;

				if (!strstr(line, "\"type\":\"end\""))
					continue;
				e = json_loads(line, 0, NULL);
				hvt_info("net server in %s: %lld sessions, %lld failed", p->t.name,
					 (long long)json_integer_value(json_object_get(e, "sessions")),
					 (long long)json_integer_value(json_object_get(e, "failed_sessions")));
				json_decref(e);
				break;
			}
		}
		hvt_target_wait(&p->t, 5 * HVT_TARGET_S);
		hvt_target_stop(&p->t, 2 * HVT_TARGET_S);
		p->live = 0;
	}
	if (p->inited)
		hvt_target_release(&p->t);
	p->inited = 0;
	json_decref(p->fp);
	p->fp = NULL;
}

int hvt_netpair_opt(int c, const char *arg, struct hvt_matrix_opts *mo)
{
	int64_t v;

	switch (c) {
	case HVT_OPT_PEER_TARGET:
		mo->peer_target = arg;
		return 1;
	case HVT_OPT_PEER_ADDR:
		mo->peer_addr = arg;
		return 1;
	case HVT_OPT_PEER_PORT:
		if (hvt_parse_int(arg, &v) || v < 1 || v > 65535) {
			hvt_err("--peer-port: '%s' is not a port (1..65535)", arg);
			return -1;
		}
		mo->peer_port = (unsigned)v;
		return 1;
	}
	return 0;
}
