/* SPDX-License-Identifier: BSD-3-Clause */

/* lib/conf: the configuration file, its defaults and its errors. */

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_run.h"
#include "conf.h"
#include "wire.h"

/* Writes text to a temporary file and loads it over the defaults. */
static int
load(const char *text, struct conf *conf, char *err, size_t err_len)
{
	char path[] = "/tmp/crossings-conf-XXXXXX";
	int fd = mkstemp(path), rc;
	FILE *f = fdopen(fd, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	conf_defaults(conf);
	rc = conf_load(conf, path, err, err_len);
	unlink(path);
	return rc;
}

START_TEST(example_file)
{
	struct conf c;
	char err[256] = "";

	ck_assert_int_eq(load(
		"[node]\nname = lars-1                   ; node id used in Redis\n\n"
		"[redis]\nhost = 10.0.0.5\nport = 6380\npassword =\n"
		"flush_interval_ms = 500\nflush_max_pairs = 500\nwait_replicas = 2\n\n"
		"[ingest]\nudp_ports = 7470, 7471\n\n"
		"[dedup]\nwindow_s = 900\nscope = direction\ncapacity = 65536\n\n"
		"[aggregate]\nage_bands = 0-17,18-64,65+\n\n"
		"[checkpoint verkhny-lars]\nid = 17\n\n"
		"[checkpoint raw-only]\n\n"
		"[scanner lars-exit-1]\naddress = 10.17.0.21\n"
		"checkpoint = verkhny-lars\ndirection = exit\n\n"
		"[scanner v6]\naddress = fd00:17::/64\ncheckpoint = raw-only\n",
		&c, err, sizeof(err)), 0);
	ck_assert_str_eq(c.node, "lars-1");
	ck_assert_str_eq(c.redis.host, "10.0.0.5");
	ck_assert_uint_eq(c.redis.port, 6380);
	ck_assert_str_eq(c.redis.password, "");
	ck_assert_uint_eq(c.redis.flush_interval_ms, 500);
	ck_assert_uint_eq(c.redis.flush_max_pairs, 500);
	ck_assert_uint_eq(c.redis.wait_replicas, 2);
	ck_assert_uint_eq(c.udp_port_count, 2);
	ck_assert_uint_eq(c.udp_ports[1], 7471);
	ck_assert_uint_eq(c.window_s, 900);
	ck_assert_int_eq(c.scope, CONF_SCOPE_DIRECTION);
	ck_assert_uint_eq(c.capacity, 65536);
	ck_assert_uint_eq(c.bands.count, 3);
	ck_assert_uint_eq(c.checkpoint_count, 2);
	ck_assert(c.checkpoints[0].has_id && c.checkpoints[0].id == 17);
	ck_assert(!c.checkpoints[1].has_id);
	ck_assert_uint_eq(c.scanner_count, 2);
	ck_assert_str_eq(c.scanners[0].name, "lars-exit-1");
	ck_assert_uint_eq(c.scanners[0].family, 4);
	ck_assert_uint_eq(c.scanners[0].prefix_len, 32);
	ck_assert_uint_eq(c.scanners[0].direction, WIRE_DIRECTION_EXIT);
	ck_assert_uint_eq(c.scanners[1].family, 6);
	ck_assert_uint_eq(c.scanners[1].prefix_len, 64);
	ck_assert_uint_eq(c.scanners[1].checkpoint, 1);
	ck_assert_uint_eq(c.scanners[1].direction, WIRE_DIRECTION_UNKNOWN);
	conf_free(&c);
}
END_TEST

/* IPv6 hosts with or without brackets; the brackets are not kept. */
START_TEST(ipv6_host)
{
	struct conf c;
	char err[512];

	ck_assert_int_eq(load("[redis]\nhost = [fd00:17::5]\n", &c, err, sizeof(err)), 0);
	ck_assert_str_eq(c.redis.host, "fd00:17::5");
	conf_free(&c);
	ck_assert_int_eq(load("[redis]\nhost = ::1\n", &c, err, sizeof(err)), 0);
	ck_assert_str_eq(c.redis.host, "::1");
	conf_free(&c);
}
END_TEST

START_TEST(defaults)
{
	struct conf c;

	conf_defaults(&c);
	ck_assert_str_eq(c.redis.host, "127.0.0.1");
	ck_assert_uint_eq(c.redis.port, 6379);
	ck_assert_uint_eq(c.redis.flush_interval_ms, 1000);
	ck_assert_uint_eq(c.redis.flush_max_pairs, 10000);
	ck_assert_uint_eq(c.redis.wait_replicas, 0);
	ck_assert_uint_eq(c.udp_port_count, 1);
	ck_assert_uint_eq(c.udp_ports[0], 7470);
	ck_assert_uint_eq(c.window_s, 1800);
	ck_assert_int_eq(c.scope, CONF_SCOPE_CHECKPOINT_DIRECTION);
	ck_assert_uint_eq(c.capacity, 4194304);
	ck_assert_uint_eq(c.bands.count, 6);
	ck_assert_uint_eq(c.checkpoint_count, 0);
	ck_assert_uint_eq(c.scanner_count, 0);
	ck_assert(c.node[0] != '\0');
	conf_free(&c);
}
END_TEST

/* Each bad file gives -EINVAL and a message naming line and key. */
START_TEST(errors_name_line_and_key)
{
	static const struct {
		const char *text, *message;
	} bad[] = {
		{ "[dedup]\nwindow = 5\n", ":2: [dedup] window: unknown key" },
		{ "[dedup]\n\nwindow_s = 0\n", ":3: [dedup] window_s: expected" },
		{ "[dedup]\nscope = node\n", ":2: [dedup] scope: expected" },
		{ "[dedup]\ncapacity = 10\n", ":2: [dedup] capacity:" },
		{ "[redis]\nport = 0\n", ":2: [redis] port:" },
		{ "[redis]\nhost = []\n", ":2: [redis] host: empty" },
		{ "[redis]\nhost = [::1]:6379\n", ":2: [redis] host: expected a name" },
		{ "[redis]\nport = 6379x\n", ":2: [redis] port:" },
		{ "[redis]\nwait_replicas = 65\n", ":2: [redis] wait_replicas: expected 0..64" },
		{ "[ingest]\nudp_ports = 7470,,7471\n", ":2: [ingest] udp_ports:" },
		{ "[node]\nname = Lars 1\n", ":2: [node] name:" },
		{ "[frob]\n", ":1: [frob]: unknown section" },
		{ "key = 1\n", ":1: entry before any [section]" },
		{ "[node\n", ":1: section header without ']'" },
		{ "[node]\nname\n", ":2: expected 'key = value'" },
		{ "[node]\nname = a\nname = b\n", ":3: [node] name: given twice" },
		{ "[node]\n[node]\n", ":2: [node]: section given twice" },
		{ "[checkpoint A]\n", ":1: [checkpoint A]: checkpoint name" },
		{ "[checkpoint a]\nid = 1\n[checkpoint b]\nid = 1\n",
		  ":4: [checkpoint b] id: id already used" },
		{ "[checkpoint a]\nid = x\n", ":2: [checkpoint a] id:" },
		{ "[scanner s]\ncheckpoint = a\n", ":1: [scanner s] address: missing" },
		{ "[checkpoint a]\n[scanner s]\naddress = 10.0.0.1\ncheckpoint = b\n",
		  ":4: [scanner s] checkpoint: no [checkpoint]" },
		{ "[checkpoint a]\n[scanner s]\naddress = 10.0.0.1/8\ncheckpoint = a\n",
		  ":3: [scanner s] address:" },
		{ "[checkpoint a]\n[scanner s]\naddress = 10.0.0.300\ncheckpoint = a\n",
		  ":3: [scanner s] address:" },
		{ "[checkpoint a]\n[scanner s]\naddress = 10.0.0.1\ncheckpoint = a\n"
		  "direction = out\n", ":5: [scanner s] direction:" },
		{ "[checkpoint a]\n[scanner s]\naddress = 10.0.0.0/24\ncheckpoint = a\n"
		  "[scanner t]\naddress = 10.0.0.0/24\ncheckpoint = a\n",
		  ":6: [scanner t] address: same address" },
		{ "[aggregate]\nage_bands = 0-17,18-64\n", ":2: [aggregate] age_bands:" },
	};
	struct conf c;
	char err[512];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		ck_assert_msg(load(bad[i].text, &c, err, sizeof(err)) == -EINVAL,
			      "accepted %s", bad[i].text);
		ck_assert_msg(strstr(err, bad[i].message) != NULL,
			      "'%s' does not say '%s'", err, bad[i].message);
		ck_assert_msg(strchr(err, '\n') == NULL, "two lines: %s", err);
		conf_free(&c);
	}
}
END_TEST

