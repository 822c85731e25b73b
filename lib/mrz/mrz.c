/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * ICAO Doc 9303 MRZ validation. Positions below are 0-based C offsets;
 * docs/mrz.md maps them to the 1-based positions of the standard.
 *
 * The scalar validator here is the reference: it classifies every fault.
 * mrz_check() first tries the vector path of mrz_fast.c, which accepts
 * only records it has fully validated and hands everything else here.
 */

#include <stdbool.h>
#include <string.h>

#include "mrz.h"
#include "mrz_internal.h"

/* Character classes: bit 6 = in the MRZ alphabet, bits 0-5 = value. */
#define CHAR_VALID 0x40
#define D(c, v) [c] = CHAR_VALID | (v)
static const uint8_t char_class[256] = {
	D('<', 0),
	D('0', 0), D('1', 1), D('2', 2), D('3', 3), D('4', 4),
	D('5', 5), D('6', 6), D('7', 7), D('8', 8), D('9', 9),
	D('A', 10), D('B', 11), D('C', 12), D('D', 13), D('E', 14),
	D('F', 15), D('G', 16), D('H', 17), D('I', 18), D('J', 19),
	D('K', 20), D('L', 21), D('M', 22), D('N', 23), D('O', 24),
	D('P', 25), D('Q', 26), D('R', 27), D('S', 28), D('T', 29),
	D('U', 30), D('V', 31), D('W', 32), D('X', 33), D('Y', 34),
	D('Z', 35),
};
#undef D

static const uint8_t check_weights[3] = { 7, 3, 1 };

const struct mrz_layout mrz_layouts[] = {
	[MRZ_FORMAT_TD1] = {
		.lines = 3, .line_len = 30,
		.code = { 0, 0, 2 }, .state = { 0, 2, 3 },
		.number = { 0, 5, 9 }, .number_check = 14,
		.optional = { 0, 15, 15 },
		.birth = { 1, 0, 6 }, .birth_check = 6, .sex = 7,
		.expiry = { 1, 8, 6 }, .expiry_check = 14,
		.nationality = { 1, 15, 3 }, .optional_2 = { 1, 18, 11 },
		.composite = { { 0, 5, 25 }, { 1, 0, 7 }, { 1, 8, 7 },
			       { 1, 18, 11 } },
		.composite_segments = 4, .composite_check = { 1, 29, 1 },
		.name = { 2, 0, 30 },
	},
	[MRZ_FORMAT_TD2] = {
		.lines = 2, .line_len = 36,
		.code = { 0, 0, 2 }, .state = { 0, 2, 3 },
		.name = { 0, 5, 31 },
		.number = { 1, 0, 9 }, .number_check = 9,
		.nationality = { 1, 10, 3 },
		.birth = { 1, 13, 6 }, .birth_check = 19, .sex = 20,
		.expiry = { 1, 21, 6 }, .expiry_check = 27,
		.optional = { 1, 28, 7 },
		.composite = { { 1, 0, 10 }, { 1, 13, 7 }, { 1, 21, 14 } },
		.composite_segments = 3, .composite_check = { 1, 35, 1 },
	},
	[MRZ_FORMAT_TD3] = {
		.lines = 2, .line_len = 44,
		.code = { 0, 0, 2 }, .state = { 0, 2, 3 },
		.name = { 0, 5, 39 },
		.number = { 1, 0, 9 }, .number_check = 9,
		.nationality = { 1, 10, 3 },
		.birth = { 1, 13, 6 }, .birth_check = 19, .sex = 20,
		.expiry = { 1, 21, 6 }, .expiry_check = 27,
		.optional = { 1, 28, 14 }, .optional_check = { 1, 42, 1 },
		.composite = { { 1, 0, 10 }, { 1, 13, 7 }, { 1, 21, 22 } },
		.composite_segments = 3, .composite_check = { 1, 43, 1 },
	},
	[MRZ_FORMAT_MRVA] = {
		.lines = 2, .line_len = 44,
		.code = { 0, 0, 2 }, .state = { 0, 2, 3 },
		.name = { 0, 5, 39 },
		.number = { 1, 0, 9 }, .number_check = 9,
		.nationality = { 1, 10, 3 },
		.birth = { 1, 13, 6 }, .birth_check = 19, .sex = 20,
		.expiry = { 1, 21, 6 }, .expiry_check = 27,
		.optional = { 1, 28, 16 },
	},
	[MRZ_FORMAT_MRVB] = {
		.lines = 2, .line_len = 36,
		.code = { 0, 0, 2 }, .state = { 0, 2, 3 },
		.name = { 0, 5, 31 },
		.number = { 1, 0, 9 }, .number_check = 9,
		.nationality = { 1, 10, 3 },
		.birth = { 1, 13, 6 }, .birth_check = 19, .sex = 20,
		.expiry = { 1, 21, 6 }, .expiry_check = 27,
		.optional = { 1, 28, 8 },
	},
};

static const char *const error_names[MRZ_ERR_COUNT] = {
	"line_length", "charset", "format_unknown", "document_code_invalid",
	"issuing_state_invalid", "nationality_invalid", "name_invalid",
	"document_number_invalid", "document_number_check",
	"birth_date_check", "expiry_date_check", "optional_data_check",
	"composite_check", "birth_date_invalid", "expiry_date_invalid",
	"sex_invalid",
};

const char *
mrz_error_name(uint32_t error_bit)
{
	if (error_bit == 0 || (error_bit & (error_bit - 1)) != 0)
		return NULL;
	unsigned int i = (unsigned int)__builtin_ctz(error_bit);

	return i < MRZ_ERR_COUNT ? error_names[i] : NULL;
}

const char *
mrz_format_name(enum mrz_format format)
{
	switch (format) {
	case MRZ_FORMAT_TD1: return "TD1";
	case MRZ_FORMAT_TD2: return "TD2";
	case MRZ_FORMAT_TD3: return "TD3";
	case MRZ_FORMAT_MRVA: return "MRVA";
	case MRZ_FORMAT_MRVB: return "MRVB";
	default: return "unknown";
	}
}

