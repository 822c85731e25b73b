/* SPDX-License-Identifier: BSD-3-Clause */

#include <stdlib.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>

#include "dedup.h"

/* A FIFO slot. A key counted again after its window moves to the tail;
 * its old slot becomes a tombstone, skipped when it reaches the head. */
struct slot {
	uint64_t key;
	int64_t time_ms;
};
#define TOMBSTONE INT64_MIN

struct dedup_table {
	struct rte_hash *hash;		/* key -> its FIFO slot */
	int64_t window_ms;
	uint32_t head, tail;		/* FIFO slots, the oldest and the next */
	uint32_t used;			/* slots from head to tail */
	uint32_t capacity;
	uint64_t entries;
	uint64_t evictions;
	uint64_t expired;
	uint64_t bytes;
	struct slot fifo[];
};

/* Keys are already keyed hashes: their low bits are the bucket hash. */
static inline hash_sig_t
key_sig(uint64_t key)
{
	return (hash_sig_t)key;
}

static uint32_t
key_hash(const void *key, uint32_t len, uint32_t init)
{
	(void)len;
	(void)init;
	return key_sig(*(const uint64_t *)key);
}

/* Keys are one word: a compare, instead of the memcmp() call rte_hash
 * makes for a key length it has no compare of its own for. */
static int
key_cmp(const void *a, const void *b, size_t len)
{
	(void)len;
	return *(const uint64_t *)a != *(const uint64_t *)b;
}

static size_t
heap_bytes(int socket_id)
{
	struct rte_malloc_socket_stats s;

	if (rte_malloc_get_socket_stats(socket_id, &s) != 0)
		return 0;
	return s.heap_allocsz_bytes;
}

