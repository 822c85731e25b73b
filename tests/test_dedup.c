/* SPDX-License-Identifier: BSD-3-Clause */

/* lib/dedup: keyed hashes and the deduplication window (EAL). */

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>

#include "check_run.h"
#include "dedup.h"
#include "dedup_key.h"
#include "eal_init.h"

#define MIN_MS INT64_C(60000)

START_TEST(siphash_reference_vectors)
{
	/*
	 * SipHash-1-3 of key 00..0f and message 00..(n-1), the vectors of
	 * the SipHash reference code. Linux's hsiphash, which is SipHash-1-3
	 * on 64-bit machines, publishes their low 32 bits.
	 */
	static const uint32_t low32[] = {
		[0] = 0x050fc4dc, [1] = 0x7d57ca93, [7] = 0x9bb11140,
		[8] = 0x8d299a8e, [12] = 0x57b4d9a2, [13] = 0x1229ffa7,
		[31] = 0x8c21d1bc, [32] = 0x16a7b60d, [63] = 0xb7bbb3a8,
	};
	struct dedup_secret k = { UINT64_C(0x0706050403020100),
				  UINT64_C(0x0f0e0d0c0b0a0908) };
	uint8_t msg[64];

	for (unsigned int i = 0; i < sizeof(msg); i++)
		msg[i] = i;
	for (unsigned int n = 0; n < sizeof(low32) / sizeof(low32[0]); n++)
		if (low32[n] != 0)
			ck_assert_uint_eq((uint32_t)dedup_siphash(&k, msg, n),
					  low32[n]);
}
END_TEST

static struct mrz_fields
document(const char *number, const char *nationality, const char *birth)
{
	struct mrz_fields f;

	memset(&f, 0, sizeof(f));
	strcpy(f.issuing_state, "RUS");
	strcpy(f.nationality, nationality);
	strcpy(f.birth_date, birth);
	strcpy(f.document_number, number);
	f.document_number_len = strlen(number);
	f.sex = 'M';
	return f;
}

static uint64_t
key_of(const struct dedup_secret *s, const struct mrz_fields *doc,
       uint64_t checkpoint, uint8_t direction)
{
	uint64_t document_hash;

	return dedup_document_key(s, doc, checkpoint, direction, &document_hash);
}

static uint64_t
document_hash_of(const struct dedup_secret *s, const struct mrz_fields *doc,
		 uint64_t checkpoint, uint8_t direction)
{
	uint64_t document_hash;

	dedup_document_key(s, doc, checkpoint, direction, &document_hash);
	return document_hash;
}