int
mrz_char_value(unsigned char c)
{
	return char_class[c] & CHAR_VALID ? char_class[c] & 0x3f : -1;
}

static inline bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static inline bool
is_letter(char c)
{
	return c >= 'A' && c <= 'Z';
}

/*
 * Sum of values times the 7-3-1 weights, starting at weight index
 * *phase; *phase is advanced so that a composite continues across gaps.
 * Characters were checked against the alphabet before.
 */
static unsigned int
weighted_sum(const char *p, size_t n, unsigned int *phase)
{
	unsigned int sum = 0, k = *phase;

	for (size_t i = 0; i < n; i++) {
		sum += (char_class[(unsigned char)p[i]] & 0x3f) *
			check_weights[k];
		k = k == 2 ? 0 : k + 1;
	}
	*phase = k;
	return sum;
}

char
mrz_check_digit(const char *p, size_t n)
{
	unsigned int phase = 0;

	return (char)('0' + weighted_sum(p, n, &phase) % 10);
}

/* A check digit position holds a digit equal to the sum mod 10. */
static bool
check_digit_ok(const char *p, size_t n, char digit)
{
	unsigned int phase = 0;

	return is_digit(digit) &&
		weighted_sum(p, n, &phase) % 10 == (unsigned int)(digit - '0');
}

/* Lines end at CR, LF or CRLF; the last terminator is optional. */
int
mrz_split_lines(const char *buf, size_t len, struct mrz_lines *lines)
{
	size_t n = 0, start = 0, i = 0;

	while (i < len) {
		if (buf[i] != '\r' && buf[i] != '\n') {
			i++;
			continue;
		}
		if (n == 3)
			return -1;
		lines->line[n] = buf + start;
		lines->len[n++] = i - start;
		i += buf[i] == '\r' && i + 1 < len && buf[i + 1] == '\n' ? 2 : 1;
		start = i;
	}
	if (start < len || n == 0) {
		if (n == 3)
			return -1;
		lines->line[n] = buf + start;
		lines->len[n++] = len - start;
	}
	lines->count = n;
	return 0;
}

/*
 * The format of a record of a valid shape: TD1 by its three lines, the
 * others by their first letter.
 */
static inline enum mrz_format
format_of(size_t line_count, size_t line_len, char first)
{
	if (line_count == 3)
		return MRZ_FORMAT_TD1;
	if (first == 'V')
		return line_len == 44 ? MRZ_FORMAT_MRVA : MRZ_FORMAT_MRVB;
	if (line_len == 44 && first == 'P')
		return MRZ_FORMAT_TD3;
	if (line_len == 36 && (first == 'A' || first == 'C' || first == 'I'))
		return MRZ_FORMAT_TD2;
	return MRZ_FORMAT_UNKNOWN;
}

uint32_t
mrz_detect_format(struct mrz_lines *l, enum mrz_format *format)
{
	size_t line_len = 0;

	*format = MRZ_FORMAT_UNKNOWN;
	if (l->count == 1) {
		size_t total = l->len[0];

		if (total != 90 && total != 72 && total != 88)
			return MRZ_ERR_LINE_LENGTH;
		line_len = total == 90 ? 30 : total / 2;
		l->count = total / line_len;
		for (size_t i = 0; i < l->count; i++) {
			l->line[i] = l->line[0] + i * line_len;
			l->len[i] = line_len;
		}
	}
	line_len = l->len[0];
	for (size_t i = 1; i < l->count; i++)
		if (l->len[i] != line_len)
			return MRZ_ERR_LINE_LENGTH;
	if (!(l->count == 3 && line_len == 30) &&
	    !(l->count == 2 && (line_len == 36 || line_len == 44)))
		return MRZ_ERR_LINE_LENGTH;

	*format = format_of(l->count, line_len, l->line[0][0]);
	return *format == MRZ_FORMAT_UNKNOWN ? MRZ_ERR_FORMAT_UNKNOWN : 0;
}

static inline const char *
at(const struct mrz_lines *l, struct mrz_span s)
{
	return l->line[s.line] + s.start;
}

/*
 * Copies a field without its trailing fillers, NUL-padded to n + 1
 * bytes; returns its length. The whole field is copied first: a copy of
 * constant size compiles to a few moves, one of the trimmed size to a
 * slow string instruction.
 */
static inline __attribute__((always_inline)) size_t
copy_trimmed(char *dst, const char *src, size_t n)
{
	memcpy(dst, src, n);
	dst[n] = '\0';
	while (n > 0 && dst[n - 1] == '<')
		dst[--n] = '\0';
	return n;
}

static inline bool
document_code_ok(enum mrz_format format, const char *code)
{
	char second = code[1];

	if (!is_letter(second) && second != '<')
		return false;
	switch (format) {
	case MRZ_FORMAT_TD1:
		/* TD1 is told by its line count, so check the first letter. */
		if (code[0] != 'A' && code[0] != 'C' && code[0] != 'I')
			return false;
		return second != 'V' && !(code[0] == 'A' && second == 'I');
	case MRZ_FORMAT_TD2:
		return second != 'V' && !(code[0] == 'A' && second == 'C');
	default:
		return true;
	}
}

/*
 * A name field: primary identifier, optionally "<<" and the secondary
 * identifier, components joined by single fillers, filler padding.
 */
static bool
name_ok(const char *p, size_t n)
{
	unsigned int separators = 0;

	while (n > 0 && p[n - 1] == '<')
		n--;
	if (n == 0 || p[0] == '<')
		return false;
	for (size_t i = 0; i < n; i++) {
		if (is_digit(p[i]))
			return false;
		if (p[i] == '<' && p[i + 1] == '<') {
			if (p[i + 2] == '<' || ++separators > 1)
				return false;
			i++;
		}
	}
	return true;
}

static inline int
two_digits(const char *p)
{
	return is_digit(p[0]) && is_digit(p[1]) ?
		(p[0] - '0') * 10 + (p[1] - '0') : -1;
}

/*
 * A YYMMDD date known to be six digits that exists in the calendar. The
 * digits are paired in a word, ten times the first plus the second, so
 * that YY, MM and DD come out of one multiply. The century is not
 * printed; 00 counts as a leap year.
 */
