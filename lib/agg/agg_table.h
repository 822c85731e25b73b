/* SPDX-License-Identifier: BSD-3-Clause */

#ifndef AGG_TABLE_H
#define AGG_TABLE_H

/**
 * @file
 * Counting and expanding: a table of counts per (bucket, profile) that
 * a worker fills on the data path, and its expansion into the counter
 * hashes of docs/redis.md (hour, day and all-time keys and their
 * fields), coalesced and sorted, for Redis or for JSON. Needs no EAL.
 */

#include <stdint.h>
#include <stdio.h>

#include "agg.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * A bucket: checkpoint (33 bits), direction (2 bits), hour (29 bits).
 * The checkpoint is the index of a configured checkpoint, or
 * AGG_CHECKPOINT_UNNAMED | id for an id the configuration does not name.
 */
#define AGG_CHECKPOINT_UNNAMED	(UINT64_C(1) << 32)
#define AGG_HOUR_MASK		((UINT32_C(1) << 29) - 1)

static inline uint64_t
agg_bucket(uint64_t checkpoint, uint8_t direction, uint32_t hour)
{
	return checkpoint << 31 | (uint64_t)(direction & 3) << 29 |
		(hour & AGG_HOUR_MASK);
}

static inline uint64_t
agg_bucket_checkpoint(uint64_t bucket)
{
	return bucket >> 31;
}

static inline uint8_t
agg_bucket_direction(uint64_t bucket)
{
	return (bucket >> 29) & 3;
}

static inline uint32_t
agg_bucket_hour(uint64_t bucket)
{
	return bucket & AGG_HOUR_MASK;
}

/** Counts per (bucket, profile); grows as needed. */
struct agg_table;

/** Returns an empty table, or NULL with errno = ENOMEM. */
struct agg_table *agg_table_create(void);

/** Frees a table; NULL is accepted. */
void agg_table_free(struct agg_table *t);

/**
 * Add n to the count of (bucket, profile).
 *
 * @return
 *   0, or -ENOMEM when the table needed to grow and could not: the
 *   count is then not added.
 */
int agg_table_add(struct agg_table *t, uint64_t bucket, uint32_t profile,
		  uint64_t n);

/** Adds every count of src to dst; 0 or -ENOMEM. */
int agg_table_merge(struct agg_table *dst, const struct agg_table *src);

/** Empties a table, keeping its memory. */
void agg_table_clear(struct agg_table *t);

/** Number of (bucket, profile) pairs held. */
uint32_t agg_table_count(const struct agg_table *t);

/** Bytes of memory a table holds. */
uint64_t agg_table_bytes(const struct agg_table *t);

/**
 * Iterate over the pairs of a table.
 *
 * @param pos
 *   0 to start; advanced by each call.
 * @return
 *   1 with a pair filled in, 0 at the end.
 */
int agg_table_next(const struct agg_table *t, uint32_t *pos,
		   uint64_t *bucket, uint32_t *profile, uint64_t *n);

/** Longest Redis key: "crossings:" + checkpoint + ":unknown:h:" + hour. */
#define AGG_KEY_MAX 112

/** One increment of one field of one counter hash. */
struct agg_increment {
	char key[AGG_KEY_MAX];
	char field[AGG_FIELD_MAX];
	uint64_t n;
};

/** What names the checkpoints and bands of a table's buckets. */
struct agg_names {
	const char *const *checkpoints;	/**< configured names by index */
	unsigned int checkpoint_count;
	const struct agg_bands *bands;
};

/** Longest checkpoint name, with its NUL (as the configuration's). */
#define AGG_CHECKPOINT_NAME_MAX 64

/** Writes the name of a bucket's checkpoint ("verkhny-lars", "cp-17"). */
void agg_checkpoint_name(const struct agg_names *names, uint64_t checkpoint,
			 char out[AGG_CHECKPOINT_NAME_MAX]);

/** Returns "unknown", "entry" or "exit". */
const char *agg_direction_name(uint8_t direction);

/**
 * Expand a table into the increments of the counter hashes: each pair
 * adds to its hour, day and all-time key, on every field its profile
 * names. The result is sorted by key and field, one increment each.
 *
 * @param count
 *   Receives the number of increments.
 * @return
 *   A malloc'd array (free() it), or NULL with errno = ENOMEM. An empty
 *   table gives a non-NULL array with count 0.
 */
struct agg_increment *agg_expand(const struct agg_table *t,
				 const struct agg_names *names,
				 uint32_t *count);

/**
 * Write increments as one JSON object: each key maps to its fields,
 * and "crossings:checkpoints" lists the checkpoints the keys name.
 * This is the output of crossings-ingest --no-redis.
 */
void agg_write_json(FILE *out, const struct agg_increment *inc,
		    uint32_t count);

#ifdef __cplusplus
}
#endif

#endif /* AGG_TABLE_H */
