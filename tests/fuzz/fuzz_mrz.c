/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * libFuzzer target: the MRZ check of the data path (the vector path,
 * then the reference validator for what it declines) against the
 * reference parser, on any bytes. They must agree on the error bits and
 * the format, and on every field of a valid record, NUL padding
 * included: document keys are made of those bytes. Any disagreement
 * aborts, and libFuzzer keeps the input.
 *
 * The first input byte is a mode; the rest is the record. With bit 0
 * set, the check digits are recomputed once the shape is known, so that
 * a mutation of a date, a name or a code is not stopped by a check
 * digit but reaches the rules behind it, where the two paths differ
 * most.
 *
 * Random bytes almost never make a record the vector path accepts, so
 * three mutations in four are ours: one to three characters of the
 * record replaced by characters of the MRZ alphabet, which keeps the
 * shape of a valid seed and, mostly with repair, its check digits.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mrz.h"
#include "mrz_internal.h"

#define TEXT_MAX 512

/* A character of text, which l's lines point into. */
static char *
at(const struct mrz_lines *l, char *text, unsigned int line, unsigned int pos)
{
	return text + (l->line[line] - text) + pos;
}

/* Writes the check digit of the spans at the check position. */
static void
repair(const struct mrz_lines *l, char *text, const struct mrz_span *spans,
       unsigned int n, unsigned int check_line, unsigned int check_pos)
{
	char joined[4 * 44];
	size_t len = 0;

	for (unsigned int i = 0; i < n; i++) {
		memcpy(joined + len, at(l, text, spans[i].line, spans[i].start),
		       spans[i].len);
		len += spans[i].len;
	}
	if (len > 0)
		*at(l, text, check_line, check_pos) = mrz_check_digit(joined, len);
}

static void
repair_check_digits(char *text, size_t len)
{
	struct mrz_lines l;
	const struct mrz_layout *lay;
	enum mrz_format f;

	if (mrz_split_lines(text, len, &l) < 0 || l.count == 0 ||
	    mrz_detect_format(&l, &f) != 0)
		return;
	lay = &mrz_layouts[f];
	repair(&l, text, &lay->number, 1, lay->number.line, lay->number_check);
	repair(&l, text, &lay->birth, 1, lay->birth.line, lay->birth_check);
	repair(&l, text, &lay->expiry, 1, lay->birth.line, lay->expiry_check);
	if (lay->optional_check.len > 0)
		repair(&l, text, &lay->optional, 1, lay->optional_check.line,
		       lay->optional_check.start);
	if (lay->composite_segments > 0)
		repair(&l, text, lay->composite, lay->composite_segments,
		       lay->composite_check.line, lay->composite_check.start);
}

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);

/* xorshift: libFuzzer's seed decides every choice. */
static uint64_t
next_random(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

size_t
LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size,
			unsigned int seed)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<";
	uint64_t x = seed * UINT64_C(0x9e3779b97f4a7c15) + 1;
	unsigned int changes;

	if (size < 2 || next_random(&x) % 4 == 0)
		return LLVMFuzzerMutate(data, size, max_size);
	/* Mostly one character: a rule broken alone. */
	changes = next_random(&x) % 2 ? 1 : 2 + next_random(&x) % 2;
	for (unsigned int i = 0; i < changes; i++) {
		size_t pos = 1 + next_random(&x) % (size - 1);

		data[pos] = (uint8_t)alphabet[next_random(&x) % 37];
	}
	/* Mostly with the check digits repaired. */
	data[0] = next_random(&x) % 4 ? data[0] | 1 : data[0] & ~1;
	return size;
}

#define SAME(field) (memcmp(f.field, r.fields.field, sizeof(f.field)) == 0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[TEXT_MAX];
	struct mrz_fields f;
	struct mrz_record r;
	uint32_t fast, full;
	size_t len;

	if (size == 0 || size - 1 > sizeof(text))
		return 0;
	len = size - 1;
	memcpy(text, data + 1, len);
	if (data[0] & 1)
		repair_check_digits(text, len);

	fast = mrz_check(text, len, &f);
	full = mrz_parse(text, len, &r);
	if (fast != full || f.format != r.fields.format)
		abort();
	if (fast == 0 &&
	    !(SAME(document_code) && SAME(issuing_state) && SAME(nationality) &&
	      SAME(birth_date) && SAME(expiry_date) && SAME(document_number) &&
	      f.document_number_len == r.fields.document_number_len &&
	      f.sex == r.fields.sex))
		abort();
	return 0;
}