START_TEST(document_keys)
{
	struct dedup_secret s1, s2;
	struct mrz_fields a = document("752123456", "RUS", "950615");
	struct mrz_fields b = a;
	uint64_t ka;

	ck_assert_int_eq(dedup_secret_draw(&s1), 0);
	ck_assert_int_eq(dedup_secret_draw(&s2), 0);
	ka = key_of(&s1, &a, 17, 2);
	/* Fields that are not part of the identity do not matter. */
	b.sex = 'F';
	strcpy(b.expiry_date, "300101");
	ck_assert_uint_eq(key_of(&s1, &b, 17, 2), ka);
	/* Every part of the identity and of the scope does. */
	ck_assert_uint_ne(key_of(&s2, &a, 17, 2), ka);
	ck_assert_uint_ne(key_of(&s1, &a, 18, 2), ka);
	ck_assert_uint_ne(key_of(&s1, &a, 17, 1), ka);
	/* Checkpoint ids the configuration does not name (bit 32 set), and
	 * any checkpoint at all (scope = direction), are scopes of their
	 * own. */
	ck_assert_uint_ne(key_of(&s1, &a, UINT64_C(1) << 32 | 17, 2), ka);
	ck_assert_uint_ne(key_of(&s1, &a, UINT64_MAX, 2),
			  key_of(&s1, &a, UINT64_C(0x1ffffffff), 2));
	b = document("752123457", "RUS", "950615");
	ck_assert_uint_ne(key_of(&s1, &b, 17, 2), ka);
	b = document("752123456", "KAZ", "950615");
	ck_assert_uint_ne(key_of(&s1, &b, 17, 2), ka);
	b = document("752123456", "RUS", "950616");
	ck_assert_uint_ne(key_of(&s1, &b, 17, 2), ka);
	b = a;
	memcpy(b.issuing_state, "D\0\0", 4);
	ck_assert_uint_ne(key_of(&s1, &b, 17, 2), ka);
	/* Number boundaries are part of the key. */
	b = document("75212345", "RUS", "950615");
	ck_assert_uint_ne(key_of(&s1, &b, 17, 2), ka);
	/* Long numbers (TD1/TD2 overflow) are hashed whole. */
	a = document("D23145890123456", "BEL", "950615");
	b = document("D23145890123457", "BEL", "950615");
	ka = key_of(&s1, &a, 17, 2);
	ck_assert_uint_ne(key_of(&s1, &b, 17, 2), ka);
	b = document("D23145890123456", "BEL", "950615");
	ck_assert_uint_eq(key_of(&s1, &b, 17, 2), ka);
	/* The direction is part of the scope whatever the checkpoint. */
	ck_assert_uint_ne(key_of(&s1, &a, UINT64_MAX, 2), key_of(&s1, &a, UINT64_MAX, 1));
	ck_assert_uint_ne(dedup_frame_key(&s1, 17, 1, 5), dedup_frame_key(&s1, 17, 1, 6));
	ck_assert_uint_ne(dedup_frame_key(&s1, 17, 1, 5), dedup_frame_key(&s1, 17, 2, 5));
	ck_assert_uint_eq(dedup_frame_key(&s1, 17, 1, 5), dedup_frame_key(&s1, 17, 1, 5));
}
END_TEST

/* The hash that picks a document's owner: the document's alone, the
 * same in every scope, and its high bits (which pick the owner) spread
 * evenly even over consecutive numbers. */
START_TEST(document_hashes)
{
	enum { DOCS = 30000 };
	struct dedup_secret s1, s2;
	struct mrz_fields a = document("752123456", "RUS", "950615");
	struct mrz_fields b = document("D23145890123456", "BEL", "950615");
	uint64_t ha;
	unsigned int owners[4][4] = { { 0 } };

	ck_assert_int_eq(dedup_secret_draw(&s1), 0);
	ck_assert_int_eq(dedup_secret_draw(&s2), 0);
	ha = document_hash_of(&s1, &a, 17, 2);
	ck_assert_uint_eq(document_hash_of(&s1, &a, 18, 1), ha);
	ck_assert_uint_eq(document_hash_of(&s1, &a, UINT64_C(1) << 32 | 77, 2), ha);
	ck_assert_uint_eq(document_hash_of(&s1, &a, UINT64_MAX, 0), ha);
	ck_assert_uint_ne(document_hash_of(&s2, &a, 17, 2), ha);
	ck_assert_uint_ne(document_hash_of(&s1, &b, 17, 2), ha);
	ck_assert_uint_eq(document_hash_of(&s1, &b, 17, 2),
			  document_hash_of(&s1, &b, 3, 1));
	/* The key is not the document's hash: scopes stay apart. */
	ck_assert_uint_ne(key_of(&s1, &a, 17, 2), ha);

	for (unsigned int i = 0; i < DOCS; i++) {
		char number[16];
		uint64_t high;

		snprintf(number, sizeof(number), "75%07u", 2100000 + i);
		a = document(number, "RUS", "950615");
		high = document_hash_of(&s1, &a, 17, 2) >> 32;
		for (unsigned int n = 2; n <= 4; n++)
			owners[n - 1][(high * n) >> 32]++;
	}
	/*
	 * An even share, within six standard deviations of a binomial
	 * (the secret is drawn anew at every run, so the counts vary): for
	 * d = count * n - DOCS, d's deviation is sqrt(DOCS * (n - 1)), so
	 * d * d < 36 * DOCS * (n - 1); for 4 owners, 6% of DOCS. Three
	 * deviations (3%, as this was) failed about one run in fifty.
	 */
	for (unsigned int n = 2; n <= 4; n++) {
		for (unsigned int o = 0; o < n; o++) {
			int64_t d = (int64_t)owners[n - 1][o] * n - DOCS;

			ck_assert_msg(d * d < INT64_C(36) * DOCS * (n - 1),
				      "%u of %u documents to owner %u of %u",
				      owners[n - 1][o], DOCS, o, n);
		}
	}
}
END_TEST

