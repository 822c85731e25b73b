/* SPDX-License-Identifier: BSD-3-Clause */

#ifndef PUBLISH_H
#define PUBLISH_H

/**
 * @file
 * Publishing counts to Redis exactly once (docs/redis.md).
 *
 * Counts go in flushes. Each flush carries the run id of this process
 * and the run's next sequence number, and is applied by one server-side
 * Lua script that increments every field, records (node, run, seq) as
 * applied and does nothing for a sequence already applied. A flush is
 * resent, unchanged, until it is acknowledged: a lost connection, a
 * Redis restart or a reply that never came neither loses nor doubles a
 * count. One flush is in flight at a time; what is counted meanwhile
 * waits in the caller's table, so memory grows with distinct fields,
 * not with time or packets.
 *
 * The handle keeps a sticky error as hiredis does: any error frees the
 * connection; the next call reconnects (after a backoff), sets timeouts
 * and keepalive again, and resends. Blocking, with timeouts: for the
 * control lcore, never a worker. Needs no EAL.
 */

#include <stdbool.h>
#include <stdint.h>

#include "agg_table.h"
#include "conf.h"

#ifdef __cplusplus
extern "C" {
#endif

struct publish;

/** One counter of the node status hash (crossings:node:{node}). */
struct publish_status {
	char name[48];
	uint64_t value;
};

/** Counters of a publisher. */
struct publish_stats {
	uint64_t flushes;		/**< acknowledged */
	uint64_t replays;		/**< acknowledged as already applied */
	uint64_t reconnects;		/**< connections made after the first */
	uint64_t errors;		/**< failed attempts */
	uint32_t pending;		/**< flushes not acknowledged: 0 or 1 */
	uint64_t pending_increments;	/**< increments they hold */
	bool pending_unreplicated;	/**< it is applied, but fewer than
					 *   wait_replicas replicas confirmed it */
	uint64_t last_fields;		/**< increments of the last acknowledged flush */
	double last_latency_ms;		/**< its round trip */
	double max_latency_ms;
	int64_t last_ack_ms;		/**< host time of the last ack, 0: none */
	char eviction_policy[32];	/**< Redis' maxmemory-policy where it
					 *   may evict our keys (allkeys-*),
					 *   else empty */
	uint64_t seq;			/**< sequence of the last flush formed */
	bool connected;
};

/**
 * Create a publisher. Does not connect.
 *
 * @param redis
 *   Where and how to connect; copied.
 * @param node
 *   The node name of crossings:node:{node}.
 * @param run
 *   The run id: different for every start of the node.
 * @return
 *   The publisher, or NULL with errno = ENOMEM.
 */
struct publish *publish_create(const struct conf_redis *redis,
			       const char *node, const char *run,
			       const char *version);

/** Frees a publisher and what it holds; NULL is accepted. */
void publish_free(struct publish *p);

/**
 * Connect now (AUTH, load the script).
 *
 * @param err
 *   Receives one line saying what failed.
 * @return
 *   0; -ECONNREFUSED when Redis cannot be reached (try again later);
 *   -EACCES when authentication was refused; -EPROTO when the script
 *   was rejected or the server answered nonsense.
 */
int publish_connect(struct publish *p, char *err, size_t err_len);

/** Returns true when no flush is in flight: the next may be formed. */
bool publish_idle(const struct publish *p);

/**
 * Form the next flush: the run's next sequence number, these
 * increments (sorted and coalesced, as agg_expand() gives them) and the
 * node status. The publisher owns inc from now on.
 *
 * @return
 *   0, -EBUSY when a flush is in flight, -ENOMEM.
 */
int publish_submit(struct publish *p, struct agg_increment *inc,
		   uint32_t count, const struct publish_status *status,
		   unsigned int status_count, int64_t now_ms);

/**
 * Deliver the flush in flight: connect if needed (no sooner than the
 * backoff allows), send, wait for the reply.
 *
 * @param err
 *   Receives one line when an attempt failed.
 * @return
 *   0 when nothing is in flight any more; 1 when it still is (waiting
 *   for the backoff); a negative errno as publish_connect() when this
 *   attempt failed, -EAGAIN when the flush was applied but fewer than
 *   wait_replicas replicas confirmed it in time (it is resent).
 */
int publish_run(struct publish *p, int64_t now_ms, char *err, size_t err_len);

/** Fills the counters of a publisher. */
void publish_stats(const struct publish *p, struct publish_stats *stats);

/** The Lua script that applies a flush (for tests and docs). */
extern const char publish_script[];

#ifdef __cplusplus
}
#endif

#endif /* PUBLISH_H */