static inline bool
digits_date_ok(const char *p)
{
	static const uint8_t days[16] = {
		0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};
	uint64_t w = 0, pairs;
	unsigned int yy, mm, dd;

	memcpy(&w, p, 6);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	w = __builtin_bswap64(w) >> 16;
#endif
	pairs = (w & UINT64_C(0x0f000f000f)) * 10 +
		(w >> 8 & UINT64_C(0x0f000f000f));
	yy = (unsigned int)(pairs & 0xff);
	mm = (unsigned int)(pairs >> 16 & 0xff);
	dd = (unsigned int)(pairs >> 32 & 0xff);
	return mm < 16 &&
		dd - 1 < days[mm] - (unsigned int)(mm == 2 && (yy & 3) != 0);
}

/* A full YYMMDD date that exists in the calendar. */
static inline bool
date_ok(const char *p)
{
	for (int i = 0; i < 6; i++)
		if (!is_digit(p[i]))
			return false;
	return digits_date_ok(p);
}

/* A birth date may have unknown parts: YYMM<<, YY<<<< or <<<<<<. */
static inline bool
birth_date_ok(const char *p)
{
	if (memcmp(p, "<<<<<<", 6) == 0)
		return true;
	if (memcmp(p + 2, "<<<<", 4) == 0)
		return two_digits(p) >= 0;
	if (memcmp(p + 4, "<<", 2) == 0) {
		int mm = two_digits(p + 2);

		return two_digits(p) >= 0 && mm >= 1 && mm <= 12;
	}
	return date_ok(p);
}

/*
 * TD1/TD2 long document number: '<' in the check position, the rest of
 * the number first in the optional data, then its check digit and '<'.
 * The check digit leaves out the '<' (ICAO); older Belgian and
 * Portuguese cards include it, which our policy accepts too.
 */
static uint32_t
long_number(const struct mrz_lines *l, const struct mrz_layout *lay,
	    struct mrz_fields *f)
{
	const char *principal = at(l, lay->number);
	const char *overflow = at(l, lay->optional);
	/* Overflow + check digit + '<' must fit in the optional data. */
	size_t room = lay->optional.len, end = 0;

	if (memchr(principal, '<', lay->number.len) != NULL)
		return MRZ_ERR_DOCUMENT_NUMBER_INVALID;
	while (end < room && overflow[end] != '<')
		end++;
	if (end < 2 || end == room || !is_digit(overflow[end - 1]))
		return MRZ_ERR_DOCUMENT_NUMBER_INVALID;

	size_t overflow_len = end - 1;
	unsigned int phase = 0, strict, with_filler;

	strict = weighted_sum(principal, lay->number.len, &phase);
	with_filler = strict;
	strict += weighted_sum(overflow, overflow_len, &phase);
	phase = (lay->number.len + 1) % 3;
	with_filler += weighted_sum(overflow, overflow_len, &phase);

	memcpy(f->document_number, principal, lay->number.len);
	memcpy(f->document_number + lay->number.len, overflow, overflow_len);
	f->document_number_len = (uint8_t)(lay->number.len + overflow_len);
	f->document_number[f->document_number_len] = '\0';

	unsigned int digit = (unsigned int)(overflow[end - 1] - '0');

	return strict % 10 == digit || with_filler % 10 == digit ?
		0 : MRZ_ERR_DOCUMENT_NUMBER_CHECK;
}

static uint32_t
document_number(const struct mrz_lines *l, const struct mrz_layout *lay,
		enum mrz_format format, struct mrz_fields *f)
{
	const char *number = at(l, lay->number);
	char check = l->line[lay->number.line][lay->number_check];

	if (check == '<' &&
	    (format == MRZ_FORMAT_TD1 || format == MRZ_FORMAT_TD2))
		return long_number(l, lay, f);

	f->document_number_len =
		(uint8_t)copy_trimmed(f->document_number, number, lay->number.len);
	/* A number of fillers only would make every such document one. */
	if (f->document_number_len == 0)
		return MRZ_ERR_DOCUMENT_NUMBER_INVALID;
	return check_digit_ok(number, lay->number.len, check) ?
		0 : MRZ_ERR_DOCUMENT_NUMBER_CHECK;
}

static uint32_t
composite(const struct mrz_lines *l, const struct mrz_layout *lay)
{
	unsigned int phase = 0, sum = 0;
	char check = *at(l, lay->composite_check);

	if (lay->composite_segments == 0)
		return 0;
	for (unsigned int i = 0; i < lay->composite_segments; i++)
		sum += weighted_sum(at(l, lay->composite[i]),
				    lay->composite[i].len, &phase);
	return is_digit(check) && sum % 10 == (unsigned int)(check - '0') ?
		0 : MRZ_ERR_COMPOSITE_CHECK;
}

/* TD3 personal number: its check digit may be '<' when it is empty. */
static uint32_t
optional_data(const struct mrz_lines *l, const struct mrz_layout *lay)
{
	const char *data = at(l, lay->optional);
	char check;

	if (lay->optional_check.len == 0)
		return 0;
	check = *at(l, lay->optional_check);
	if (check == '<') {
		for (size_t i = 0; i < lay->optional.len; i++)
			if (data[i] != '<')
				return MRZ_ERR_OPTIONAL_DATA_CHECK;
		return 0;
	}
	return check_digit_ok(data, lay->optional.len, check) ?
		0 : MRZ_ERR_OPTIONAL_DATA_CHECK;
}

static uint32_t
validate_fields(const struct mrz_lines *l, enum mrz_format format,
		struct mrz_fields *f)
{
	const struct mrz_layout *lay = &mrz_layouts[format];
	const char *date_line = l->line[lay->birth.line];
	uint32_t errors = 0;

