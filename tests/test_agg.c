/* SPDX-License-Identifier: BSD-3-Clause */

/* lib/agg: age bands, age at event time, UTC buckets, profile fields. */

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check_run.h"
#include "agg.h"
#include "agg_table.h"

/* 2022-09-27T14:30:00Z in ms. */
#define SEP27_1430 INT64_C(1664289000000)
#define DAY_MS INT64_C(86400000)

START_TEST(default_bands)
{
	struct agg_bands b;

	ck_assert_int_eq(agg_bands_parse(AGG_BANDS_DEFAULT, &b), 0);
	ck_assert_uint_eq(b.count, 6);
	ck_assert_str_eq(b.name[0], "0-17");
	ck_assert_str_eq(b.name[5], "65+");
	ck_assert_uint_eq(agg_band_of(&b, 0), 0);
	ck_assert_uint_eq(agg_band_of(&b, 17), 0);
	ck_assert_uint_eq(agg_band_of(&b, 18), 1);
	ck_assert_uint_eq(agg_band_of(&b, 27), 1);
	ck_assert_uint_eq(agg_band_of(&b, 28), 2);
	ck_assert_uint_eq(agg_band_of(&b, 64), 4);
	ck_assert_uint_eq(agg_band_of(&b, 65), 5);
	ck_assert_uint_eq(agg_band_of(&b, 250), 5);
	ck_assert_uint_eq(agg_band_of(&b, 1000), 5);
	ck_assert_int_eq(agg_bands_parse("0-99,100-254,255+", &b), 0);
	ck_assert_uint_eq(agg_band_of(&b, 99), 0);
	ck_assert_uint_eq(agg_band_of(&b, 254), 1);
	ck_assert_uint_eq(agg_band_of(&b, 255), 2);
	ck_assert_uint_eq(agg_band_of(&b, 300), 2);
	ck_assert_int_eq(agg_bands_parse("0+", &b), 0);
	ck_assert_uint_eq(b.count, 1);
	ck_assert_uint_eq(agg_band_of(&b, 0), 0);
	ck_assert_uint_eq(agg_band_of(&b, 255), 0);
}
END_TEST

START_TEST(bad_bands)
{
	static const char *const bad[] = {
		"", "1-17,18+", "0-17,19+", "0-17,17+", "0-17", "0-17,18+,30+",
		"0-17,,18+", "a-b,18+", "0-17,18-10,19+", "0-17;18+",
		"0-300,301+",
		/* 16 bands, one more than AGG_BANDS_MAX. */
		("0-1,2-3,4-5,6-7,8-9,10-11,12-13,14-15,16-17,"
		 "18-19,20-21,22-23,24-25,26-27,28-29,30+"),
	};
	struct agg_bands b;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(agg_bands_parse(bad[i], &b) == -EINVAL,
			      "accepted '%s'", bad[i]);
}
END_TEST

START_TEST(age_at_event)
{
	/* Birthday on the event day counts. */
	ck_assert_int_eq(agg_age("040927", SEP27_1430), 18);
	ck_assert_int_eq(agg_age("040928", SEP27_1430), 17);
	ck_assert_int_eq(agg_age("041231", SEP27_1430), 17);
	ck_assert_int_eq(agg_age("740812", SEP27_1430), 48);
	/* 20YY unless after the event year: 23 is 1923, 22 is 2022. */
	ck_assert_int_eq(agg_age("230101", SEP27_1430), 99);
	ck_assert_int_eq(agg_age("220101", SEP27_1430), 0);
	ck_assert_int_eq(agg_age("000101", SEP27_1430), 22);
	/* 29 February: a year older on 1 March. */
	ck_assert_int_eq(agg_age("000229", SEP27_1430 - 211 * DAY_MS), 21);
	ck_assert_int_eq(agg_age("000229", SEP27_1430 - 210 * DAY_MS), 22);
	/* Unknown parts: no age. */
	ck_assert_int_eq(agg_age("7408<<", SEP27_1430), -1);
	ck_assert_int_eq(agg_age("74<<<<", SEP27_1430), -1);
	ck_assert_int_eq(agg_age("<<<<<<", SEP27_1430), -1);
	/* Bytes next to the digits are not digits. */
	ck_assert_int_eq(agg_age("7408:2", SEP27_1430), -1);
	ck_assert_int_eq(agg_age("74/812", SEP27_1430), -1);
	ck_assert_int_eq(agg_age("7\x00" "0812", SEP27_1430), -1);
}
END_TEST

