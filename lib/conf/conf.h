/* SPDX-License-Identifier: BSD-3-Clause */

#ifndef CONF_H
#define CONF_H

/**
 * @file
 * The configuration file of docs/configuration.md (INI, read with DPDK's
 * rte_cfgfile) and its built-in defaults.
 *
 * Loading is strict: an unknown section or key, a duplicate, a value
 * out of range or a reference to nothing is an error naming the file,
 * line and key, so that a typo never silently changes what is counted.
 * Needs no EAL.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agg.h"
#include "endpoint.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Longest section, checkpoint, scanner or node name (rte_cfgfile's limit). */
#define CONF_NAME_MAX 64
/** At most this many UDP ports in [ingest] udp_ports. */
#define CONF_PORTS_MAX 64

/** A [checkpoint NAME] section. */
struct conf_checkpoint {
	char name[CONF_NAME_MAX];	/**< [a-z0-9-]+ */
	bool has_id;			/**< raw-only checkpoints need no id */
	uint32_t id;			/**< the id framed records carry */
};

/** A [scanner NAME] section. */
struct conf_scanner {
	char name[CONF_NAME_MAX];
	uint8_t family;			/**< 4 or 6 */
	uint8_t addr[16];		/**< network byte order, host bits zero */
	uint8_t prefix_len;		/**< 32 or 128 for an exact address */
	unsigned int checkpoint;	/**< index into conf.checkpoints */
	uint8_t direction;		/**< enum wire_direction */
};

/** Deduplication scope ([dedup] scope). */
enum conf_scope {
	CONF_SCOPE_CHECKPOINT_DIRECTION,
	CONF_SCOPE_DIRECTION,
};

struct conf_redis {
	char host[256];
	uint16_t port;
	char unix_path[108];		/**< set: connect by unix socket */
	char user[CONF_NAME_MAX];	/**< ACL user, with password */
	char password[256];		/**< empty: no AUTH */
	unsigned int flush_interval_ms;
	unsigned int flush_max_pairs;	/**< counts per flush; a backlog splits */
	unsigned int timeout_ms;	/**< connect, read and write */
	unsigned int shutdown_timeout_ms; /**< final flush retried this long */
	unsigned int wait_replicas;	/**< replicas that must hold a flush */
};

struct conf {
	char node[CONF_NAME_MAX];
	struct conf_redis redis;
	unsigned int udp_port_count;
	uint16_t udp_ports[CONF_PORTS_MAX];
	uint32_t window_s;
	enum conf_scope scope;
	uint32_t capacity;
	struct agg_bands bands;
	unsigned int checkpoint_count;
	struct conf_checkpoint *checkpoints;
	unsigned int scanner_count;
	struct conf_scanner *scanners;
};

/**
 * Fill conf with the built-in defaults: node name = host name, Redis on
 * 127.0.0.1:6379, UDP port 7470, a 1800 s window per checkpoint and
 * direction, 4194304 documents, the default age bands, no checkpoints
 * and no scanners.
 */
void conf_defaults(struct conf *conf);

/**
 * Read a configuration file over the defaults.
 *
 * @param err
 *   On error, receives one line: "FILE:LINE: [section] key: what".
 * @return
 *   0, -ENOENT when the file cannot be read, -EINVAL for any error in
 *   it, -ENOMEM. conf is left freeable either way.
 */
int conf_load(struct conf *conf, const char *path, char *err, size_t err_len);

/** Frees what conf_load allocated. */
void conf_free(struct conf *conf);

/**
 * Points the Redis settings at an endpoint (`--redis` over `[redis]`):
 * a unix socket, or host and port instead of any socket.
 */
void conf_redis_set_endpoint(struct conf_redis *redis, const struct endpoint *e);

/**
 * Parse "a.b.c.d", "a.b.c.d/n", an IPv6 address or IPv6 prefix.
 *
 * @return
 *   0, or -EINVAL. Host bits beyond the prefix must be zero.
 */
int conf_parse_prefix(const char *text, uint8_t *family, uint8_t addr[16],
		      uint8_t *prefix_len);

/** Returns the index of the checkpoint with a name, or -1. */
int conf_checkpoint_by_name(const struct conf *conf, const char *name);

/**
 * Make a configuration read again while running (a reload) ready to
 * take the place of the current one. A running node changes only its
 * scanner registry: [checkpoint] and [scanner] sections. Any other
 * difference is refused, naming its key, since the tables, ports and
 * connection built from it stay.
 *
 * Checkpoints keep their places, because counts not yet flushed name
 * theirs by place: cur's come first, in cur's order, then those new in
 * next. One that next no longer has stays, without an id, so that its
 * counts keep their name; no scanner points to it. next's scanners are
 * renumbered to match.
 *
 * @param cur
 *   The configuration in use, command-line overrides applied.
 * @param next
 *   The file read again, the same overrides applied; rewritten.
 * @param err
 *   On -EINVAL, receives "[section] key: changed, which needs a
 *   restart".
 * @return
 *   0, -EINVAL, or -ENOMEM (next then unchanged).
 */
int conf_reload(const struct conf *cur, struct conf *next, char *err,
		size_t err_len);

#ifdef __cplusplus
}
#endif

#endif /* CONF_H */