	if (!document_code_ok(format, at(l, lay->code)))
		errors |= MRZ_ERR_DOCUMENT_CODE_INVALID;
	if (!mrz_state_known(at(l, lay->state)))
		errors |= MRZ_ERR_ISSUING_STATE_INVALID;
	if (!mrz_state_known(at(l, lay->nationality)))
		errors |= MRZ_ERR_NATIONALITY_INVALID;
	if (!name_ok(at(l, lay->name), lay->name.len))
		errors |= MRZ_ERR_NAME_INVALID;
	errors |= document_number(l, lay, format, f);
	if (!check_digit_ok(at(l, lay->birth), 6, date_line[lay->birth_check]))
		errors |= MRZ_ERR_BIRTH_DATE_CHECK;
	if (!birth_date_ok(at(l, lay->birth)))
		errors |= MRZ_ERR_BIRTH_DATE_INVALID;
	if (f->sex != 'M' && f->sex != 'F' && f->sex != '<' && f->sex != 'X')
		errors |= MRZ_ERR_SEX_INVALID;
	if (!check_digit_ok(at(l, lay->expiry), 6,
			    date_line[lay->expiry_check]))
		errors |= MRZ_ERR_EXPIRY_DATE_CHECK;
	if (!date_ok(at(l, lay->expiry)))
		errors |= MRZ_ERR_EXPIRY_DATE_INVALID;
	errors |= optional_data(l, lay);
	errors |= composite(l, lay);
	return errors;
}

/* Copies the fixed-position fields the data path uses. */
static inline __attribute__((always_inline)) void
extract_fields(const struct mrz_lines *l, const struct mrz_layout *lay,
	       struct mrz_fields *f)
{
	copy_trimmed(f->document_code, at(l, lay->code), 2);
	copy_trimmed(f->issuing_state, at(l, lay->state), 3);
	copy_trimmed(f->nationality, at(l, lay->nationality), 3);
	memcpy(f->birth_date, at(l, lay->birth), 6);
	f->birth_date[6] = '\0';
	memcpy(f->expiry_date, at(l, lay->expiry), 6);
	f->expiry_date[6] = '\0';
	f->sex = l->line[lay->birth.line][lay->sex];
	memset(f->document_number + lay->number.len, 0,
	       sizeof(f->document_number) - lay->number.len);
	f->document_number_len = (uint8_t)copy_trimmed(
		f->document_number, at(l, lay->number), lay->number.len);
}

uint32_t
mrz_validate_lines(struct mrz_lines *l, struct mrz_fields *f)
{
	enum mrz_format format;
	uint32_t errors;

	memset(f, 0, sizeof(*f));
	errors = mrz_detect_format(l, &format);
	if (errors & MRZ_ERR_LINE_LENGTH)
		return errors;
	for (size_t i = 0; i < l->count; i++)
		for (size_t j = 0; j < l->len[i]; j++)
			if (!(char_class[(unsigned char)l->line[i][j]] &
			      CHAR_VALID)) {
				errors |= MRZ_ERR_CHARSET;
				break;
			}
	f->format = format;
	if (format == MRZ_FORMAT_UNKNOWN)
		return errors;
	extract_fields(l, &mrz_layouts[format], f);
	/* Check digits are not computed over characters outside the set. */
	if (errors & MRZ_ERR_CHARSET)
		return errors;
	return validate_fields(l, format, f);
}

/* Fillers to single spaces, leading and trailing ones dropped. */
static void
copy_name_part(char *dst, const char *src, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		if (src[i] != '<')
			dst[o++] = src[i];
		else if (o > 0 && dst[o - 1] != ' ')
			dst[o++] = ' ';
	}
	while (o > 0 && dst[o - 1] == ' ')
		o--;
	dst[o] = '\0';
}

static void
extract_names(const struct mrz_lines *l, const struct mrz_layout *lay,
	      struct mrz_record *r)
{
	const char *name = at(l, lay->name);
	size_t n = lay->name.len, split = n;

	for (size_t i = 0; i + 1 < n; i++)
		if (name[i] == '<' && name[i + 1] == '<') {
			split = i;
			break;
		}
	copy_name_part(r->surname, name, split);
	if (split < n)
		copy_name_part(r->given_names, name + split, n - split);
	else
		r->given_names[0] = '\0';
}

static void
extract_optional(const struct mrz_lines *l, const struct mrz_layout *lay,
		 struct mrz_record *r)
{
	const char *data = at(l, lay->optional);
	size_t n = lay->optional.len;

	/* A long document number fills the start of the optional data. */
	if (r->fields.document_number_len > lay->number.len) {
		size_t used = r->fields.document_number_len -
			lay->number.len + 2;

		data += used;
		n -= used;
	}
	copy_trimmed(r->optional_data, data, n);
	if (lay->optional_2.len > 0)
		copy_trimmed(r->optional_data_2, at(l, lay->optional_2),
			     lay->optional_2.len);
	else
		r->optional_data_2[0] = '\0';
}

uint32_t
mrz_parse(const char *buf, size_t len, struct mrz_record *r)
{
	struct mrz_lines l;
	uint32_t errors;

	memset(r, 0, sizeof(*r));
	if (mrz_split_lines(buf, len, &l) < 0)
		return MRZ_ERR_LINE_LENGTH;
	errors = mrz_validate_lines(&l, &r->fields);
	if (r->fields.format != MRZ_FORMAT_UNKNOWN) {
		const struct mrz_layout *lay = &mrz_layouts[r->fields.format];

		extract_names(&l, lay, r);
		extract_optional(&l, lay, r);
	}
	return errors;
}

/*
 * The vector path. It handles the records real traffic is made of and
 * accepts only what it has fully validated; a record it cannot decide
 * (any fault, a long document number, an odd shape) goes to the
 * reference validator above, which classifies it. Tests check that the
 * two agree on every input.
 */
#ifdef __SSSE3__
#include <tmmintrin.h>

/* The check digit sums of a format, computed side by side. */
enum fast_sum {
	SUM_NUMBER, SUM_BIRTH, SUM_EXPIRY, SUM_OPTIONAL, SUM_COMPOSITE,
	SUM_COUNT
};

/*
 * A line is read as 16-byte chunks at 0, 16 and line_len - 16, which
 * overlap instead of reading past the line; each position is weighted
 * in the first chunk that holds it only.
 */
