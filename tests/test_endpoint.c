/* SPDX-License-Identifier: BSD-3-Clause */

/* lib/endpoint: --redis HOST:PORT, [IPV6]:PORT and unix:PATH. */

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "check_run.h"
#include "endpoint.h"

static void
parses(const char *text, const char *host, unsigned int port)
{
	struct endpoint e;

	ck_assert_msg(endpoint_parse(&e, text) == 0, "%s refused", text);
	ck_assert_str_eq(e.host, host);
	ck_assert_uint_eq(e.port, port);
	ck_assert_str_eq(e.unix_path, "");
}

static void
refused(const char *text, int error)
{
	struct endpoint e;

	ck_assert_msg(endpoint_parse(&e, text) == error, "%s: %d, expected %d",
		      text, endpoint_parse(&e, text), error);
}

START_TEST(host_and_port)
{
	parses("127.0.0.1:6379", "127.0.0.1", 6379);
	parses("redis.example.org:1", "redis.example.org", 1);
	parses("localhost:65535", "localhost", 65535);
	/* A bare IPv6 address: the port follows the last colon. */
	parses("::1:6380", "::1", 6380);
	parses("[::1]:6380", "::1", 6380);
	parses("[fd00:17::abcd]:7000", "fd00:17::abcd", 7000);
}
END_TEST

START_TEST(unix_socket)
{
	struct endpoint e;

	ck_assert_int_eq(endpoint_parse(&e, "unix:/run/redis/redis.sock"), 0);
	ck_assert_str_eq(e.unix_path, "/run/redis/redis.sock");
	ck_assert_str_eq(e.host, "");
	refused("unix:", -EINVAL);
}
END_TEST

START_TEST(bad_forms)
{
	refused("", -EINVAL);
	refused("localhost", -EINVAL);
	refused(":6379", -EINVAL);
	refused("[]:6379", -EINVAL);
	refused("[::1]", -EINVAL);
	refused("[::1]6379", -EINVAL);
	refused("[::1:6379", -EINVAL);
}
END_TEST

START_TEST(bad_ports)
{
	refused("localhost:", -ERANGE);
	refused("localhost:0", -ERANGE);
	refused("localhost:65536", -ERANGE);
	refused("localhost:63x9", -ERANGE);
	refused("localhost:+6379", -ERANGE);
	refused("localhost: 6379", -ERANGE);
	refused("localhost:-1", -ERANGE);
	refused("localhost:99999999999999999999999", -ERANGE);
	refused("[::1]:", -ERANGE);
}
END_TEST

/* Names and paths up to their arrays' size less the NUL. */
START_TEST(lengths)
{
	char text[400], host[256];
	struct endpoint e;

	memset(host, 'h', 255);
	host[255] = '\0';
	snprintf(text, sizeof(text), "%s:6379", host);
	parses(text, host, 6379);
	snprintf(text, sizeof(text), "h%s:6379", host);
	refused(text, -EINVAL);
	memset(text, 'p', sizeof(text));
	memcpy(text, "unix:", 5);
	text[5 + 107] = '\0';
	ck_assert_int_eq(endpoint_parse(&e, text), 0);
	ck_assert_uint_eq(strlen(e.unix_path), 107);
	text[5 + 107] = 'p';
	text[5 + 108] = '\0';
	refused(text, -EINVAL);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("endpoint");
	TCase *tc = tcase_create("endpoint");

	tcase_add_test(tc, host_and_port);
	tcase_add_test(tc, unix_socket);
	tcase_add_test(tc, bad_forms);
	tcase_add_test(tc, bad_ports);
	tcase_add_test(tc, lengths);
	suite_add_tcase(s, tc);
	return check_run(s);
}
