/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * libFuzzer target: the raw-text reassembler against a model of it.
 *
 * The input is a series of datagrams from 32 sources, each
 * [op][length][payload]: op's low five bits pick the source, the next
 * two how far event time moves (0, 0.1, 1.9 or 2 s: sums fall short of
 * the 2-s timeout, on it and past it), the top bit a call of
 * reasm_expire() first. The model
 * keeps each source's partial record in a plain array, so it shares
 * nothing with the reassembler's open-addressed table (probing,
 * deletion by backward shift) but the line rules of docs/wire.md. After
 * every step both must have emitted the same records at the same
 * times, counted the same incomplete ones and hold the same partial
 * records; at the end, expiring everything leaves none. With eight
 * sources at most held and 32 sending, the table fills and collides.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mrz.h"
#include "reasm.h"
#include "wire.h"

#define SOURCES 32
#define HELD_MAX 8
#define TIMEOUT_MS 2000

/* What was emitted: a count and a hash of every record and its time. */
struct emitted {
	uint64_t count, hash;
};

static void
note(struct emitted *e, const uint8_t *record, size_t len, int64_t time_ms)
{
	uint64_t h = e->hash ^ (uint64_t)time_ms ^ (uint64_t)len << 48;

	for (size_t i = 0; i < len; i++)
		h = (h ^ record[i]) * UINT64_C(0x100000001b3);
	e->hash = h * UINT64_C(0x9e3779b97f4a7c15);
	e->count++;
}

static void
real_emit(void *arg, const uint8_t *record, size_t len, int64_t time_ms)
{
	struct mrz_fields f;

	mrz_check((const char *)record, len, &f);
	note(arg, record, len, time_ms);
}

struct partial {
	uint8_t buf[REASM_RECORD_MAX];
	size_t len;
	unsigned int have, expected;
	int64_t first_ms;
};

struct model {
	struct partial held[SOURCES];	/* have == 0: none */
	unsigned int pending;
	struct emitted out;
};

static unsigned int
model_datagram(struct model *m, unsigned int src, int64_t time_ms,
	       const uint8_t *pos, const uint8_t *end)
{
	struct partial cur = m->held[src];
	unsigned int incomplete = 0;
	const uint8_t *line;
	int n;

	if (cur.have)
		m->pending--;
	m->held[src].have = 0;
	while ((n = wire_next_line(&pos, end, &line)) >= 0) {
		if (n == 0)
			continue;
		if (cur.have && time_ms - cur.first_ms > TIMEOUT_MS) {
			incomplete++;
			cur.have = 0;
		}
		if (cur.have && n <= REASM_LINE_MAX) {
			cur.buf[cur.len++] = '\n';
			memcpy(cur.buf + cur.len, line, (size_t)n);
			cur.len += (size_t)n;
			if (++cur.have == cur.expected) {
				note(&m->out, cur.buf, cur.len, cur.first_ms);
				cur.have = 0;
			}
			continue;
		}
		if (cur.have) {
			incomplete++;
			cur.have = 0;
		}
		if (n == 30 || n == 36 || n == 44) {
			cur = (struct partial){ .len = (size_t)n, .have = 1,
				.expected = n == 30 ? 3 : 2, .first_ms = time_ms };
			memcpy(cur.buf, line, (size_t)n);
		} else {
			note(&m->out, line, (size_t)n, time_ms);
		}
	}
	if (cur.have) {
		if (m->pending == HELD_MAX)
			return incomplete + 1;
		m->held[src] = cur;
		m->pending++;
	}
	return incomplete;
}

static unsigned int
model_expire(struct model *m, int64_t now_ms)
{
	unsigned int dropped = 0;

	for (unsigned int s = 0; s < SOURCES; s++) {
		if (m->held[s].have && (now_ms == INT64_MAX ||
					now_ms - m->held[s].first_ms > TIMEOUT_MS)) {
			m->held[s].have = 0;
			m->pending--;
			dropped++;
		}
	}
	return dropped;
}

/* Sources that differ in family, address or port alone. */
static struct reasm_source
source(unsigned int s)
{
	struct reasm_source src = { .family = s % 3 ? 4 : 6,
				    .port = (uint16_t)(40000 + s % 5) };

	src.addr[3] = (uint8_t)(s / 5);
	return src;
}

static void
same(struct reasm *r, const struct model *m, const struct emitted *out)
{
	if (reasm_pending(r) != m->pending || out->count != m->out.count ||
	    out->hash != m->out.hash)
		abort();
	for (unsigned int s = 0; s < SOURCES; s++) {
		struct reasm_source src = source(s);

		if (reasm_has_partial(r, &src) != (m->held[s].have != 0))
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int64_t steps[4] = { 0, 100, 1900, 2000 };
	static struct model m;
	struct emitted out = { 0 };
	struct reasm *r = reasm_create(HELD_MAX, TIMEOUT_MS, real_emit, &out);
	const uint8_t *p = data, *end = data + size;
	int64_t now = 1700000000000;

	if (r == NULL)
		abort();
	memset(&m, 0, sizeof(m));
	while (end - p >= 2) {
		unsigned int op = p[0], s = op & 31;
		size_t len = p[1];
		struct reasm_source src = source(s);

		p += 2;
		if (len > (size_t)(end - p))
			len = (size_t)(end - p);
		now += steps[op >> 5 & 3];
		if ((op & 0x80) && reasm_expire(r, now) != model_expire(&m, now))
			abort();
		if (reasm_datagram(r, &src, now, p, len) !=
		    model_datagram(&m, s, now, p, p + len))
			abort();
		same(r, &m, &out);
		p += len;
	}
	if (reasm_expire(r, INT64_MAX) != model_expire(&m, INT64_MAX) ||
	    reasm_pending(r) != 0)
		abort();
	same(r, &m, &out);
	reasm_free(r);
	return 0;
}