/* Headers without keys change nothing (found by fuzz_conf: the loader
 * had no entry lines and added an offset to no pointer). */
START_TEST(sections_without_keys)
{
	struct conf c;
	char err[256] = "";

	ck_assert_int_eq(load("[node]\n[dedup]\n[aggregate]\n", &c, err,
			      sizeof(err)), 0);
	ck_assert_str_eq(err, "");
	ck_assert_uint_eq(c.window_s, 1800);
	ck_assert_uint_eq(c.capacity, 4194304);
	ck_assert_uint_eq(c.bands.count, 6);
	ck_assert(c.node[0] != '\0');
	conf_free(&c);
}
END_TEST

START_TEST(missing_file)
{
	struct conf c;
	char err[256];

	conf_defaults(&c);
	ck_assert_int_eq(conf_load(&c, "/nonexistent/crossings.ini", err,
				   sizeof(err)), -ENOENT);
	ck_assert(strstr(err, "/nonexistent/crossings.ini: ") == err);
	conf_free(&c);
}
END_TEST

/* A file that is no text is refused at its first NUL, and anything but
 * a regular file as a missing one: /dev/zero used to be read for ever,
 * as empty lines, a directory as an empty file, and a pipe, read twice,
 * gave "cannot be parsed". */
START_TEST(not_a_text_file)
{
	static const char text[] = "[node]\nname = a\0b\n";
	char path[] = "/tmp/crossings-conf-XXXXXX";
	int fd = mkstemp(path);
	struct conf c;
	char err[256];

	ck_assert_int_eq(write(fd, text, sizeof(text) - 1), (ssize_t)sizeof(text) - 1);
	close(fd);
	conf_defaults(&c);
	ck_assert_int_eq(conf_load(&c, path, err, sizeof(err)), -EINVAL);
	unlink(path);
	ck_assert_msg(strstr(err, ":2: a NUL byte: not a text file") != NULL, "%s", err);
	conf_free(&c);

	conf_defaults(&c);
	ck_assert_int_eq(conf_load(&c, "/dev/zero", err, sizeof(err)), -ENOENT);
	ck_assert_str_eq(err, "/dev/zero: not a regular file");
	conf_free(&c);

	conf_defaults(&c);
	ck_assert_int_eq(conf_load(&c, "/tmp", err, sizeof(err)), -ENOENT);
	ck_assert_str_eq(err, "/tmp: Is a directory");
	conf_free(&c);
}
END_TEST

