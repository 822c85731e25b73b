/* SPDX-License-Identifier: BSD-3-Clause */

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "agg_table.h"

/* Open addressing with linear probing; a slot with n == 0 is free,
 * since no pair is ever added with a zero count. */
struct pair {
	uint64_t bucket;
	uint64_t n;
	uint32_t profile;
};

struct agg_table {
	uint32_t mask;			/* slots - 1, slots a power of two */
	uint32_t count;
	struct pair *slots;
};

#define INITIAL_SLOTS 1024

static inline uint32_t
slot_of(uint64_t bucket, uint32_t profile, uint32_t mask)
{
	uint64_t h = (bucket ^ ((uint64_t)profile << 17)) *
		UINT64_C(0x9e3779b97f4a7c15);

	return (uint32_t)(h >> 32) & mask;
}

struct agg_table *
agg_table_create(void)
{
	struct agg_table *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->slots = calloc(INITIAL_SLOTS, sizeof(*t->slots));
	if (t->slots == NULL) {
		free(t);
		return NULL;
	}
	t->mask = INITIAL_SLOTS - 1;
	return t;
}

void
agg_table_free(struct agg_table *t)
{
	if (t == NULL)
		return;
	free(t->slots);
	free(t);
}

static int
grow(struct agg_table *t)
{
	uint32_t slots = (t->mask + 1) * 2;
	struct pair *old = t->slots, *fresh;

	if (slots == 0)
		return -ENOMEM;
	fresh = calloc(slots, sizeof(*fresh));
	if (fresh == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i <= t->mask; i++) {
		uint32_t j;

		if (old[i].n == 0)
			continue;
		j = slot_of(old[i].bucket, old[i].profile, slots - 1);
		while (fresh[j].n != 0)
			j = (j + 1) & (slots - 1);
		fresh[j] = old[i];
	}
	t->slots = fresh;
	t->mask = slots - 1;
	free(old);
	return 0;
}

/* A pair not in the table yet, into the free slot p its probe ended
 * at. Out of line: most adds find their pair, and need none of the
 * registers growing takes. */
static __attribute__((noinline)) int
insert(struct agg_table *t, struct pair *p, uint64_t bucket,
       uint32_t profile, uint64_t n)
{
	/* Kept at most half full, so probes stay short. */
	if (t->count + 1 > (t->mask + 1) / 2) {
		if (grow(t) != 0)
			return -ENOMEM;
		return agg_table_add(t, bucket, profile, n);
	}
	p->bucket = bucket;
	p->profile = profile;
	p->n = n;
	t->count++;
	return 0;
}

int
agg_table_add(struct agg_table *t, uint64_t bucket, uint32_t profile,
	      uint64_t n)
{
	uint32_t i = slot_of(bucket, profile, t->mask);

	if (n == 0)
		return 0;
	for (;; i = (i + 1) & t->mask) {
		struct pair *p = &t->slots[i];

		if (p->n == 0)
			return insert(t, p, bucket, profile, n);
		if (p->bucket == bucket && p->profile == profile) {
			p->n += n;
			return 0;
		}
	}
}

int
agg_table_merge(struct agg_table *dst, const struct agg_table *src)
{
	for (uint32_t i = 0; i <= src->mask; i++) {
		const struct pair *p = &src->slots[i];

		if (p->n != 0 && agg_table_add(dst, p->bucket, p->profile, p->n))
			return -ENOMEM;
	}
	return 0;
}

void
agg_table_clear(struct agg_table *t)
{
	if (t->count == 0)
		return;
	memset(t->slots, 0, (t->mask + 1) * sizeof(*t->slots));
	t->count = 0;
}

uint32_t
agg_table_count(const struct agg_table *t)
{
	return t->count;
}

uint64_t
agg_table_bytes(const struct agg_table *t)
{
	return sizeof(*t) + (uint64_t)(t->mask + 1) * sizeof(*t->slots);
}

int
agg_table_next(const struct agg_table *t, uint32_t *pos, uint64_t *bucket,
	       uint32_t *profile, uint64_t *n)
{
	for (; *pos <= t->mask; (*pos)++) {
		const struct pair *p = &t->slots[*pos];

		if (p->n != 0) {
			*bucket = p->bucket;
			*profile = p->profile;
			*n = p->n;
			(*pos)++;
			return 1;
		}
	}
	return 0;
}

