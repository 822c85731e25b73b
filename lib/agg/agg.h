/* SPDX-License-Identifier: BSD-3-Clause */

#ifndef AGG_H
#define AGG_H

/**
 * @file
 * Aggregation: what a counted record contributes to the counter hashes
 * of docs/redis.md, without DPDK.
 *
 * A record is reduced on the data path to a profile: a 32-bit value
 * holding nationality, sex, age band and document letter (or the mark
 * of a duplicate or an invalid record). Workers count profiles per
 * bucket; the control side expands each (profile, n) into the fields
 * total, nat:, sex:, age:, doc: and x:. Because every field of a
 * crossing comes from the same expansion, the invariants of redis.md
 * (total equals the sum of each family of fields) hold by construction.
 */

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** At most this many age bands (plus "unknown"). */
#define AGG_BANDS_MAX 15
/** Longest band name, e.g. "100-120" or "65+". */
#define AGG_BAND_NAME_MAX 8

/** Age bands: contiguous from 0, the last one open ("65+"). */
struct agg_bands {
	unsigned int count;
	uint8_t lower[AGG_BANDS_MAX];		/**< first age of each band */
	char name[AGG_BANDS_MAX][AGG_BAND_NAME_MAX];
	uint8_t of_age[256];			/**< band of each age, 255+ last */
};

/** The default bands of the configuration. */
#define AGG_BANDS_DEFAULT "0-17,18-27,28-35,36-49,50-64,65+"

/**
 * Parse a band list such as "0-17,18-27,65+".
 *
 * @return
 *   0, or -EINVAL when the list does not start at 0, has a gap or an
 *   overlap, is not ascending, does not end with an open band "N+",
 *   or has more than AGG_BANDS_MAX bands.
 */
int agg_bands_parse(const char *spec, struct agg_bands *bands);

/** Band index of an age (>= 0): one load, for the data path. */
static inline unsigned int
agg_band_of(const struct agg_bands *bands, unsigned int age)
{
	return bands->of_age[age < 255 ? age : 255];
}

/**
 * The calendar date of one UTC day, for agg_age_on(). Records come in
 * runs of the same day: a caller keeps one and converts a day number
 * to a date only when the day changes.
 */
struct agg_day {
	int64_t days;		/**< since 1970-01-01 */
	int year;
	unsigned int mmdd;	/**< month * 100 + day of month */
};

/** Sets day to the date of `days` since 1970-01-01 (UTC). */
void agg_day_set(struct agg_day *day, int64_t days);

/**
 * Age in whole years on a day.
 *
 * @param birth
 *   YYMMDD as printed in the MRZ. A two-digit year YY is 20YY unless
 *   that is after the day's year, then 19YY.
 * @return
 *   The age, or -1 when any part of the birth date is unknown ('<').
 */
static inline int
agg_age_on(const char birth[6], const struct agg_day *day)
{
	const uint8_t *b = (const uint8_t *)birth;
	uint64_t w = (uint64_t)b[0] | (uint64_t)b[1] << 8 | (uint64_t)b[2] << 16 |
		(uint64_t)b[3] << 24 | (uint64_t)b[4] << 32 | (uint64_t)b[5] << 40;
	uint64_t digits, pairs;
	unsigned int mmdd;
	int yy, age;

	/* Six digits, all at once: each byte's high nibble is 3, and its
	 * low nibble plus 6 does not carry (is at most 9). */
	if ((w & UINT64_C(0xf0f0f0f0f0f0)) != UINT64_C(0x303030303030) ||
	    ((w + UINT64_C(0x060606060606)) & UINT64_C(0xf0f0f0f0f0f0)) !=
	    UINT64_C(0x303030303030))
		return -1;
	digits = w - UINT64_C(0x303030303030);
	/* Pairs of digits into 16-bit lanes: YY, MM, DD. */
	pairs = (digits & UINT64_C(0x00ff00ff00ff)) * 10 +
		(digits >> 8 & UINT64_C(0x00ff00ff00ff));
	yy = (int)(pairs & 0xffff);
	mmdd = (unsigned int)(pairs >> 16 & 0xffff) * 100 +
		(unsigned int)(pairs >> 32 & 0xffff);
	/* The century is not printed: the latest that is not in the future. */
	yy += 2000 + yy > day->year ? 1900 : 2000;
	age = day->year - yy - (day->mmdd < mmdd);
	return age < 0 ? 0 : age;
}

/**
 * Age in whole years at an event time: agg_age_on() its UTC day.
 *
 * @param event_ms
 *   Event time, milliseconds since 1970-01-01 UTC.
 */
int agg_age(const char birth[6], int64_t event_ms);

/** Hours since 1970-01-01T00 UTC: the bucket of an event. */
static inline uint32_t
agg_hour_of(int64_t event_ms)
{
	return (uint32_t)(event_ms / 3600000);
}

/** Writes YYYYMMDDHH (UTC) of an hour bucket; out holds 11 bytes. */
void agg_format_hour(uint32_t hour, char out[11]);

/** Writes YYYYMMDD (UTC) of an hour bucket's day; out holds 9 bytes. */
void agg_format_day(uint32_t hour, char out[9]);

/* Profiles. */
#define AGG_PROFILE_DUP		UINT32_C(0xfffffffe)	/**< a re-scan */
#define AGG_PROFILE_INVALID	UINT32_C(0xffffffff)	/**< failed MRZ validation */
/** Band value of a profile whose age is unknown. */
#define AGG_BAND_UNKNOWN	15

/**
 * Profile of a crossing.
 *
 * @param nationality
 *   The nationality code, fillers removed: 1 to 3 letters A-Z, padded
 *   with NULs to 3 characters (as struct mrz_fields holds it).
 * @param sex
 *   'M', 'F', 'X' or '<' ('<' counts as X).
 * @param band
 *   Band index, or AGG_BAND_UNKNOWN.
 * @param doc
 *   First letter of the document code, A-Z.
 */
uint32_t agg_profile(const char nationality[static 3], char sex,
		     unsigned int band, char doc);

/** Longest field name: "x:" + 3 + ":" + 1 + ":" + band. */
#define AGG_FIELD_MAX 24
/** Fields a crossing adds to: total, nat, sex, age, doc, x. */
#define AGG_PROFILE_FIELDS 6

/**
 * The field names a profile adds its count to, as in docs/redis.md.
 *
 * @param fields
 *   Receives up to AGG_PROFILE_FIELDS names.
 * @return
 *   The number of names: 6 for a crossing, 1 for DUP or INVALID.
 */
unsigned int agg_profile_fields(uint32_t profile,
				const struct agg_bands *bands,
				char fields[AGG_PROFILE_FIELDS][AGG_FIELD_MAX]);

#ifdef __cplusplus
}
#endif

#endif /* AGG_H */