START_TEST(prefixes)
{
	uint8_t family, addr[16], len;

	ck_assert_int_eq(conf_parse_prefix("10.17.0.21", &family, addr, &len), 0);
	ck_assert(family == 4 && len == 32 && addr[0] == 10 && addr[3] == 21);
	ck_assert_int_eq(conf_parse_prefix("10.17.0.0/16", &family, addr, &len), 0);
	ck_assert_uint_eq(len, 16);
	ck_assert_int_eq(conf_parse_prefix("fd00:17::/64", &family, addr, &len), 0);
	ck_assert(family == 6 && len == 64 && addr[0] == 0xfd && addr[3] == 0x17);
	ck_assert_int_eq(conf_parse_prefix("::1", &family, addr, &len), 0);
	ck_assert(family == 6 && len == 128 && addr[15] == 1);
	ck_assert_int_eq(conf_parse_prefix("10.17.0.1/16", &family, addr, &len), -EINVAL);
	ck_assert_int_eq(conf_parse_prefix("10.17.0.0/33", &family, addr, &len), -EINVAL);
	ck_assert_int_eq(conf_parse_prefix("10.17.0.0/0", &family, addr, &len), -EINVAL);
	ck_assert_int_eq(conf_parse_prefix("10.17.0.0/", &family, addr, &len), -EINVAL);
	ck_assert_int_eq(conf_parse_prefix("10.17.0.0/-8", &family, addr, &len), -EINVAL);
	ck_assert_int_eq(conf_parse_prefix("fd00::/129", &family, addr, &len), -EINVAL);
	ck_assert_int_eq(conf_parse_prefix("host.example", &family, addr, &len), -EINVAL);
	ck_assert_int_eq(conf_parse_prefix("", &family, addr, &len), -EINVAL);
}
END_TEST

/*
 * A reload: checkpoints keep their places, new ones come after them,
 * one dropped from the file stays without an id, scanners follow.
 */