struct fast_layout {
	int8_t weights[3][3][SUM_COUNT][16];
	/* pshufb indices that move each sum's check character to the low
	 * byte of 16-bit lane s, from the first chunk that holds it. */
	int8_t check_pick[3][3][16];
	/* pshufb indices that gather the birth date's digits into bytes
	 * 0-5 and the expiry date's into bytes 8-13, per chunk of the
	 * date line. */
	int8_t date_pick[3][16];
};

static inline unsigned int
chunk_count(const struct mrz_layout *lay)
{
	return lay->line_len > 32 ? 3 : 2;
}

static inline unsigned int
chunk_start(const struct mrz_layout *lay, unsigned int c)
{
	return c + 1 < chunk_count(lay) ? 16 * c : lay->line_len - 16u;
}

/* Check digit sums run over the number's and the dates' lines only. */
static inline bool
line_has_sums(const struct mrz_layout *lay, unsigned int line)
{
	return line == lay->number.line || line == lay->birth.line;
}

static inline bool
span_in_chunk(const struct mrz_layout *lay, struct mrz_span s,
	      unsigned int line, unsigned int c)
{
	unsigned int from = c == 0 ? 0 : chunk_start(lay, c - 1) + 16;

	return s.len > 0 && s.line == line && s.start < chunk_start(lay, c) + 16 &&
		s.start + s.len > from;
}

/*
 * Whether a sum has non-zero weights in a chunk. With a constant layout
 * this folds away, so only the multiply-adds that count are emitted.
 */
static inline bool
sum_in_chunk(const struct mrz_layout *lay, enum fast_sum sum,
	     unsigned int line, unsigned int c)
{
	switch (sum) {
	case SUM_NUMBER:
		return span_in_chunk(lay, lay->number, line, c);
	case SUM_BIRTH:
		return span_in_chunk(lay, lay->birth, line, c);
	case SUM_EXPIRY:
		return span_in_chunk(lay, lay->expiry, line, c);
	case SUM_OPTIONAL:
		return lay->optional_check.len > 0 &&
			span_in_chunk(lay, lay->optional, line, c);
	default:
		for (unsigned int i = 0; i < lay->composite_segments; i++)
			if (span_in_chunk(lay, lay->composite[i], line, c))
				return true;
		return false;
	}
}

/* Where a sum's check character is: false when the format has none. */
static inline bool
check_position(const struct mrz_layout *lay, enum fast_sum sum,
	       unsigned int *line, unsigned int *pos)
{
	switch (sum) {
	case SUM_NUMBER:
		*line = lay->number.line;
		*pos = lay->number_check;
		return true;
	case SUM_BIRTH:
	case SUM_EXPIRY:
		*line = lay->birth.line;
		*pos = sum == SUM_BIRTH ? lay->birth_check : lay->expiry_check;
		return true;
	case SUM_OPTIONAL:
		*line = lay->optional_check.line;
		*pos = lay->optional_check.start;
		return lay->optional_check.len > 0;
	default:
		*line = lay->composite_check.line;
		*pos = lay->composite_check.start;
		return lay->composite_segments > 0;
	}
}

/* The chunk of a line that a position is taken from: the first. */
static inline unsigned int
chunk_of(const struct mrz_layout *lay, unsigned int pos)
{
	unsigned int c = 0;

	while (c + 1 < chunk_count(lay) && pos >= chunk_start(lay, c) + 16)
		c++;
	return c;
}

static inline bool
check_in_chunk(const struct mrz_layout *lay, enum fast_sum sum,
	       unsigned int line, unsigned int c)
{
	unsigned int l, pos;

	return check_position(lay, sum, &l, &pos) && l == line &&
		chunk_of(lay, pos) == c;
}

/* Whether a chunk of the date line is the first to hold a date digit. */
static inline bool
date_in_chunk(const struct mrz_layout *lay, unsigned int c)
{
	for (unsigned int k = 0; k < 6; k++)
		if (chunk_of(lay, lay->birth.start + k) == c ||
		    chunk_of(lay, lay->expiry.start + k) == c)
			return true;
	return false;
}

/* Bits of _mm_movemask_epi8 for the 16-bit lanes of the sums a format
 * has: two bits per lane. */
static inline unsigned int
sum_lanes(const struct mrz_layout *lay)
{
	unsigned int lanes = 0, line, pos;

	for (int s = 0; s < SUM_COUNT; s++)
		if (check_position(lay, (enum fast_sum)s, &line, &pos))
			lanes |= 3u << (2 * s);
	return lanes;
}

static struct fast_layout fast_layouts[MRZ_FORMAT_MRVB + 1];

static void
set_weights(const struct mrz_layout *lay, struct fast_layout *fl,
	    enum fast_sum sum, struct mrz_span s, unsigned int *phase)
{
	for (unsigned int pos = s.start; pos < s.start + s.len; pos++) {
		unsigned int c = chunk_of(lay, pos);

		fl->weights[s.line][c][sum][pos - chunk_start(lay, c)] =
			(int8_t)check_weights[*phase];
		*phase = (*phase + 1) % 3;
	}
}

/* Weights derive from mrz_layouts, so the layout is written once. */
__attribute__((constructor)) static void
build_fast_layouts(void)
{
	for (int f = MRZ_FORMAT_TD1; f <= MRZ_FORMAT_MRVB; f++) {
		const struct mrz_layout *lay = &mrz_layouts[f];
		struct fast_layout *fl = &fast_layouts[f];
		unsigned int phase;

		phase = 0;
		set_weights(lay, fl, SUM_NUMBER, lay->number, &phase);
		phase = 0;
		set_weights(lay, fl, SUM_BIRTH, lay->birth, &phase);
		phase = 0;
		set_weights(lay, fl, SUM_EXPIRY, lay->expiry, &phase);
		phase = 0;
		if (lay->optional_check.len > 0)
			set_weights(lay, fl, SUM_OPTIONAL, lay->optional, &phase);
		phase = 0;
		for (unsigned int i = 0; i < lay->composite_segments; i++)
			set_weights(lay, fl, SUM_COMPOSITE, lay->composite[i],
				    &phase);
		memset(fl->date_pick, 0x80, sizeof(fl->date_pick));
		for (unsigned int k = 0; k < 6; k++) {
			unsigned int b = lay->birth.start + k;
			unsigned int e = lay->expiry.start + k;

			fl->date_pick[chunk_of(lay, b)][k] =
				(int8_t)(b - chunk_start(lay, chunk_of(lay, b)));
			fl->date_pick[chunk_of(lay, e)][8 + k] =
				(int8_t)(e - chunk_start(lay, chunk_of(lay, e)));
		}
		memset(fl->check_pick, 0x80, sizeof(fl->check_pick));
		for (int s = 0; s < SUM_COUNT; s++) {
			unsigned int line, pos, c;

			if (!check_position(lay, (enum fast_sum)s, &line, &pos))
				continue;
			c = chunk_of(lay, pos);
			fl->check_pick[line][c][2 * s] =
				(int8_t)(pos - chunk_start(lay, c));
		}
	}
}