START_TEST(utc_buckets)
{
	char hour[11], day[9];

	agg_format_hour(agg_hour_of(SEP27_1430), hour);
	agg_format_day(agg_hour_of(SEP27_1430), day);
	ck_assert_str_eq(hour, "2022092714");
	ck_assert_str_eq(day, "20220927");
	/* Midnight UTC: the last millisecond and the next. */
	int64_t midnight = SEP27_1430 + 9 * 3600000 + 30 * 60000;

	agg_format_hour(agg_hour_of(midnight - 1), hour);
	ck_assert_str_eq(hour, "2022092723");
	agg_format_hour(agg_hour_of(midnight), hour);
	agg_format_day(agg_hour_of(midnight), day);
	ck_assert_str_eq(hour, "2022092800");
	ck_assert_str_eq(day, "20220928");
	agg_format_hour(0, hour);
	ck_assert_str_eq(hour, "1970010100");
	/* 2024 is a leap year, 2100 is not. */
	agg_format_day(agg_hour_of(INT64_C(1709164800000)), day);
	ck_assert_str_eq(day, "20240229");
	agg_format_day(agg_hour_of(INT64_C(4107542400000)), day);
	ck_assert_str_eq(day, "21000301");
}
END_TEST

START_TEST(profile_fields)
{
	struct agg_bands b;
	char f[AGG_PROFILE_FIELDS][AGG_FIELD_MAX];

	agg_bands_parse(AGG_BANDS_DEFAULT, &b);
	ck_assert_uint_eq(agg_profile_fields(agg_profile("RUS", 'M', 1, 'P'),
					     &b, f), 6);
	ck_assert_str_eq(f[0], "total");
	ck_assert_str_eq(f[1], "nat:RUS");
	ck_assert_str_eq(f[2], "sex:M");
	ck_assert_str_eq(f[3], "age:18-27");
	ck_assert_str_eq(f[4], "doc:P");
	ck_assert_str_eq(f[5], "x:RUS:M:18-27");
	agg_profile_fields(agg_profile("D\0", '<', AGG_BAND_UNKNOWN, 'I'), &b, f);
	ck_assert_str_eq(f[1], "nat:D");
	ck_assert_str_eq(f[2], "sex:X");
	ck_assert_str_eq(f[3], "age:unknown");
	ck_assert_str_eq(f[4], "doc:I");
	ck_assert_str_eq(f[5], "x:D:X:unknown");
	agg_profile_fields(agg_profile("UTO", 'F', 5, 'V'), &b, f);
	ck_assert_str_eq(f[5], "x:UTO:F:65+");
	agg_profile_fields(agg_profile("KAZ", 'X', 0, 'A'), &b, f);
	ck_assert_str_eq(f[2], "sex:X");
	ck_assert_uint_eq(agg_profile_fields(AGG_PROFILE_DUP, &b, f), 1);
	ck_assert_str_eq(f[0], "dup");
	ck_assert_uint_eq(agg_profile_fields(AGG_PROFILE_INVALID, &b, f), 1);
	ck_assert_str_eq(f[0], "invalid");
	/* Distinct crossings have distinct profiles, below the marks. */
	ck_assert_uint_ne(agg_profile("RUS", 'M', 1, 'P'),
			  agg_profile("RUS", 'F', 1, 'P'));
	ck_assert_uint_ne(agg_profile("RU", 'M', 1, 'P'),
			  agg_profile("RUS", 'M', 1, 'P'));
	ck_assert_uint_lt(agg_profile("ZZZ", 'X', 15, 'Z'), AGG_PROFILE_DUP);
}
END_TEST

START_TEST(table_counts_and_grows)
{
	struct agg_table *t = agg_table_create(), *u = agg_table_create();
	uint64_t bucket, n, sum_t = 0, sum_u = 0;
	uint32_t profile, pos = 0, pairs = 0;

	ck_assert_ptr_nonnull(t);
	/* 100000 pairs force many doublings; pair i is added i % 7 + 1 times. */
	for (uint32_t i = 0; i < 100000; i++)
		for (uint32_t k = 0; k <= i % 7; k++)
			ck_assert_int_eq(agg_table_add(t, agg_bucket(i % 3, 2, i), i, 1), 0);
	ck_assert_uint_eq(agg_table_count(t), 100000);
	while (agg_table_next(t, &pos, &bucket, &profile, &n)) {
		ck_assert_uint_eq(n, profile % 7 + 1);
		ck_assert_uint_eq(agg_bucket_hour(bucket), profile);
		ck_assert_uint_eq(agg_bucket_checkpoint(bucket), profile % 3);
		ck_assert_uint_eq(agg_bucket_direction(bucket), 2);
		sum_t += n;
		pairs++;
	}
	ck_assert_uint_eq(pairs, 100000);
	/* Merged twice: the same pairs, each count doubled. */
	ck_assert_int_eq(agg_table_merge(u, t), 0);
	ck_assert_int_eq(agg_table_merge(u, t), 0);
	ck_assert_uint_eq(agg_table_count(u), 100000);
	pos = 0;
	while (agg_table_next(u, &pos, &bucket, &profile, &n)) {
		ck_assert_uint_eq(n, 2 * (profile % 7 + 1));
		sum_u += n;
	}
	ck_assert_uint_eq(sum_u, 2 * sum_t);
	agg_table_clear(t);
	ck_assert_uint_eq(agg_table_count(t), 0);
	pos = 0;
	ck_assert_int_eq(agg_table_next(t, &pos, &bucket, &profile, &n), 0);
	agg_table_free(t);
	agg_table_free(u);
}
END_TEST