START_TEST(reload_keeps_checkpoint_places)
{
	static const char *const head = "[node]\nname = lars-1\n[dedup]\nwindow_s = 900\n";
	struct conf cur, next;
	char text[1024], err[256] = "";

	snprintf(text, sizeof(text), "%s"
		 "[checkpoint a]\nid = 1\n[checkpoint b]\nid = 2\n[checkpoint c]\nid = 3\n"
		 "[scanner s1]\naddress = 10.0.0.1\ncheckpoint = b\n", head);
	ck_assert_int_eq(load(text, &cur, err, sizeof(err)), 0);
	/* New ones before the old, b gone, c with another id. */
	snprintf(text, sizeof(text), "%s"
		 "[checkpoint n]\nid = 9\n[checkpoint c]\nid = 2\n[checkpoint a]\nid = 1\n"
		 "[scanner s1]\naddress = 10.0.0.1\ncheckpoint = c\n"
		 "[scanner s2]\naddress = 10.0.0.2\ncheckpoint = n\n"
		 "[scanner s3]\naddress = 10.0.0.3\ncheckpoint = a\n", head);
	ck_assert_int_eq(load(text, &next, err, sizeof(err)), 0);
	ck_assert_int_eq(conf_reload(&cur, &next, err, sizeof(err)), 0);
	ck_assert_uint_eq(next.checkpoint_count, 4);
	ck_assert_str_eq(next.checkpoints[0].name, "a");
	ck_assert(next.checkpoints[0].has_id && next.checkpoints[0].id == 1);
	ck_assert_str_eq(next.checkpoints[1].name, "b");
	ck_assert(!next.checkpoints[1].has_id);
	ck_assert_str_eq(next.checkpoints[2].name, "c");
	ck_assert(next.checkpoints[2].has_id && next.checkpoints[2].id == 2);
	ck_assert_str_eq(next.checkpoints[3].name, "n");
	ck_assert_uint_eq(next.checkpoints[3].id, 9);
	ck_assert_uint_eq(next.scanners[0].checkpoint, 2);
	ck_assert_uint_eq(next.scanners[1].checkpoint, 3);
	ck_assert_uint_eq(next.scanners[2].checkpoint, 0);
	conf_free(&cur);
	conf_free(&next);
}
END_TEST

/* Anything but checkpoints and scanners needs a restart: named. */
START_TEST(reload_refuses_fixed_settings)
{
	static const struct {
		const char *text, *key;
	} changes[] = {
		{ "[node]\nname = lars-2\n", "[node] name" },
		{ "[ingest]\nudp_ports = 7471\n", "[ingest] udp_ports" },
		{ "[dedup]\nwindow_s = 60\n", "[dedup] window_s" },
		{ "[dedup]\nscope = direction\n", "[dedup] scope" },
		{ "[dedup]\ncapacity = 65536\n", "[dedup] capacity" },
		{ "[aggregate]\nage_bands = 0-17,18+\n", "[aggregate] age_bands" },
		{ "[redis]\nport = 6380\n", "[redis] host, port or unix" },
		{ "[redis]\nunix = /run/redis.sock\n", "[redis] host, port or unix" },
		{ "[redis]\npassword = x\n", "[redis] user or password" },
		{ "[redis]\nflush_interval_ms = 10\n", "[redis] flush_interval_ms" },
		{ "[redis]\nwait_replicas = 1\n", "[redis] wait_replicas" },
	};
	struct conf cur, next;
	char err[256];

	ck_assert_int_eq(load("[checkpoint a]\nid = 1\n", &cur, err, sizeof(err)), 0);
	for (unsigned int i = 0; i < sizeof(changes) / sizeof(changes[0]); i++) {
		char text[512];

		snprintf(text, sizeof(text), "[checkpoint a]\nid = 1\n%s", changes[i].text);
		ck_assert_int_eq(load(text, &next, err, sizeof(err)), 0);
		ck_assert_int_eq(conf_reload(&cur, &next, err, sizeof(err)), -EINVAL);
		ck_assert_msg(strstr(err, changes[i].key) && strstr(err, "restart"),
			      "%s: %s", changes[i].key, err);
		conf_free(&next);
	}
	/* The same file again is a reload that changes nothing. */
	ck_assert_int_eq(load("[checkpoint a]\nid = 1\n", &next, err, sizeof(err)), 0);
	ck_assert_int_eq(conf_reload(&cur, &next, err, sizeof(err)), 0);
	ck_assert_uint_eq(next.checkpoint_count, 1);
	conf_free(&next);
	conf_free(&cur);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("conf");
	TCase *tc = tcase_create("conf");

	tcase_add_test(tc, example_file);
	tcase_add_test(tc, ipv6_host);
	tcase_add_test(tc, defaults);
	tcase_add_test(tc, errors_name_line_and_key);
	tcase_add_test(tc, sections_without_keys);
	tcase_add_test(tc, missing_file);
	tcase_add_test(tc, not_a_text_file);
	tcase_add_test(tc, prefixes);
	tcase_add_test(tc, reload_keeps_checkpoint_places);
	tcase_add_test(tc, reload_refuses_fixed_settings);
	suite_add_tcase(s, tc);
	return check_run(s);
}
