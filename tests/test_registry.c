/* SPDX-License-Identifier: BSD-3-Clause */

/* lib/registry: scanners by source address, checkpoints by id (EAL). */

#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_run.h"
#include "conf.h"
#include "eal_init.h"
#include "registry.h"

static void
add_checkpoint(struct conf *c, const char *name, uint32_t id)
{
	struct conf_checkpoint *cp = &c->checkpoints[c->checkpoint_count++];

	strcpy(cp->name, name);
	cp->has_id = id != 0;
	cp->id = id;
}

static void
add_scanner(struct conf *c, const char *prefix, unsigned int checkpoint)
{
	struct conf_scanner *s = &c->scanners[c->scanner_count];

	/* Named by their index, which lookup() returns. */
	snprintf(s->name, sizeof(s->name), "%u", c->scanner_count++);

	ck_assert_int_eq(conf_parse_prefix(prefix, &s->family, s->addr,
					   &s->prefix_len), 0);
	s->checkpoint = checkpoint;
}

static int
lookup(const struct registry *r, const char *text)
{
	uint8_t addr[16] = { 0 };
	const struct conf_scanner *s;

	if (inet_pton(AF_INET, text, addr) == 1) {
		s = registry_scanner(r, 4, addr);
	} else {
		ck_assert_int_eq(inet_pton(AF_INET6, text, addr), 1);
		s = registry_scanner(r, 6, addr);
	}
	return s != NULL ? atoi(s->name) : -1;
}

START_TEST(longest_prefix_wins)
{
	struct conf_checkpoint cps[4];
	struct conf_scanner scanners[8];
	struct conf c = { .checkpoints = cps, .scanners = scanners };
	struct registry *r;

	add_checkpoint(&c, "a", 17);
	add_checkpoint(&c, "b", 0);
	add_checkpoint(&c, "c", 4000000000u);
	add_scanner(&c, "10.17.0.0/16", 0);		/* 0 */
	add_scanner(&c, "10.17.1.0/24", 0);		/* 1 */
	add_scanner(&c, "10.17.1.128/25", 1);		/* 2 */
	add_scanner(&c, "10.17.1.200", 2);		/* 3 */
	add_scanner(&c, "fd00:17::/32", 0);		/* 4 */
	add_scanner(&c, "fd00:17:0:1::/64", 1);		/* 5 */
	add_scanner(&c, "fd00:17:0:1::9", 2);		/* 6 */
	r = registry_create(&c, 0);
	ck_assert_ptr_nonnull(r);
	/* The registry answers from its own copy of the scanners. */
	memset(scanners, 0, sizeof(scanners));
	ck_assert_int_eq(lookup(r, "10.17.9.9"), 0);
	ck_assert_int_eq(lookup(r, "10.17.1.5"), 1);
	ck_assert_int_eq(lookup(r, "10.17.1.129"), 2);
	ck_assert_int_eq(lookup(r, "10.17.1.200"), 3);
	ck_assert_int_eq(lookup(r, "10.18.0.1"), -1);
	ck_assert_int_eq(lookup(r, "fd00:17:5::1"), 4);
	ck_assert_int_eq(lookup(r, "fd00:17:0:1::8"), 5);
	ck_assert_int_eq(lookup(r, "fd00:17:0:1::9"), 6);
	ck_assert_int_eq(lookup(r, "fd00:18::1"), -1);
	/* IPv4 traffic never matches an IPv6 prefix and the reverse. */
	ck_assert_int_eq(lookup(r, "::ffff:10.17.1.5"), -1);
	ck_assert_int_eq(registry_checkpoint(r, 17), 0);
	ck_assert_int_eq(registry_checkpoint(r, 4000000000u), 2);
	ck_assert_int_eq(registry_checkpoint(r, 0), -1);
	ck_assert_int_eq(registry_checkpoint(r, 18), -1);
	registry_free(r);
}
END_TEST

START_TEST(empty_registry)
{
	struct conf c = { 0 };
	struct registry *r = registry_create(&c, 0);

	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(lookup(r, "10.17.1.5"), -1);
	ck_assert_int_eq(lookup(r, "fd00::1"), -1);
	ck_assert_int_eq(registry_checkpoint(r, 17), -1);
	registry_free(r);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("registry");
	TCase *tc = tcase_create("registry");

	eal_init_for_test("test_registry");
	tcase_add_test(tc, longest_prefix_wins);
	tcase_add_test(tc, empty_registry);
	suite_add_tcase(s, tc);
	return check_run(s);
}
