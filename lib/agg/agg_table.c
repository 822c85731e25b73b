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

int
agg_table_add(struct agg_table *t, uint64_t bucket, uint32_t profile,
	      uint64_t n)
{
	uint32_t i = slot_of(bucket, profile, t->mask);
	struct pair *p;

	if (n == 0)
		return 0;
	for (;; i = (i + 1) & t->mask) {
		p = &t->slots[i];
		if (p->n == 0)
			break;
		if (p->bucket == bucket && p->profile == profile) {
			p->n += n;
			return 0;
		}
	}
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

struct agg_increment *
agg_expand(const struct agg_table *t, const struct agg_names *names,
	   uint32_t *count)
{
	/* Each pair adds to 3 keys, on at most AGG_PROFILE_FIELDS fields. */
	size_t cap = (size_t)t->count * 3 * AGG_PROFILE_FIELDS + 1;
	struct agg_increment *inc = malloc(cap * sizeof(*inc));
	char fields[AGG_PROFILE_FIELDS][AGG_FIELD_MAX];
	char cp[AGG_CHECKPOINT_NAME_MAX], hour[11], day[9];
	uint64_t bucket, n;
	uint32_t profile, pos = 0, out = 0;
	size_t used = 0;

	if (inc == NULL)
		return NULL;
	while (agg_table_next(t, &pos, &bucket, &profile, &n)) {
		unsigned int nf = agg_profile_fields(profile, names->bands, fields);
		const char *dir = agg_direction_name(agg_bucket_direction(bucket));
		char keys[3][AGG_KEY_MAX];

		agg_checkpoint_name(names, agg_bucket_checkpoint(bucket), cp);
		agg_format_hour(agg_bucket_hour(bucket), hour);
		agg_format_day(agg_bucket_hour(bucket), day);
		snprintf(keys[0], AGG_KEY_MAX, "crossings:%s:%s:h:%s", cp, dir, hour);
		snprintf(keys[1], AGG_KEY_MAX, "crossings:%s:%s:d:%s", cp, dir, day);
		snprintf(keys[2], AGG_KEY_MAX, "crossings:%s:%s:all", cp, dir);
		for (unsigned int k = 0; k < 3; k++) {
			for (unsigned int f = 0; f < nf; f++) {
				memcpy(inc[used].key, keys[k], AGG_KEY_MAX);
				memcpy(inc[used].field, fields[f], AGG_FIELD_MAX);
				inc[used].n = n;
				used++;
			}
		}
	}
	qsort(inc, used, sizeof(*inc), by_key_field);
	for (size_t i = 0; i < used; i++) {
		if (out > 0 && by_key_field(&inc[out - 1], &inc[i]) == 0)
			inc[out - 1].n += inc[i].n;
		else
			inc[out++] = inc[i];
	}
	*count = out;
	return inc;
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