static inline bool
is_terminator(char c)
{
	return c == '\r' || c == '\n';
}

/*
 * Guesses the shape from where the first terminator can be. A wrong
 * guess puts a terminator inside a line, which the charset check then
 * rejects, so a guess is never trusted unchecked. Only the usual shapes
 * are taken: every line ends with the same separator (CR, LF or CRLF),
 * the last one optionally; or the lines are concatenated. Anything else
 * is the reference's to split.
 */
static bool
fast_split(const char *buf, size_t len, struct mrz_lines *l,
	   enum mrz_format *format)
{
	size_t line_len, sep, stride, count, body;

	/* Passports (44) first. A terminator where one shape's line ends
	 * is inside a line of the others, so the order decides no
	 * verdict, only how soon the usual shape is found. */
	if (len > 44 && is_terminator(buf[44]))
		line_len = 44;
	else if (len > 30 && is_terminator(buf[30]))
		line_len = 30;
	else if (len > 36 && is_terminator(buf[36]))
		line_len = 36;
	else if (len == 90 || len == 72 || len == 88)
		line_len = len == 90 ? 30 : len / 2;
	else
		return false;
	count = line_len == 30 ? 3 : 2;
	sep = len == count * line_len ? 0 :
		buf[line_len] == '\r' && line_len + 1 < len &&
		buf[line_len + 1] == '\n' ? 2 : 1;
	stride = line_len + sep;
	body = count * stride - sep;
	if (len != body && len != body + sep)
		return false;
	/* The separators the guess did not look at: the second of three
	 * lines', and the last line's. */
	for (size_t end = 2 * stride - sep; sep != 0 && end < len; end += stride)
		if (buf[end] != buf[line_len] ||
		    (sep == 2 && buf[end + 1] != '\n'))
			return false;
	/* The validators take lengths and count from the format's layout:
	 * only the line starts are set. */
	for (size_t i = 0; i < count; i++)
		l->line[i] = buf + i * stride;
	*format = format_of(count, line_len, buf[0]);
	return *format != MRZ_FORMAT_UNKNOWN;
}

/* Per line, one bit per character. */
struct line_masks {
	uint64_t valid, digit, filler;
};

static inline uint64_t
span_bits(uint64_t bits, struct mrz_span s)
{
	return (bits >> s.start) & ((UINT64_C(1) << s.len) - 1);
}

/* Name rules of name_ok(), on the line's filler and digit masks. */
static inline bool
fast_name_ok(uint64_t line_fillers, struct mrz_span s)
{
	uint64_t all = (UINT64_C(1) << s.len) - 1;
	uint64_t fill = span_bits(line_fillers, s);
	uint64_t content = ~fill & all, pairs;

	/* Names sit on lines the caller has checked to hold no digit. */
	if (content == 0 || (fill & 1))
		return false;
	/* Trailing padding is not part of the name. */
	fill &= (UINT64_C(2) << (63 - __builtin_clzll(content))) - 1;
	pairs = fill & (fill >> 1);
	return (pairs & (fill >> 2)) == 0 && __builtin_popcountll(pairs) <= 1;
}

/*
 * Characters of a field up to its last non-filler, from its n filler
 * bits: n less the leading ones of the mask. Fields that reach here
 * hold a non-filler (codes start with a letter, an all-filler number is
 * refused), so the count is never 0.
 */
static inline __attribute__((always_inline)) unsigned int
trimmed_len(uint64_t fill, unsigned int n)
{
	return n - (unsigned int)__builtin_clzll(~(fill << (64 - n)));
}

/* The low len bytes of a word, 1 <= len <= 8, without a branch. */
static inline __attribute__((always_inline)) uint64_t
low_bytes(unsigned int len)
{
	return (UINT64_C(2) << (8 * len - 1)) - 1;
}