START_TEST(window)
{
	struct dedup_table *t = dedup_create("window", 1024, 30 * MIN_MS, 0);
	struct dedup_stats st;

	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(dedup_seen(t, 1, 0), 0);		/* counted */
	ck_assert_int_eq(dedup_seen(t, 1, 10 * MIN_MS), 1);	/* re-scan */
	/* The window runs from the counted scan, not the re-scans. */
	ck_assert_int_eq(dedup_seen(t, 1, 29 * MIN_MS + 59999), 1);
	ck_assert_int_eq(dedup_seen(t, 1, 30 * MIN_MS), 0);	/* counted again */
	ck_assert_int_eq(dedup_seen(t, 1, 31 * MIN_MS), 1);
	/* Out of order by less than the window: still a re-scan. */
	ck_assert_int_eq(dedup_seen(t, 1, 10 * MIN_MS), 1);
	ck_assert_int_eq(dedup_seen(t, 2, 31 * MIN_MS), 0);
	dedup_stats(t, &st);
	ck_assert_uint_eq(st.entries, 2);
	ck_assert_uint_eq(st.capacity, 1024);
	ck_assert_uint_eq(st.evictions, 0);
	ck_assert_uint_gt(st.bytes, 1024 * 16);
	dedup_free(t);
}
END_TEST

START_TEST(capacity_and_eviction)
{
	struct dedup_table *t = dedup_create("evict", 1024, 30 * MIN_MS, 0);
	struct dedup_stats st;

	ck_assert_ptr_nonnull(t);
	/* 1500 keys inside one window: the 476 oldest are evicted. */
	for (uint64_t k = 1; k <= 1500; k++)
		ck_assert_int_eq(dedup_seen(t, k * 0x9e3779b97f4a7c15, (int64_t)k), 0);
	dedup_stats(t, &st);
	ck_assert_uint_eq(st.entries, 1024);
	ck_assert_uint_eq(st.evictions, 476);
	ck_assert_uint_eq(st.expired, 0);
	ck_assert_int_eq(dedup_seen(t, 1 * 0x9e3779b97f4a7c15, 1501), 0);	/* gone */
	ck_assert_int_eq(dedup_seen(t, 1500 * 0x9e3779b97f4a7c15, 1502), 1);
	/* Later keys push out those past their window as expired, not as
	 * evictions. */
	for (uint64_t k = 2000; k < 2100; k++)
		dedup_seen(t, k * 0x9e3779b97f4a7c15, 60 * MIN_MS);
	dedup_stats(t, &st);
	ck_assert_uint_eq(st.evictions, 477);
	ck_assert_uint_gt(st.expired, 0);
	ck_assert_uint_le(st.entries, 1024);
	dedup_free(t);
}
END_TEST

/* A key counted again after its window moves to the FIFO's tail: it is
 * not evicted before keys counted after its first window. */
