/* SPDX-License-Identifier: BSD-3-Clause */

#ifndef DEDUP_H
#define DEDUP_H

/**
 * @file
 * A deduplication window: which keys (dedup_key.h) were counted within
 * the last window of event time. One table belongs to one lcore: the
 * pipeline sends every key to the lcore that owns it, because rte_hash
 * cannot tell two concurrent writers which of them added a key first.
 *
 * Memory is bounded by the capacity. Keys sit in a FIFO in the order
 * they were counted and leave only when room is needed: the oldest
 * goes first, counted as an eviction when it was still inside the
 * window of the record that needed the room, else as expired.
 */

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct dedup_table;

/** Counters of a table. */
struct dedup_stats {
	uint64_t entries;	/**< keys held now */
	uint64_t capacity;
	uint64_t evictions;	/**< keys dropped inside their window */
	uint64_t expired;	/**< keys dropped after their window */
	uint64_t bytes;		/**< memory of the table */
};

/**
 * Create a table. Needs the EAL.
 *
 * @param name
 *   Unique among this process's hash tables.
 * @param capacity
 *   Keys held at most.
 * @param window_ms
 *   Event time within which a key seen again is a duplicate.
 * @return
 *   The table, or NULL with rte_errno set.
 */
struct dedup_table *dedup_create(const char *name, uint32_t capacity,
				 int64_t window_ms, int socket_id);

/** Frees a table; NULL is accepted. */
void dedup_free(struct dedup_table *t);

/**
 * Test a key and remember it.
 *
 * @param key
 *   A dedup_*_key value.
 * @param time_ms
 *   Event time of the record.
 * @return
 *   1 when the key was counted less than the window before or after
 *   time_ms (a duplicate: nothing changes), else 0: the key is counted
 *   now and its window starts at time_ms.
 */
int dedup_seen(struct dedup_table *t, uint64_t key, int64_t time_ms);

/** Most keys dedup_seen_bulk() takes at once. */
#define DEDUP_BULK_MAX 64

/**
 * dedup_seen() for several keys, with the same result as calling it on
 * each in order, but with the table's memory fetched for all of them at
 * once: on the data path, lookups of a burst overlap their cache misses.
 *
 * @param n
 *   At most DEDUP_BULK_MAX.
 * @param seen
 *   Receives dedup_seen()'s result for each key.
 */
void dedup_seen_bulk(struct dedup_table *t, const uint64_t *keys,
		     const int64_t *time_ms, unsigned int n, uint8_t *seen);

/** Fills the counters of a table. */
void dedup_stats(const struct dedup_table *t, struct dedup_stats *stats);

#ifdef __cplusplus
}
#endif

#endif /* DEDUP_H */
