/* SPDX-License-Identifier: BSD-3-Clause */

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "reasm.h"
#include "wire.h"

/* A record being joined. */
struct partial {
	struct reasm_source src;
	bool used;			/* a slot of the table in use */
	uint8_t expected;		/* lines the record needs */
	uint8_t have;			/* lines joined so far; 0: none */
	uint16_t len;
	int64_t first_ms;		/* event time of the first line */
	uint8_t buf[REASM_RECORD_MAX];
};

/* Partial records by source: open addressing, linear probing, deletion
 * by backward shift, at most half full. */
struct reasm {
	uint32_t mask;
	uint32_t max_sources;
	uint32_t pending;
	int64_t timeout_ms;
	reasm_record_fn emit;
	void *arg;
	struct partial slots[];
};

struct reasm *
reasm_create(uint32_t max_sources, int64_t timeout_ms, reasm_record_fn emit,
	     void *arg)
{
	uint32_t slots = 16;
	struct reasm *r;

	while (slots < 2 * max_sources)
		slots *= 2;
	r = calloc(1, sizeof(*r) + slots * sizeof(r->slots[0]));
	if (r == NULL)
		return NULL;
	r->mask = slots - 1;
	r->max_sources = max_sources;
	r->timeout_ms = timeout_ms;
	r->emit = emit;
	r->arg = arg;
	return r;
}

void
reasm_free(struct reasm *r)
{
	free(r);
}

uint32_t
reasm_pending(const struct reasm *r)
{
	return r->pending;
}

static bool
same_source(const struct reasm_source *a, const struct reasm_source *b)
{
	return a->family == b->family && a->port == b->port &&
		memcmp(a->addr, b->addr, a->family == 4 ? 4 : 16) == 0;
}

static uint32_t
home_of(const struct reasm *r, const struct reasm_source *src)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325) ^ src->port;

	for (unsigned int i = 0; i < (src->family == 4 ? 4u : 16u); i++)
		h = (h ^ src->addr[i]) * UINT64_C(0x100000001b3);
	return (uint32_t)(h >> 29) & r->mask;
}

static struct partial *
find(struct reasm *r, const struct reasm_source *src)
{
	for (uint32_t i = home_of(r, src);; i = (i + 1) & r->mask) {
		struct partial *p = &r->slots[i];

		if (!p->used)
			return NULL;
		if (same_source(&p->src, src))
			return p;
	}
}

int
reasm_has_partial(struct reasm *r, const struct reasm_source *src)
{
	return r->pending > 0 && find(r, src) != NULL;
}

/* Frees a slot and moves later entries of its probe run back into it. */
static void
remove_slot(struct reasm *r, struct partial *p)
{
	uint32_t hole = p - r->slots;

	for (uint32_t i = (hole + 1) & r->mask; r->slots[i].used;
	     i = (i + 1) & r->mask) {
		uint32_t home = home_of(r, &r->slots[i].src);

		/* Move i into the hole unless its home lies after the hole
		 * and at or before i (cyclically). */
		if (((i - home) & r->mask) >= ((i - hole) & r->mask)) {
			r->slots[hole] = r->slots[i];
			hole = i;
		}
	}
	r->slots[hole].used = false;
	r->pending--;
}

/* Joins the lines of one datagram onto what its source left before. */
unsigned int
reasm_datagram(struct reasm *r, const struct reasm_source *src,
	       int64_t time_ms, const uint8_t *payload, size_t len)
{
	const uint8_t *pos = payload, *end = payload + len, *line;
	struct partial cur;
	unsigned int incomplete = 0;
	int n;

	cur.have = 0;
	if (r->pending > 0) {
		struct partial *p = find(r, src);

		if (p != NULL) {
			cur = *p;
			remove_slot(r, p);
		}
	}
	while ((n = wire_next_line(&pos, end, &line)) >= 0) {
		if (n == 0)
			continue;
		if (cur.have && time_ms - cur.first_ms > r->timeout_ms) {
			incomplete++;
			cur.have = 0;
		}
		if (cur.have) {
			if (n <= REASM_LINE_MAX) {
				cur.buf[cur.len++] = '\n';
				memcpy(cur.buf + cur.len, line, n);
				cur.len += n;
				if (++cur.have == cur.expected) {
					r->emit(r->arg, cur.buf, cur.len, cur.first_ms);
					cur.have = 0;
				}
				continue;
			}
			/* A whole record on one line cannot continue one. */
			incomplete++;
			cur.have = 0;
		}
		if (n == 30 || n == 36 || n == 44) {
			cur.expected = n == 30 ? 3 : 2;
			cur.have = 1;
			cur.len = n;
			cur.first_ms = time_ms;
			memcpy(cur.buf, line, n);
		} else {
			/* Concatenated lines, or a line no record has: the
			 * parser names what it is. */
			r->emit(r->arg, line, n, time_ms);
		}
	}
	if (cur.have) {
		struct partial *p;

		if (r->pending == r->max_sources) {
			incomplete++;
			return incomplete;
		}
		for (uint32_t i = home_of(r, src);; i = (i + 1) & r->mask) {
			p = &r->slots[i];
			if (!p->used)
				break;
		}
		*p = cur;
		p->src = *src;
		p->used = true;
		r->pending++;
	}
	return incomplete;
}

unsigned int
reasm_expire(struct reasm *r, int64_t now_ms)
{
	unsigned int dropped = 0;

	/* Backward shifts may move an entry into a slot already passed:
	 * scan until a pass drops nothing. */
	for (bool again = r->pending > 0; again;) {
		again = false;
		for (uint32_t i = 0; i <= r->mask && r->pending > 0; i++) {
			struct partial *p = &r->slots[i];

			if (p->used && (now_ms == INT64_MAX ||
					now_ms - p->first_ms > r->timeout_ms)) {
				remove_slot(r, p);
				dropped++;
				again = true;
			}
		}
	}
	return dropped;
}