START_TEST(recounted_keys_move_to_the_tail)
{
	struct dedup_table *t = dedup_create("tail", 8, 10, 0);
	struct dedup_stats st;

	ck_assert_ptr_nonnull(t);
	for (uint64_t k = 1; k <= 8; k++)
		dedup_seen(t, k << 40, 100);
	ck_assert_int_eq(dedup_seen(t, UINT64_C(1) << 40, 200), 0);
	/* Keys 2..8 expire at the head; key 1 is still held. */
	for (uint64_t k = 9; k <= 15; k++)
		dedup_seen(t, k << 40, 205);
	ck_assert_int_eq(dedup_seen(t, UINT64_C(1) << 40, 205), 1);
	dedup_stats(t, &st);
	ck_assert_uint_eq(st.evictions, 0);
	ck_assert_uint_eq(st.entries, 8);
	dedup_free(t);
}
END_TEST

/* The bulk lookup answers exactly as lookups one by one, also when a
 * batch repeats keys, re-counts them or evicts them. */
/* Capacity and distinct keys: a table of 8 wraps around within a batch,
 * so slots a bulk lookup found are reused before the batch ends. */
static const unsigned int bulk_shapes[][2] = { { 256, 400 }, { 8, 12 } };

START_TEST(bulk_equals_one_by_one)
{
	unsigned int capacity = bulk_shapes[_i][0], distinct = bulk_shapes[_i][1];
	struct dedup_table *one = dedup_create("one", capacity, 100, 0);
	struct dedup_table *bulk = dedup_create("bulk", capacity, 100, 0);
	uint64_t keys[DEDUP_BULK_MAX];
	int64_t times[DEDUP_BULK_MAX], now = 0;
	uint8_t seen[DEDUP_BULK_MAX];
	struct dedup_stats a, b;
	unsigned int dups = 0;

	ck_assert_ptr_nonnull(one);
	ck_assert_ptr_nonnull(bulk);
	srand(11);
	for (int round = 0; round < 2000; round++) {
		unsigned int n = 1 + rand() % DEDUP_BULK_MAX;

		for (unsigned int i = 0; i < n; i++) {
			/* More keys than places: evictions happen. */
			keys[i] = (uint64_t)(rand() % distinct + 1) *
				  UINT64_C(0x9e3779b97f4a7c15);
			now += rand() % 3;
			times[i] = now - rand() % 20;
		}
		dedup_seen_bulk(bulk, keys, times, n, seen);
		for (unsigned int i = 0; i < n; i++) {
			ck_assert_int_eq(seen[i], dedup_seen(one, keys[i], times[i]));
			dups += seen[i];
		}
	}
	dedup_stats(one, &a);
	dedup_stats(bulk, &b);
	ck_assert_uint_eq(a.entries, b.entries);
	ck_assert_uint_eq(a.evictions, b.evictions);
	ck_assert_uint_eq(a.expired, b.expired);
	ck_assert_uint_gt(dups, 1000);
	ck_assert_uint_gt(a.evictions + a.expired, 1000);
	dedup_free(one);
	dedup_free(bulk);
}
END_TEST

START_TEST(bad_parameters)
{
	ck_assert_ptr_null(dedup_create("bad1", 4, 1000, 0));
	ck_assert_int_eq(rte_errno, EINVAL);
	ck_assert_ptr_null(dedup_create("bad2", 1024, 0, 0));
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("dedup");
	TCase *tc = tcase_create("dedup");

	eal_init_for_test("test_dedup");
	tcase_add_test(tc, siphash_reference_vectors);
	tcase_add_test(tc, document_keys);
	tcase_add_test(tc, document_hashes);
	tcase_add_test(tc, window);
	tcase_add_test(tc, capacity_and_eviction);
	tcase_add_test(tc, recounted_keys_move_to_the_tail);
	tcase_add_loop_test(tc, bulk_equals_one_by_one, 0,
			    sizeof(bulk_shapes) / sizeof(bulk_shapes[0]));
	tcase_add_test(tc, bad_parameters);
	suite_add_tcase(s, tc);
	return check_run(s);
}
