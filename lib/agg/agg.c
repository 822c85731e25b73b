/* SPDX-License-Identifier: BSD-3-Clause */

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg.h"

/* Reads a decimal age 0-255 at *p; advances *p. */
static bool
read_age(const char **p, unsigned int *age)
{
	unsigned int v = 0;
	const char *s = *p;

	if (*s < '0' || *s > '9')
		return false;
	while (*s >= '0' && *s <= '9') {
		v = v * 10 + (unsigned int)(*s++ - '0');
		if (v > 255)
			return false;
	}
	*age = v;
	*p = s;
	return true;
}

int
agg_bands_parse(const char *spec, struct agg_bands *b)
{
	const char *p = spec;
	unsigned int next = 0;

	memset(b, 0, sizeof(*b));
	for (;;) {
		const char *start = p;
		unsigned int lo, hi = 0;
		size_t len;

		if (b->count == AGG_BANDS_MAX || !read_age(&p, &lo) || lo != next)
			return -EINVAL;
		if (*p == '+') {
			p++;
			if (*p != '\0')
				return -EINVAL;	/* the open band is last */
		} else {
			if (*p++ != '-' || !read_age(&p, &hi) || hi < lo ||
			    (*p != ',' && *p != '\0'))
				return -EINVAL;
		}
		len = (size_t)(p - start);
		if (len >= AGG_BAND_NAME_MAX)
			return -EINVAL;
		memcpy(b->name[b->count], start, len);
		b->lower[b->count++] = (uint8_t)lo;
		if (*p == '\0') {
			if (p[-1] != '+')
				return -EINVAL;
			for (unsigned int age = 0, i = 0; age < 256; age++) {
				while (i + 1 < b->count && age >= b->lower[i + 1])
					i++;
				b->of_age[age] = (uint8_t)i;
			}
			return 0;
		}
		next = hi + 1;
		p++;	/* the comma */
	}
}


/* Days since 1970-01-01 to a civil date (H. Hinnant's algorithm). */
static void
civil_from_days(int64_t z, int *y, unsigned int *m, unsigned int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned int doe = (unsigned int)(z - era * 146097);
	unsigned int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned int mp = (5 * doy + 2) / 153;

	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int)((int64_t)yoe + era * 400 + (*m <= 2));
}

void
agg_day_set(struct agg_day *day, int64_t days)
{
	unsigned int month, mday;

	civil_from_days(days, &day->year, &month, &mday);
	day->mmdd = month * 100 + mday;
	day->days = days;
}

int
agg_age(const char birth[6], int64_t event_ms)
{
	struct agg_day day;

	agg_day_set(&day, event_ms / 86400000 - (event_ms % 86400000 < 0));
	return agg_age_on(birth, &day);
}

void
agg_format_hour(uint32_t hour, char out[11])
{
	int y;
	unsigned int m, d;

	civil_from_days(hour / 24, &y, &m, &d);
	snprintf(out, 11, "%04u%02u%02u%02u", (unsigned int)y % 10000, m % 100,
		 d % 100, hour % 24);
}

void
agg_format_day(uint32_t hour, char out[9])
{
	char h[11];

	/* The day is the hour's text without its last two digits. */
	agg_format_hour(hour, h);
	memcpy(out, h, 8);
	out[8] = '\0';
}

/*
 * Profile bits: nationality 3 x 5 bits (0 = none, 1-26 = A-Z), sex 2,
 * band 4, document letter 5: 26 bits, below the DUP/INVALID marks.
 */
#define NAT_SHIFT 0
#define SEX_SHIFT 15
#define BAND_SHIFT 17
#define DOC_SHIFT 21

static const char sex_letters[3] = { 'M', 'F', 'X' };

/* A letter's number, 'A' 1 to 'Z' 26, is its low five bits in ASCII;
 * a padding NUL's are 0. */
static inline uint32_t
letter_number(char c)
{
	return (uint32_t)(unsigned char)c & 0x1f;
}

uint32_t
agg_profile(const char nationality[static 3], char sex, unsigned int band,
	    char doc)
{
	uint32_t p = letter_number(nationality[0]) << NAT_SHIFT |
		letter_number(nationality[1]) << (NAT_SHIFT + 5) |
		letter_number(nationality[2]) << (NAT_SHIFT + 10);
	/* M 0, F 1, else 2, without a branch: sexes come in no order a
	 * predictor could learn. */
	uint32_t not_m = sex != 'M', not_f = sex != 'F';

	p |= (not_m + (not_m & not_f)) << SEX_SHIFT;
	p |= (uint32_t)(band & 0xf) << BAND_SHIFT;
	p |= letter_number(doc) << DOC_SHIFT;
	return p;
}

unsigned int
agg_profile_fields(uint32_t profile, const struct agg_bands *bands,
		   char fields[AGG_PROFILE_FIELDS][AGG_FIELD_MAX])
{
	char nat[4] = { 0 };
	char sex = sex_letters[((profile >> SEX_SHIFT) & 3) % 3];
	unsigned int band = (profile >> BAND_SHIFT) & 0xf;
	char doc = (char)('A' - 1 + ((profile >> DOC_SHIFT) & 0x1f));
	const char *band_name;

	if (profile == AGG_PROFILE_DUP || profile == AGG_PROFILE_INVALID) {
		strcpy(fields[0], profile == AGG_PROFILE_DUP ? "dup" : "invalid");
		return 1;
	}
	for (int i = 0; i < 3; i++) {
		uint32_t c = (profile >> (NAT_SHIFT + 5 * i)) & 0x1f;

		if (c == 0)
			break;
		nat[i] = (char)('A' - 1 + c);
	}
	band_name = band < bands->count ? bands->name[band] : "unknown";
	strcpy(fields[0], "total");
	snprintf(fields[1], AGG_FIELD_MAX, "nat:%s", nat);
	snprintf(fields[2], AGG_FIELD_MAX, "sex:%c", sex);
	snprintf(fields[3], AGG_FIELD_MAX, "age:%s", band_name);
	snprintf(fields[4], AGG_FIELD_MAX, "doc:%c", doc);
	snprintf(fields[5], AGG_FIELD_MAX, "x:%s:%c:%s", nat, sex, band_name);
	return AGG_PROFILE_FIELDS;
}