void
agg_checkpoint_name(const struct agg_names *names, uint64_t checkpoint,
		    char out[AGG_CHECKPOINT_NAME_MAX])
{
	if (checkpoint & AGG_CHECKPOINT_UNNAMED || checkpoint >= names->checkpoint_count)
		snprintf(out, AGG_CHECKPOINT_NAME_MAX, "cp-%" PRIu32, (uint32_t)checkpoint);
	else
		snprintf(out, AGG_CHECKPOINT_NAME_MAX, "%s", names->checkpoints[checkpoint]);
}

const char *
agg_direction_name(uint8_t direction)
{
	static const char *const names[] = { "unknown", "entry", "exit", "unknown" };

	return names[direction & 3];
}

static int
by_key_field(const void *a, const void *b)
{
	const struct agg_increment *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	return c ? c : strcmp(x->field, y->field);
}

static int
by_bucket(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;

	return (x->bucket > y->bucket) - (x->bucket < y->bucket);
}

static int
by_field(const void *a, const void *b)
{
	return strcmp(((const struct agg_increment *)a)->field,
		      ((const struct agg_increment *)b)->field);
}

/* Output that grows by doubling; NULL once out of memory. */
struct increments {
	struct agg_increment *inc;
	size_t count, cap;
};

static struct agg_increment *
append(struct increments *out)
{
	if (out->inc == NULL)
		return NULL;
	if (out->count == out->cap) {
		struct agg_increment *grown;

		out->cap = out->cap ? 2 * out->cap : 256;
		grown = realloc(out->inc, out->cap * sizeof(*grown));
		if (grown == NULL) {
			free(out->inc);
			out->inc = NULL;
			return NULL;
		}
		out->inc = grown;
	}
	return &out->inc[out->count++];
}

enum level { LEVEL_HOUR, LEVEL_DAY, LEVEL_ALL };

/*
 * The fields of the counter hashes of one level (hour, day or all-time
 * keys), from a table whose buckets are already of that level: pairs
 * sorted by bucket, each bucket's fields summed in a small buffer and
 * appended coalesced. Memory stays near the size of the result.
 */
static void
expand_level(const struct agg_table *t, enum level level,
	     const struct agg_names *names, struct increments *out)
{
	struct pair *pairs = malloc((t->count + 1) * sizeof(*pairs));
	struct agg_increment *buf = NULL;
	size_t buf_cap = 0, i = 0, k = 0;

	if (pairs == NULL) {
		free(out->inc);
		out->inc = NULL;
		return;
	}
	for (uint32_t s = 0; s <= t->mask; s++)
		if (t->slots[s].n != 0)
			pairs[k++] = t->slots[s];
	qsort(pairs, k, sizeof(*pairs), by_bucket);
	while (i < k && out->inc != NULL) {
		uint64_t bucket = pairs[i].bucket;
		char cp[AGG_CHECKPOINT_NAME_MAX], when[16], key[AGG_KEY_MAX];
		size_t end = i, used = 0;

		while (end < k && pairs[end].bucket == bucket)
			end++;
		if ((end - i) * AGG_PROFILE_FIELDS > buf_cap) {
			buf_cap = (end - i) * AGG_PROFILE_FIELDS;
			free(buf);
			buf = malloc(buf_cap * sizeof(*buf));
			if (buf == NULL) {
				free(out->inc);
				out->inc = NULL;
				break;
			}
		}
		agg_checkpoint_name(names, agg_bucket_checkpoint(bucket), cp);
		if (level == LEVEL_HOUR) {
			memcpy(when, "h:", 2);
			agg_format_hour(agg_bucket_hour(bucket), when + 2);
		} else if (level == LEVEL_DAY) {
			memcpy(when, "d:", 2);
			agg_format_day(agg_bucket_hour(bucket), when + 2);
		} else {
			strcpy(when, "all");
		}
		snprintf(key, sizeof(key), "crossings:%s:%s:%s", cp,
			 agg_direction_name(agg_bucket_direction(bucket)), when);
		for (; i < end; i++) {
			char fields[AGG_PROFILE_FIELDS][AGG_FIELD_MAX];
			unsigned int nf = agg_profile_fields(pairs[i].profile, names->bands,
							     fields);

			for (unsigned int f = 0; f < nf; f++) {
				memcpy(buf[used].field, fields[f], AGG_FIELD_MAX);
				buf[used++].n = pairs[i].n;
			}
		}
		qsort(buf, used, sizeof(*buf), by_field);
		for (size_t f = 0; f < used; f++) {
			struct agg_increment *inc;

			if (f > 0 && strcmp(buf[f].field, buf[f - 1].field) == 0) {
				out->inc[out->count - 1].n += buf[f].n;
				continue;
			}
			inc = append(out);
			if (inc == NULL)
				break;
			memcpy(inc->key, key, AGG_KEY_MAX);
			memcpy(inc->field, buf[f].field, AGG_FIELD_MAX);
			inc->n = buf[f].n;
		}
	}
	free(buf);
	free(pairs);
}

