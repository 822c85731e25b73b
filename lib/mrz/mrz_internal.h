/* SPDX-License-Identifier: BSD-3-Clause */

#ifndef MRZ_INTERNAL_H
#define MRZ_INTERNAL_H

/* Internal to lib/mrz: field layouts and the State code bitmap. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mrz.h"

/* Characters [start, start + len) of line `line`. */
struct mrz_span {
	uint8_t line;
	uint8_t start;
	uint8_t len;
};

/*
 * Check digit positions on the date line (that of birth) are plain
 * offsets; a zero-length span means the format has no such field.
 */
struct mrz_layout {
	uint8_t lines;
	uint8_t line_len;
	struct mrz_span code, state, name, nationality;
	struct mrz_span number;
	uint8_t number_check;		/* on the number's line */
	struct mrz_span birth, expiry;
	uint8_t birth_check, expiry_check, sex;
	struct mrz_span optional, optional_check, optional_2;
	struct mrz_span composite[4];
	uint8_t composite_segments;
	struct mrz_span composite_check;
};

extern const struct mrz_layout mrz_layouts[];

/* The lines of one record, pointing into the caller's buffer. */
struct mrz_lines {
	const char *line[3];
	size_t len[3];
	size_t count;
};

/* Splits a record into lines; -1 when it has more than three. */
int mrz_split_lines(const char *buf, size_t len, struct mrz_lines *lines);

/*
 * Decides the format from the shape of the lines and the first
 * character. Concatenated lines (no separator) are cut at the line
 * length their total implies. Returns 0, MRZ_ERR_LINE_LENGTH or
 * MRZ_ERR_FORMAT_UNKNOWN.
 */
uint32_t mrz_detect_format(struct mrz_lines *l, enum mrz_format *format);

/* The reference validator: every error bit, fields extracted. */
uint32_t mrz_validate_lines(struct mrz_lines *lines, struct mrz_fields *f);

/*
 * Issuing State / nationality codes, indexed by the low five bits of
 * each character: letters are 1-26 and '<' is 28 there, so the index of
 * a code of letters and fillers is a few shifts of its bytes.
 */
#define MRZ_STATE_SPACE (1 << 15)
extern uint64_t mrz_state_bitmap[MRZ_STATE_SPACE / 64];

/* Index of a code held in the low three bytes of w (memory order, on
 * a little-endian machine), each a letter or '<'. */
static inline __attribute__((always_inline)) unsigned int
mrz_state_index_of_word(uint32_t w)
{
	return (w & 0x1f) << 10 | (w >> 3 & 0x3e0) | (w >> 16 & 0x1f);
}

static inline __attribute__((always_inline)) bool
mrz_state_bit(unsigned int i)
{
	return (mrz_state_bitmap[i / 64] >> (i % 64)) & 1;
}

/* Index of a code that starts with a letter and goes on with letters or
 * '<', or -1. */
static inline __attribute__((always_inline)) int
mrz_state_index(const char code[3])
{
	unsigned int a = (unsigned char)code[0] - 'A';
	unsigned int b = (unsigned char)code[1] == '<' ? 26 :
		(unsigned char)code[1] - 'A';
	unsigned int c = (unsigned char)code[2] == '<' ? 26 :
		(unsigned char)code[2] - 'A';

	if (a > 25 || b > 26 || c > 26)
		return -1;
	return (int)mrz_state_index_of_word((unsigned char)code[0] |
					    (unsigned char)code[1] << 8 |
					    (uint32_t)(unsigned char)code[2] << 16);
}

static inline __attribute__((always_inline)) int
mrz_state_known(const char code[3])
{
	int i = mrz_state_index(code);

	return i >= 0 && mrz_state_bit((unsigned int)i);
}

#endif /* MRZ_INTERNAL_H */