static inline __attribute__((always_inline)) uint64_t
load64(const char *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

/*
 * A code of two or three characters into its array of size bytes,
 * trimmed and NUL-padded as copy_trimmed() does, from the filler mask
 * instead of a loop. Reads up to a character past the field: codes never
 * end a line. Words are little-endian: this path is x86 only.
 */
static inline __attribute__((always_inline)) void
put_code(char *dst, size_t size, const char *src, unsigned int n,
	 uint64_t fill)
{
	/* The bytes to keep by the filler bits of three characters: up
	 * to the last that is not a filler. A two-character code reads
	 * as three with a filler last. */
	static const uint32_t keep[8] = {
		0xffffff, 0xffffff, 0xffffff, 0xffffff, 0xffff, 0xffff, 0xff, 0
	};
	uint32_t w;

	memcpy(&w, src, 4);
	w &= keep[fill | ((7u << n) & 7)];
	memcpy(dst, &w, size);
}

/* The document number (9 to 16 characters) likewise. */
static inline __attribute__((always_inline)) unsigned int
put_number(char dst[MRZ_DOCUMENT_NUMBER_MAX + 1], const char *src,
	   unsigned int n, uint64_t fill)
{
	unsigned int len = trimmed_len(fill, n);
	uint64_t w0 = load64(src) & low_bytes(len < 8 ? len : 8);
	uint64_t w1 = load64(src + n - 8) >> (8 * (16 - n));
	uint64_t zero = 0;

	w1 = len > 8 ? w1 & low_bytes(len - 8) : 0;
	memcpy(dst, &w0, 8);
	memcpy(dst + 8, &w1, 8);
	memcpy(dst + MRZ_DOCUMENT_NUMBER_MAX + 1 - 8, &zero, 8);
	return len;
}

/* A State code by its index, once the line masks show it holds no
 * digit (letters and fillers only). Reads a character past the code:
 * codes never end a line. */
static inline __attribute__((always_inline)) bool
fast_state_known(const struct line_masks *m, const struct mrz_lines *l,
		 struct mrz_span s)
{
	uint32_t w;

	memcpy(&w, at(l, s), 4);
	return span_bits(m[s.line].digit, s) == 0 &&
		mrz_state_bit(mrz_state_index_of_word(w));
}

/*
 * Both dates at once, digits_date_ok() in vector form: the twelve digit
 * values in bytes 0-5 and 8-13 become YY, MM, DD in 16-bit lanes 0-2
 * and 4-6, and each date's verdict lands in its DD lane.
 */
static inline __attribute__((always_inline)) bool
fast_dates_ok(__m128i digits)
{
	const __m128i zero = _mm_setzero_si128();
	const __m128i days = _mm_setr_epi8(0, 31, 29, 31, 30, 31, 30, 31,
					   31, 30, 31, 30, 31, 0, 0, 0);
	__m128i v = _mm_maddubs_epi16(digits, _mm_set1_epi16(0x010a));
	__m128i dd = v;
	__m128i mm = _mm_slli_si128(v, 2);
	__m128i yy = _mm_slli_si128(v, 4);
	/* Months 1-12; a lane's high byte indexes days[0], which is 0. */
	__m128i month_ok = _mm_and_si128(_mm_cmpgt_epi16(mm, zero),
		_mm_cmplt_epi16(mm, _mm_set1_epi16(13)));
	__m128i common_feb = _mm_andnot_si128(
		_mm_cmpeq_epi16(_mm_and_si128(yy, _mm_set1_epi16(3)), zero),
		_mm_cmpeq_epi16(mm, _mm_set1_epi16(2)));
	__m128i last = _mm_add_epi16(_mm_shuffle_epi8(days, mm), common_feb);
	__m128i day_ok = _mm_andnot_si128(_mm_cmpgt_epi16(dd, last),
		_mm_cmpgt_epi16(dd, zero));

	return (_mm_movemask_epi8(_mm_and_si128(month_ok, day_ok)) & 0x3030) ==
		0x3030;
}

/*
 * Inlined once per format with a constant format, so that the compiler
 * unrolls the chunk loops and folds the layout into constants. Fills f
 * when the record is valid.
 */
static inline __attribute__((always_inline)) bool
fast_validate(const struct mrz_lines *l, enum mrz_format format,
	      struct mrz_fields *f)
{
	const struct mrz_layout *lay = &mrz_layouts[format];
	const struct fast_layout *fl = &fast_layouts[format];
	const __m128i zero = _mm_setzero_si128();
	__m128i acc[SUM_COUNT] = { zero, zero, zero, zero, zero };
	__m128i checks = zero, dates = zero;
	struct line_masks m[3];
	uint64_t line_bits = (UINT64_C(1) << lay->line_len) - 1;

	/* Unrolled, so that every layout test below is a constant. */
#pragma GCC unroll 3
	for (unsigned int i = 0; i < lay->lines; i++) {
		m[i].valid = m[i].digit = m[i].filler = 0;
#pragma GCC unroll 3
		for (unsigned int c = 0; c < chunk_count(lay); c++) {
			__m128i ch = _mm_loadu_si128((const __m128i *)
				(const void *)(l->line[i] + chunk_start(lay, c)));
			__m128i a = _mm_sub_epi8(ch, _mm_set1_epi8('A'));
			__m128i is_letter = _mm_cmpeq_epi8(
				_mm_min_epu8(a, _mm_set1_epi8(25)), a);
			__m128i is_filler = _mm_cmpeq_epi8(ch,
				_mm_set1_epi8('<'));
			__m128i valid = _mm_or_si128(is_letter, is_filler);
			unsigned int shift = chunk_start(lay, c);

			m[i].filler |= (uint64_t)_mm_movemask_epi8(is_filler)
				<< shift;
			/*
			 * A line without check digits (code, State, name)
			 * has no digits either: one class suffices there.
			 */
			if (!line_has_sums(lay, i)) {
				m[i].valid |= (uint64_t)_mm_movemask_epi8(valid)
					<< shift;
				continue;
			}

			__m128i d = _mm_sub_epi8(ch, _mm_set1_epi8('0'));
			__m128i is_digit = _mm_cmpeq_epi8(
				_mm_min_epu8(d, _mm_set1_epi8(9)), d);
			__m128i value = _mm_or_si128(
				_mm_and_si128(d, is_digit),
				_mm_and_si128(_mm_add_epi8(a, _mm_set1_epi8(10)),
					      is_letter));
			const int8_t (*w)[16] = fl->weights[i][c];

			m[i].valid |= (uint64_t)_mm_movemask_epi8(
				_mm_or_si128(valid, is_digit)) << shift;
			m[i].digit |= (uint64_t)_mm_movemask_epi8(is_digit)
				<< shift;
			bool picks = false;
#pragma GCC unroll 5
			for (int s = 0; s < SUM_COUNT; s++)
				picks |= check_in_chunk(lay, (enum fast_sum)s, i, c);
			if (picks)
				checks = _mm_or_si128(checks, _mm_shuffle_epi8(d,
					_mm_loadu_si128((const __m128i *)(const void *)
						fl->check_pick[i][c])));
			if (i == lay->birth.line && date_in_chunk(lay, c))
				dates = _mm_or_si128(dates, _mm_shuffle_epi8(d,
					_mm_loadu_si128((const __m128i *)(const void *)
						fl->date_pick[c])));
#pragma GCC unroll 5
			for (int s = 0; s < SUM_COUNT; s++)
				if (sum_in_chunk(lay, (enum fast_sum)s, i, c))
					acc[s] = _mm_add_epi16(acc[s],
						_mm_maddubs_epi16(value,
							_mm_loadu_si128((const __m128i *)
								(const void *)w[s])));
		}
		if (m[i].valid != line_bits)
			return false;
	}

	/* Three rounds of pairwise adds leave sum s in 16-bit lane s. */
	__m128i h = _mm_hadd_epi16(
		_mm_hadd_epi16(_mm_hadd_epi16(acc[0], acc[1]),
			       _mm_hadd_epi16(acc[2], acc[3])),
		_mm_hadd_epi16(_mm_hadd_epi16(acc[4], zero), zero));
	/* Each sum mod 10 (x / 10 is x * 0xcccd >> 19 for 16-bit x) against
	 * its check character less '0', which is 0-9 for a digit only. */
	__m128i tenths = _mm_srli_epi16(_mm_mulhi_epu16(h,
		_mm_set1_epi16((short)0xcccd)), 3);
	__m128i rem = _mm_sub_epi16(h, _mm_mullo_epi16(tenths,
		_mm_set1_epi16(10)));
	unsigned int wrong = ~(unsigned int)_mm_movemask_epi8(
		_mm_cmpeq_epi16(rem, checks)) & sum_lanes(lay);

	const struct line_masks *nl = &m[lay->number.line];
	const struct line_masks *dl = &m[lay->birth.line];
	const char *date_line = l->line[lay->birth.line];

	/* An empty optional field may have '<' for its check digit. */
	if (lay->optional_check.len > 0 && wrong == 3u << (2 * SUM_OPTIONAL) &&
	    *at(l, lay->optional_check) == '<' &&
	    span_bits(m[lay->optional.line].filler, lay->optional) ==
	    (UINT64_C(1) << lay->optional.len) - 1)
		wrong = 0;
	/* A '<' for the number's check digit is a long number or a fault,
	 * and an all-filler number a fault: the reference decides. */
	if (wrong != 0 ||
	    span_bits(nl->filler, lay->number) == (1u << lay->number.len) - 1)
		return false;
	if (!fast_name_ok(m[lay->name.line].filler, lay->name))
		return false;

	char sex = date_line[lay->sex];
	uint64_t date_digits = span_bits(dl->digit, lay->birth) &
		span_bits(dl->digit, lay->expiry);

	/* Unknown birth date parts are rare: the reference handles them. */
	if (!(date_digits == 0x3f && fast_dates_ok(dates) &&
	      document_code_ok(format, at(l, lay->code)) &&
	      fast_state_known(m, l, lay->state) &&
	      fast_state_known(m, l, lay->nationality) &&
	      (sex == 'M' || sex == 'F' || sex == '<' || sex == 'X')))
		return false;

	/* What extract_fields() copies, trimmed by the masks at hand. */
	f->format = format;
	put_code(f->document_code, sizeof(f->document_code),
		 at(l, lay->code), lay->code.len,
		 span_bits(m[lay->code.line].filler, lay->code));
	put_code(f->issuing_state, sizeof(f->issuing_state),
		 at(l, lay->state), lay->state.len,
		 span_bits(m[lay->state.line].filler, lay->state));
	put_code(f->nationality, sizeof(f->nationality),
		 at(l, lay->nationality), lay->nationality.len,
		 span_bits(m[lay->nationality.line].filler, lay->nationality));
	memcpy(f->birth_date, at(l, lay->birth), 6);
	f->birth_date[6] = '\0';
	memcpy(f->expiry_date, at(l, lay->expiry), 6);
	f->expiry_date[6] = '\0';
	f->sex = sex;
	f->document_number_len = (uint8_t)put_number(f->document_number,
		at(l, lay->number), lay->number.len,
		span_bits(nl->filler, lay->number));
	return true;
}

/*
 * One function per format, each with the format as a constant: distinct
 * functions keep the compiler from merging the specialised copies, and
 * field copies get constant sizes. TD3 has none: mrz_fast_check() holds
 * its copy.
 */
#define FAST_VALIDATOR(name, fmt)					\
	static bool							\
	name(const struct mrz_lines *l, struct mrz_fields *f)		\
	{								\
		return fast_validate(l, fmt, f);			\
	}
FAST_VALIDATOR(fast_validate_td1, MRZ_FORMAT_TD1)
FAST_VALIDATOR(fast_validate_td2, MRZ_FORMAT_TD2)
FAST_VALIDATOR(fast_validate_mrva, MRZ_FORMAT_MRVA)
FAST_VALIDATOR(fast_validate_mrvb, MRZ_FORMAT_MRVB)
#undef FAST_VALIDATOR

static bool (*const fast_validators[])(const struct mrz_lines *,
				       struct mrz_fields *) = {
	[MRZ_FORMAT_TD1] = fast_validate_td1,
	[MRZ_FORMAT_TD2] = fast_validate_td2,
	[MRZ_FORMAT_MRVA] = fast_validate_mrva,
	[MRZ_FORMAT_MRVB] = fast_validate_mrvb,
};

bool
mrz_fast_check(const char *buf, size_t len, struct mrz_fields *f)
{
	struct mrz_lines l;
	enum mrz_format format;

	if (!fast_split(buf, len, &l, &format))
		return false;
	/* Passports, most of what a border like Verkhny Lars sees, are
	 * validated here, without a call through the table (and the
	 * register saves a call needs): 21 instructions less a record. */
	if (format == MRZ_FORMAT_TD3)
		return fast_validate(&l, MRZ_FORMAT_TD3, f);
	return fast_validators[format](&l, f);
}
#else
bool
mrz_fast_check(const char *buf, size_t len, struct mrz_fields *f)
{
	(void)buf;
	(void)len;
	(void)f;
	return false;
}
#endif /* __SSSE3__ */

uint32_t
mrz_check(const char *buf, size_t len, struct mrz_fields *f)
{
	struct mrz_lines l;

	if (mrz_fast_check(buf, len, f))
		return 0;
	if (mrz_split_lines(buf, len, &l) < 0) {
		memset(f, 0, sizeof(*f));
		return MRZ_ERR_LINE_LENGTH;
	}
	return mrz_validate_lines(&l, f);
}