struct agg_increment *
agg_expand(const struct agg_table *t, const struct agg_names *names,
	   uint32_t *count)
{
	struct increments out = { .inc = malloc(sizeof(struct agg_increment)) };
	struct agg_table *day = agg_table_create(), *all = agg_table_create();
	uint64_t bucket, n;
	uint32_t profile, pos = 0;
	int rc = 0;

	if (day == NULL || all == NULL)
		rc = -ENOMEM;
	/* Days and all time are sums of hours: the same pairs, coarser. */
	while (rc == 0 && agg_table_next(t, &pos, &bucket, &profile, &n)) {
		uint64_t cp = agg_bucket_checkpoint(bucket);
		uint8_t dir = agg_bucket_direction(bucket);
		uint32_t hour = agg_bucket_hour(bucket);

		rc = agg_table_add(day, agg_bucket(cp, dir, hour - hour % 24), profile, n);
		if (rc == 0)
			rc = agg_table_add(all, agg_bucket(cp, dir, 0), profile, n);
	}
	if (rc != 0) {
		free(out.inc);
		out.inc = NULL;
	}
	expand_level(t, LEVEL_HOUR, names, &out);
	expand_level(day, LEVEL_DAY, names, &out);
	expand_level(all, LEVEL_ALL, names, &out);
	agg_table_free(day);
	agg_table_free(all);
	if (out.inc == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	/* Each key's fields are sorted already; keys come in any order. */
	qsort(out.inc, out.count, sizeof(*out.inc), by_key_field);
	*count = out.count;
	return out.inc;
}

/* The checkpoint of a key "crossings:{cp}:...", into out. */
static void
key_checkpoint(const char *key, char out[AGG_KEY_MAX])
{
	const char *start = strchr(key, ':') + 1;
	size_t len = strcspn(start, ":");

	memcpy(out, start, len);
	out[len] = '\0';
}

void
agg_write_json(FILE *out, const struct agg_increment *inc, uint32_t count)
{
	char (*cps)[AGG_KEY_MAX] = NULL;
	uint32_t ncp = 0;

	fputc('{', out);
	for (uint32_t i = 0; i < count; i++) {
		bool first_field = i == 0 || strcmp(inc[i - 1].key, inc[i].key) != 0;

		if (first_field) {
			char cp[AGG_KEY_MAX];

			fprintf(out, "%s\"%s\":{", i ? "}," : "", inc[i].key);
			key_checkpoint(inc[i].key, cp);
			/* Keys are sorted, so a checkpoint's keys are adjacent. */
			if (ncp == 0 || strcmp(cps[ncp - 1], cp) != 0) {
				void *grown = realloc(cps, (ncp + 1) * sizeof(*cps));

				if (grown != NULL) {
					cps = grown;
					memcpy(cps[ncp++], cp, AGG_KEY_MAX);
				}
			}
		} else {
			fputc(',', out);
		}
		fprintf(out, "\"%s\":%" PRIu64, inc[i].field, inc[i].n);
	}
	fprintf(out, "%s\"crossings:checkpoints\":[", count ? "}," : "");
	for (uint32_t i = 0; i < ncp; i++)
		fprintf(out, "%s\"%s\"", i ? "," : "", cps[i]);
	fputs("]}\n", out);
	free(cps);
}