struct dedup_table *
dedup_create(const char *name, uint32_t capacity, int64_t window_ms,
	     int socket_id)
{
	struct rte_hash_parameters p = {
		.name = name,
		/* A table at capacity is full for good (keys leave only to
		 * make room), so the hash gets headroom: at 100% load most
		 * keys sit in second-choice and extendable buckets, and an
		 * add searches them all. rte_hash takes at most 2^30. */
		.entries = (uint32_t)RTE_MIN((uint64_t)capacity + capacity / 4,
					     (uint64_t)RTE_HASH_ENTRIES_MAX),
		.key_len = sizeof(uint64_t),
		.hash_func = key_hash,
		.socket_id = socket_id,
		/* The extendable table holds every key up to the capacity,
		 * whatever the bucket collisions. */
		.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
	};
	/* What the table costs is measured on the heap, not estimated. */
	size_t before = heap_bytes(socket_id);
	struct dedup_table *t;

	if (capacity < 8 || window_ms <= 0) {
		rte_errno = EINVAL;
		return NULL;
	}
	t = rte_zmalloc_socket(name, sizeof(*t) + capacity * sizeof(t->fifo[0]),
			       RTE_CACHE_LINE_SIZE, socket_id);
	if (t == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	t->hash = rte_hash_create(&p);
	if (t->hash == NULL) {
		rte_free(t);
		return NULL;
	}
	rte_hash_set_cmp_func(t->hash, key_cmp);
	t->capacity = capacity;
	t->window_ms = window_ms;
	t->bytes = heap_bytes(socket_id) - before;
	return t;
}

void
dedup_free(struct dedup_table *t)
{
	if (t == NULL)
		return;
	rte_hash_free(t->hash);
	rte_free(t);
}

/* Drops the head of the FIFO; now tells an eviction from an expiry. */
static void
pop_head(struct dedup_table *t, int64_t now_ms)
{
	struct slot *s = &t->fifo[t->head];

	t->head = t->head + 1 == t->capacity ? 0 : t->head + 1;
	t->used--;
	if (s->time_ms == TOMBSTONE)
		return;
	rte_hash_del_key_with_hash(t->hash, &s->key, key_sig(s->key));
	t->entries--;
	if (now_ms - s->time_ms < t->window_ms)
		t->evictions++;
	else
		t->expired++;
}

static inline bool
in_window(const struct dedup_table *t, const struct slot *s, int64_t time_ms)
{
	return llabs(time_ms - s->time_ms) < t->window_ms;
}

/*
 * Counts a key: it goes to the FIFO's tail. old is its live slot, when
 * the table holds it (counted again after its window), else NULL.
 */
static void
count_key(struct dedup_table *t, uint64_t key, int64_t time_ms,
	  struct slot *old)
{
	struct slot *s;
	uint32_t index;

	if (old != NULL) {
		old->time_ms = TOMBSTONE;
		t->entries--;
	}
	/* Keys leave only when room is needed, oldest first. Dropping keys
	 * past their window earlier would need time to run forward on
	 * every input, and RX queues (or capture files) are not in step:
	 * a key one queue is done with, another may still need. */
	if (t->used == t->capacity)
		pop_head(t, time_ms);
	index = t->tail;
	t->tail = index + 1 == t->capacity ? 0 : index + 1;
	t->used++;
	s = &t->fifo[index];
	s->key = key;
	s->time_ms = time_ms;
	t->entries++;
	/* Cannot fail: the table holds capacity keys and holds fewer. An
	 * upsert: a key counted again gets its new slot. */
	rte_hash_add_key_with_hash_data(t->hash, &key, key_sig(key),
					(void *)(uintptr_t)index);
}

int
dedup_seen(struct dedup_table *t, uint64_t key, int64_t time_ms)
{
	struct slot *s = NULL;
	void *data;

	if (rte_hash_lookup_with_hash_data(t->hash, &key, key_sig(key),
					   &data) >= 0) {
		s = &t->fifo[(uintptr_t)data];
		if (in_window(t, s, time_ms))
			return 1;
	}
	count_key(t, key, time_ms, s);
	return 0;
}

/* Whether a key occurs among the first n of a batch. */
static bool
in_batch(const uint64_t *keys, unsigned int n, uint64_t key)
{
	for (unsigned int j = 0; j < n; j++)
		if (keys[j] == key)
			return true;
	return false;
}

void
dedup_seen_bulk(struct dedup_table *t, const uint64_t *keys,
		const int64_t *time_ms, unsigned int n, uint8_t *seen)
{
	const void *key_ptrs[DEDUP_BULK_MAX];
	hash_sig_t sigs[DEDUP_BULK_MAX];
	void *data[DEDUP_BULK_MAX];
	uint64_t hits = 0;

	/* The signatures key_hash() gives, without a call per key. */
	for (unsigned int i = 0; i < n; i++) {
		key_ptrs[i] = &keys[i];
		sigs[i] = key_sig(keys[i]);
	}
	if (n > 0)
		rte_hash_lookup_with_hash_bulk_data(t->hash, key_ptrs, sigs, n,
						    &hits, data);
	/* The hits' FIFO slots are scattered over the table: all of them
	 * are asked for before the first is read. */
	for (unsigned int i = 0; i < n; i++)
		if (hits >> i & 1)
			rte_prefetch0(&t->fifo[(uintptr_t)data[i]]);
	/*
	 * Earlier keys of the batch may have changed the table since the
	 * bulk lookup. A hit stands if its slot still holds the key and no
	 * tombstone: that is the key's one live slot (a slot dropped at the
	 * head is at once the tail and holds the new key). A miss stands
	 * unless an earlier key of the batch was the same, since only
	 * adding a key makes it found. Either way the lookup is not made
	 * again; anything else takes the full path, on memory the bulk
	 * lookup brought into cache.
	 */
	for (unsigned int i = 0; i < n; i++) {
		if (hits >> i & 1) {
			struct slot *s = &t->fifo[(uintptr_t)data[i]];

			if (s->key == keys[i] && s->time_ms != TOMBSTONE) {
				seen[i] = in_window(t, s, time_ms[i]);
				if (unlikely(!seen[i]))
					count_key(t, keys[i], time_ms[i], s);
				continue;
			}
		} else if (!in_batch(keys, i, keys[i])) {
			seen[i] = 0;
			count_key(t, keys[i], time_ms[i], NULL);
			continue;
		}
		seen[i] = dedup_seen(t, keys[i], time_ms[i]);
	}
}

void
dedup_stats(const struct dedup_table *t, struct dedup_stats *stats)
{
	stats->entries = t->entries;
	stats->capacity = t->capacity;
	stats->evictions = t->evictions;
	stats->expired = t->expired;
	stats->bytes = t->bytes;
}