START_TEST(bucket_fields)
{
	/* An unnamed id keeps all 32 bits; hours keep 29. */
	uint64_t b = agg_bucket(AGG_CHECKPOINT_UNNAMED | UINT32_MAX, 1, 464000);

	ck_assert_uint_eq(agg_bucket_checkpoint(b), AGG_CHECKPOINT_UNNAMED | UINT32_MAX);
	ck_assert_uint_eq(agg_bucket_direction(b), 1);
	ck_assert_uint_eq(agg_bucket_hour(b), 464000);
}
END_TEST

START_TEST(expand_to_hashes)
{
	static const char *const cps[] = { "verkhny-lars" };
	struct agg_bands bands;
	struct agg_names names = { cps, 1, &bands };
	struct agg_table *t = agg_table_create();
	uint32_t hour = agg_hour_of(SEP27_1430), count;
	uint32_t rus_m;
	struct agg_increment *inc;
	char *json = NULL;
	size_t json_len = 0;
	FILE *f;

	ck_assert_int_eq(agg_bands_parse(AGG_BANDS_DEFAULT, &bands), 0);
	rus_m = agg_profile("RUS", 'M', 1, 'P');
	agg_table_add(t, agg_bucket(0, 2, hour), rus_m, 3);
	agg_table_add(t, agg_bucket(0, 2, hour + 1), rus_m, 2);
	agg_table_add(t, agg_bucket(0, 2, hour + 1), AGG_PROFILE_DUP, 1);
	agg_table_add(t, agg_bucket(AGG_CHECKPOINT_UNNAMED | 5, 0, hour),
		      AGG_PROFILE_INVALID, 4);
	inc = agg_expand(t, &names, &count);
	ck_assert_ptr_nonnull(inc);
	/* cp-5: invalid on h, d, all. lars: 6 fields on 2 hours, the day
	 * and all; dup on one hour, the day and all. */
	ck_assert_uint_eq(count, 3 + 6 * 4 + 3);
	for (uint32_t i = 1; i < count; i++) {
		int c = strcmp(inc[i - 1].key, inc[i].key);

		ck_assert(c < 0 || (c == 0 && strcmp(inc[i - 1].field, inc[i].field) < 0));
	}
	f = open_memstream(&json, &json_len);
	agg_write_json(f, inc, count);
	fclose(f);
	ck_assert_str_eq(json,
		"{\"crossings:cp-5:unknown:all\":{\"invalid\":4},"
		"\"crossings:cp-5:unknown:d:20220927\":{\"invalid\":4},"
		"\"crossings:cp-5:unknown:h:2022092714\":{\"invalid\":4},"
		"\"crossings:verkhny-lars:exit:all\":{\"age:18-27\":5,\"doc:P\":5,"
		"\"dup\":1,\"nat:RUS\":5,\"sex:M\":5,\"total\":5,\"x:RUS:M:18-27\":5},"
		"\"crossings:verkhny-lars:exit:d:20220927\":{\"age:18-27\":5,\"doc:P\":5,"
		"\"dup\":1,\"nat:RUS\":5,\"sex:M\":5,\"total\":5,\"x:RUS:M:18-27\":5},"
		"\"crossings:verkhny-lars:exit:h:2022092714\":{\"age:18-27\":3,\"doc:P\":3,"
		"\"nat:RUS\":3,\"sex:M\":3,\"total\":3,\"x:RUS:M:18-27\":3},"
		"\"crossings:verkhny-lars:exit:h:2022092715\":{\"age:18-27\":2,\"doc:P\":2,"
		"\"dup\":1,\"nat:RUS\":2,\"sex:M\":2,\"total\":2,\"x:RUS:M:18-27\":2},"
		"\"crossings:checkpoints\":[\"cp-5\",\"verkhny-lars\"]}\n");
	free(json);
	free(inc);
	agg_table_clear(t);
	inc = agg_expand(t, &names, &count);
	ck_assert_ptr_nonnull(inc);
	ck_assert_uint_eq(count, 0);
	f = open_memstream(&json, &json_len);
	agg_write_json(f, inc, count);
	fclose(f);
	ck_assert_str_eq(json, "{\"crossings:checkpoints\":[]}\n");
	free(json);
	free(inc);
	agg_table_free(t);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("agg");
	TCase *tc = tcase_create("agg");

	tcase_add_test(tc, default_bands);
	tcase_add_test(tc, bad_bands);
	tcase_add_test(tc, age_at_event);
	tcase_add_test(tc, utc_buckets);
	tcase_add_test(tc, profile_fields);
	tcase_add_test(tc, table_counts_and_grows);
	tcase_add_test(tc, bucket_fields);
	tcase_add_test(tc, expand_to_hashes);
	suite_add_tcase(s, tc);
	return check_run(s);
}
