/* SPDX-License-Identifier: BSD-3-Clause */

/* lib/reasm: raw MRZ text of serial scanners into records. */

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "check_run.h"
#include "reasm.h"

#define TD3_1 "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<"
#define TD3_2 "L898902C36UTO7408122F1204159ZE184226B<<<<<10"
#define TD1_1 "I<UTOD231458907<<<<<<<<<<<<<<<"
#define TD1_2 "7408122F1204159UTO<<<<<<<<<<<6"
#define TD1_3 "ERIKSSON<<ANNA<MARIA<<<<<<<<<<"

/* What a test's reassembler emitted, in order. */
struct seen {
	unsigned int count;
	size_t len[64];
	char record[64][REASM_RECORD_MAX + 1];	/* the start of each */
	int64_t time_ms[64];
};

static void
collect(void *arg, const uint8_t *record, size_t len, int64_t time_ms)
{
	struct seen *s = arg;

	ck_assert_uint_lt(s->count, 64);
	s->len[s->count] = len;
	if (len > REASM_RECORD_MAX)
		len = REASM_RECORD_MAX;
	memcpy(s->record[s->count], record, len);
	s->record[s->count][len] = '\0';
	s->time_ms[s->count++] = time_ms;
}

static struct reasm_source
source(uint8_t last, uint16_t port)
{
	struct reasm_source s = { .family = 4, .addr = { 10, 17, 0, last }, .port = port };

	return s;
}

static unsigned int
feed(struct reasm *r, struct reasm_source src, int64_t t, const char *text)
{
	return reasm_datagram(r, &src, t, (const uint8_t *)text, strlen(text));
}

START_TEST(whole_records)
{
	struct seen s = { 0 };
	struct reasm *r = reasm_create(16, 2000, collect, &s);

	ck_assert_uint_eq(feed(r, source(1, 1), 10, TD3_1 "\r\n" TD3_2 "\r\n"), 0);
	ck_assert_uint_eq(feed(r, source(1, 1), 20, "\x02" TD3_1 "\r" TD3_2 "\r\x03"), 0);
	ck_assert_uint_eq(feed(r, source(1, 1), 30, TD1_1 "\n" TD1_2 "\n" TD1_3), 0);
	/* Two records in one datagram, and a record without separators. */
	ck_assert_uint_eq(feed(r, source(1, 1), 40, TD3_1 "\n" TD3_2 "\n" TD1_1 "\n"
			       TD1_2 "\n" TD1_3 "\n"), 0);
	ck_assert_uint_eq(feed(r, source(1, 1), 50, TD3_1 TD3_2), 0);
	ck_assert_uint_eq(s.count, 6);
	for (unsigned int i = 0; i < 2; i++)
		ck_assert_str_eq(s.record[i], TD3_1 "\n" TD3_2);
	ck_assert_str_eq(s.record[2], TD1_1 "\n" TD1_2 "\n" TD1_3);
	ck_assert_str_eq(s.record[3], TD3_1 "\n" TD3_2);
	ck_assert_str_eq(s.record[4], TD1_1 "\n" TD1_2 "\n" TD1_3);
	ck_assert_str_eq(s.record[5], TD3_1 TD3_2);
	ck_assert_int_eq(s.time_ms[5], 50);
	ck_assert_uint_eq(reasm_pending(r), 0);
	reasm_free(r);
}
END_TEST

START_TEST(line_per_datagram)
{
	struct seen s = { 0 };
	struct reasm *r = reasm_create(16, 2000, collect, &s);

	/* Two sources interleaved; a record takes its first line's time. */
	feed(r, source(1, 1), 100, TD1_1 "\r\n");
	feed(r, source(1, 2), 110, TD3_1 "\r\n");
	feed(r, source(1, 1), 120, TD1_2 "\r\n");
	ck_assert_uint_eq(reasm_pending(r), 2);
	ck_assert_int_eq(reasm_has_partial(r, &(struct reasm_source){ 4, { 10, 17, 0, 1 }, 2 }), 1);
	ck_assert_int_eq(reasm_has_partial(r, &(struct reasm_source){ 4, { 10, 17, 0, 1 }, 3 }), 0);
	ck_assert_int_eq(reasm_has_partial(r, &(struct reasm_source){ 4, { 10, 17, 0, 2 }, 2 }), 0);
	feed(r, source(1, 2), 130, TD3_2);
	feed(r, source(1, 1), 140, TD1_3 "\r\n");
	ck_assert_uint_eq(s.count, 2);
	ck_assert_str_eq(s.record[0], TD3_1 "\n" TD3_2);
	ck_assert_int_eq(s.time_ms[0], 110);
	ck_assert_str_eq(s.record[1], TD1_1 "\n" TD1_2 "\n" TD1_3);
	ck_assert_int_eq(s.time_ms[1], 100);
	ck_assert_uint_eq(reasm_pending(r), 0);
	reasm_free(r);
}
END_TEST

START_TEST(incomplete_records)
{
	struct seen s = { 0 };
	struct reasm *r = reasm_create(2, 2000, collect, &s);

	/* The second line 2.5 s later: the first is incomplete, the second
	 * starts a record of its own. */
	feed(r, source(1, 1), 0, TD3_1 "\n");
	ck_assert_uint_eq(feed(r, source(1, 1), 2500, TD3_1 "\n"), 1);
	ck_assert_uint_eq(feed(r, source(1, 1), 2600, TD3_2 "\n"), 0);
	ck_assert_uint_eq(s.count, 1);
	ck_assert_int_eq(s.time_ms[0], 2500);
	/* A whole record on one line cannot continue a partial one. */
	feed(r, source(1, 1), 3000, TD3_1);
	ck_assert_uint_eq(feed(r, source(1, 1), 3000, TD3_1 TD3_2), 1);
	ck_assert_uint_eq(s.count, 2);
	/* Sources beyond the limit: their partial records are incomplete. */
	ck_assert_uint_eq(feed(r, source(2, 1), 4000, TD3_1), 0);
	ck_assert_uint_eq(feed(r, source(3, 1), 4000, TD3_1), 0);
	ck_assert_uint_eq(feed(r, source(4, 1), 4000, TD3_1), 1);
	ck_assert_uint_eq(reasm_pending(r), 2);
	/* Expiry by event time, then everything at shutdown. */
	ck_assert_uint_eq(reasm_expire(r, 5000), 0);
	ck_assert_uint_eq(feed(r, source(5, 1), 5000, TD1_1), 1);
	ck_assert_uint_eq(reasm_expire(r, 6001), 2);
	ck_assert_uint_eq(feed(r, source(5, 1), 6001, TD1_1), 0);
	ck_assert_uint_eq(reasm_expire(r, INT64_MAX), 1);
	ck_assert_uint_eq(reasm_pending(r), 0);
	ck_assert_uint_eq(s.count, 2);
	reasm_free(r);
}
END_TEST

START_TEST(odd_lines)
{
	struct seen s = { 0 };
	struct reasm *r = reasm_create(4, 2000, collect, &s);
	static char endless[70000];

	/* Lines no record has go to the parser alone, to be named there;
	 * empty lines and bare STX/ETX are nothing. */
	feed(r, source(1, 1), 0, "hello\r\n\r\n\x02\x03\r\n");
	ck_assert_uint_eq(s.count, 1);
	ck_assert_str_eq(s.record[0], "hello");
	memset(endless, 'A', sizeof(endless) - 1);
	/* An endless line goes to the parser in place, never copied. */
	ck_assert_uint_eq(feed(r, source(1, 1), 0, endless), 0);
	ck_assert_uint_eq(s.count, 2);
	ck_assert_uint_eq(s.len[1], sizeof(endless) - 1);
	ck_assert_uint_eq(reasm_pending(r), 0);
	/* A short line joins a partial record: the parser then finds the
	 * wrong shape. */
	feed(r, source(1, 1), 0, TD3_1 "\nABC\n");
	ck_assert_uint_eq(s.count, 3);
	ck_assert_str_eq(s.record[2], TD3_1 "\nABC");
	reasm_free(r);
}
END_TEST

/* Many sources sending line by line in random order: every record
 * comes out whole, and the table never loses or mixes up a source
 * however entries move on deletion. */
START_TEST(many_sources)
{
	enum { SOURCES = 3000 };
	static unsigned int next_line[SOURCES];
	struct seen s;
	struct reasm *r = reasm_create(SOURCES, 1000000, collect, &s);
	unsigned int done = 0, emitted = 0;

	srand(7);
	while (done < SOURCES) {
		unsigned int i = rand() % SOURCES;
		struct reasm_source src = {
			.family = 6, .port = 7000 + i % 7,
			.addr = { 0xfd, 0, [14] = i >> 8, [15] = i & 0xff },
		};
		const char *lines[] = { TD1_1, TD1_2, TD1_3 };

		if (next_line[i] == 3)
			continue;
		s.count = 0;
		ck_assert_uint_eq(reasm_datagram(r, &src, 0,
			(const uint8_t *)lines[next_line[i]], 30), 0);
		if (++next_line[i] == 3) {
			ck_assert_uint_eq(s.count, 1);
			ck_assert_str_eq(s.record[0], TD1_1 "\n" TD1_2 "\n" TD1_3);
			done++;
			emitted++;
		} else {
			ck_assert_uint_eq(s.count, 0);
		}
	}
	ck_assert_uint_eq(emitted, SOURCES);
	ck_assert_uint_eq(reasm_pending(r), 0);
	reasm_free(r);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("reasm");
	TCase *tc = tcase_create("reasm");

	tcase_add_test(tc, whole_records);
	tcase_add_test(tc, line_per_datagram);
	tcase_add_test(tc, incomplete_records);
	tcase_add_test(tc, odd_lines);
	tcase_add_test(tc, many_sources);
	suite_add_tcase(s, tc);
	return check_run(s);
}
