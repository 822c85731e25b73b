/* SPDX-License-Identifier: BSD-3-Clause */

/* lib/publish against a real redis-server: exactly-once flushes. */

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "check_run.h"
#include "publish.h"
#include "redis_server.h"

static struct redis_server server;

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct conf_redis
redis_conf(void)
{
	struct conf_redis r;

	memset(&r, 0, sizeof(r));
	strcpy(r.unix_path, server.socket);
	r.timeout_ms = 300;
	r.flush_interval_ms = 100;
	return r;
}

/* n increments of "crossings:cp:exit:all" total, as a flush holds them. */
static struct agg_increment *
increments(uint32_t fields, uint64_t n)
{
	struct agg_increment *inc = calloc(fields, sizeof(*inc));

	for (uint32_t i = 0; i < fields; i++) {
		snprintf(inc[i].key, sizeof(inc[i].key),
			 "crossings:test-%u:exit:h:20220927%02u", i % 3, i % 24);
		snprintf(inc[i].field, sizeof(inc[i].field), "nat:A%05u", i);
		inc[i].n = n;
	}
	return inc;
}

/* Submits one flush and runs it until it is acknowledged. */
static void
flush_until_acked(struct publish *p, uint32_t fields, uint64_t n)
{
	struct publish_status st = { "frames", 42 };
	char err[512];
	int rc;

	ck_assert_int_eq(publish_submit(p, increments(fields, n), fields, &st, 1,
					now_ms()), 0);
	for (int i = 0; i < 300 && (rc = publish_run(p, now_ms(), err, sizeof(err))) != 0; i++)
		usleep(20000);
	ck_assert_msg(rc == 0, "not acknowledged: %s", err);
}

static uint64_t
field_of(const struct redis_server *rs, const char *key, const char *name)
{
	char args[256], out[64];

	snprintf(args, sizeof(args), "hget %s %s", key, name);
	return strtoull(redis_cli(rs, args, out, sizeof(out)), NULL, 10);
}

static uint64_t
field(const char *key, const char *name)
{
	return field_of(&server, key, name);
}

static const char *const debug_allowed[] = { "--enable-debug-command", "local", NULL };

static void
setup(void)
{
	memset(&server, 0, sizeof(server));
	ck_assert_int_eq(redis_server_start(&server, debug_allowed), 0);
}

static void
teardown(void)
{
	redis_server_stop(&server, SIGTERM);
	rmdir(server.dir);
}

START_TEST(applied_once_per_run_and_sequence)
{
	struct conf_redis r = redis_conf();
	struct publish *a = publish_create(&r, "lars-1", "run-a", "test");
	struct publish *again = publish_create(&r, "lars-1", "run-a", "test");
	struct publish *next = publish_create(&r, "lars-1", "run-b", "test");
	struct publish *other = publish_create(&r, "lars-2", "run-a", "test");
	struct publish_stats st;
	char err[512], out[64];

	ck_assert_int_eq(publish_connect(a, err, sizeof(err)), 0);
	flush_until_acked(a, 10, 3);
	ck_assert_uint_eq(field("crossings:test-1:exit:h:2022092701", "nat:A00001"), 3);
	/* The same (node, run, seq) again, as after a lost reply: nothing. */
	flush_until_acked(again, 10, 3);
	publish_stats(again, &st);
	ck_assert_uint_eq(st.replays, 1);
	ck_assert_uint_eq(field("crossings:test-1:exit:h:2022092701", "nat:A00001"), 3);
	/* A new run of the node, or another node, is no replay. */
	flush_until_acked(next, 10, 3);
	flush_until_acked(other, 10, 3);
	ck_assert_uint_eq(field("crossings:test-1:exit:h:2022092701", "nat:A00001"), 9);
	/* The next sequence of the first run applies. */
	flush_until_acked(a, 10, 1);
	ck_assert_uint_eq(field("crossings:test-1:exit:h:2022092701", "nat:A00001"), 10);
	publish_stats(a, &st);
	ck_assert_uint_eq(st.flushes, 2);
	ck_assert_uint_eq(st.replays, 0);
	ck_assert_uint_eq(st.seq, 2);
	/* Node status and the checkpoint set. */
	ck_assert_str_eq(redis_cli(&server, "hget crossings:node:lars-1 run", out, sizeof(out)),
			 "run-a");
	ck_assert_str_eq(redis_cli(&server, "hget crossings:node:lars-1 seq", out, sizeof(out)),
			 "2");
	ck_assert_str_eq(redis_cli(&server, "hget crossings:node:lars-1 frames", out, sizeof(out)),
			 "42");
	ck_assert_str_eq(redis_cli(&server, "scard crossings:checkpoints", out, sizeof(out)),
			 "3");
	publish_free(a);
	publish_free(again);
	publish_free(next);
	publish_free(other);
}
END_TEST

START_TEST(script_reloaded_after_flush)
{
	struct conf_redis r = redis_conf();
	struct publish *p = publish_create(&r, "n", "r", "test");
	char err[512], out[64];

	ck_assert_int_eq(publish_connect(p, err, sizeof(err)), 0);
	redis_cli(&server, "script flush", out, sizeof(out));
	flush_until_acked(p, 5, 2);
	ck_assert_uint_eq(field("crossings:test-0:exit:h:2022092700", "nat:A00000"), 2);
	publish_free(p);
}
END_TEST

/* The reply never comes within the timeout: the flush is resent, and
 * the server applies it once. */
START_TEST(lost_reply_resent_applied_once)
{
	struct conf_redis r = redis_conf();
	struct publish *p = publish_create(&r, "n", "r", "test");
	struct publish_stats st;
	char err[512], out[256];
	int rc, tries = 0;

	ck_assert_int_eq(publish_connect(p, err, sizeof(err)), 0);
	ck_assert_int_eq(publish_submit(p, increments(100, 1), 100, NULL, 0, now_ms()), 0);
	/* The server sleeps past the 300 ms read timeout, then reads and
	 * runs the flush, whose reply nobody reads any more. */
	snprintf(out, sizeof(out), "redis-cli -s %s debug sleep 1 >/dev/null &", server.socket);
	ck_assert_int_eq(system(out), 0);
	usleep(200000);
	rc = publish_run(p, now_ms(), err, sizeof(err));
	ck_assert_int_eq(rc, -ECONNRESET);
	ck_assert(strstr(err, "will be resent") != NULL);
	while ((rc = publish_run(p, now_ms(), err, sizeof(err))) != 0 && tries++ < 200)
		usleep(20000);
	ck_assert_int_eq(rc, 0);
	publish_stats(p, &st);
	ck_assert_uint_ge(st.errors, 1);
	ck_assert_uint_eq(st.flushes, 1);
	ck_assert_uint_eq(st.replays, 1);	/* the first send was applied */
	ck_assert_uint_ge(st.reconnects, 1);
	ck_assert_uint_eq(field("crossings:test-0:exit:h:2022092700", "nat:A00000"), 1);
	ck_assert_uint_eq(field("crossings:test-0:exit:h:2022092703", "nat:A00099"), 1);
	publish_free(p);
}
END_TEST

/* Redis away: the flush waits, then goes once when it is back. */
START_TEST(unreachable_then_back)
{
	struct conf_redis r = redis_conf();
	struct publish *p = publish_create(&r, "n", "r", "test");
	char err[512];

	redis_server_stop(&server, SIGKILL);
	ck_assert_int_eq(publish_connect(p, err, sizeof(err)), -ECONNREFUSED);
	ck_assert(strstr(err, server.socket) != NULL);
	ck_assert_int_eq(publish_submit(p, increments(3, 5), 3, NULL, 0, now_ms()), 0);
	ck_assert_int_eq(publish_run(p, now_ms(), err, sizeof(err)), -ECONNREFUSED);
	/* Within the backoff, no attempt is made. */
	ck_assert_int_eq(publish_run(p, now_ms(), err, sizeof(err)), 1);
	ck_assert_int_eq(redis_server_start(&server, NULL), 0);
	for (int i = 0; i < 300 && publish_run(p, now_ms(), err, sizeof(err)) != 0; i++)
		usleep(20000);
	ck_assert(publish_idle(p));
	flush_until_acked(p, 3, 1);
	ck_assert_uint_eq(field("crossings:test-2:exit:h:2022092702", "nat:A00002"), 6);
	publish_free(p);
}
END_TEST

START_TEST(authentication)
{
	static const char *const pass[] = { "--requirepass", "s3cret", NULL };
	struct conf_redis r;
	struct publish *p;
	char err[512], out[64];

	redis_server_stop(&server, SIGTERM);
	ck_assert_int_eq(redis_server_start(&server, pass), 0);
	r = redis_conf();
	/* No password, a wrong one: refused, clearly. */
	p = publish_create(&r, "n", "r", "test");
	ck_assert_int_eq(publish_connect(p, err, sizeof(err)), -EACCES);
	ck_assert(strstr(err, "authentication") != NULL);
	publish_free(p);
	strcpy(r.password, "wrong");
	p = publish_create(&r, "n", "r", "test");
	ck_assert_int_eq(publish_connect(p, err, sizeof(err)), -EACCES);
	ck_assert(strstr(err, "authentication refused") != NULL);
	publish_free(p);
	/* The right one, then an ACL user. */
	strcpy(r.password, "s3cret");
	p = publish_create(&r, "n", "r", "test");
	ck_assert_int_eq(publish_connect(p, err, sizeof(err)), 0);
	flush_until_acked(p, 2, 1);
	publish_free(p);
	redis_cli(&server, "-a s3cret --no-auth-warning acl setuser ingest on '>pw' "
		  "'~crossings:*' '&crossings:*' +@all", out, sizeof(out));
	ck_assert_str_eq(out, "OK");
	strcpy(r.user, "ingest");
	strcpy(r.password, "pw");
	p = publish_create(&r, "n", "r2", "test");
	ck_assert_int_eq(publish_connect(p, err, sizeof(err)), 0);
	flush_until_acked(p, 2, 1);
	publish_free(p);
	strcpy(r.password, "nope");
	p = publish_create(&r, "n", "r3", "test");
	ck_assert_int_eq(publish_connect(p, err, sizeof(err)), -EACCES);
	publish_free(p);
}
END_TEST

/* One attempt to deliver, a minute on, so that no backoff holds it. */
static int
run_after_backoff(struct publish *p, int64_t *clock, char *err, size_t err_len)
{
	*clock += 60000;
	return publish_run(p, *clock, err, err_len);
}

/*
 * A key or field the script cannot increment (another program wrote it
 * with another type, or a value that is no integer): the flush is
 * refused as a whole, again at every resend, and applies exactly once
 * when the key is mended. Without that, the increments before the bad
 * one would count again at every resend.
 */
START_TEST(refused_flush_applies_nothing)
{
	struct conf_redis r = redis_conf();
	struct publish *p = publish_create(&r, "lars-1", "r", "test");
	int64_t clock = now_ms();
	char err[512], out[64];

	/* Increments 5 and 4 of the ten; 0 to 3 come first. */
	redis_cli(&server, "set crossings:test-2:exit:h:2022092705 x", out, sizeof(out));
	redis_cli(&server, "hset crossings:test-1:exit:h:2022092704 nat:A00004 abc",
		  out, sizeof(out));
	ck_assert_int_eq(publish_connect(p, err, sizeof(err)), 0);
	ck_assert_int_eq(publish_submit(p, increments(10, 3), 10, NULL, 0, clock), 0);
	/* The node's status, written last, is checked first. */
	redis_cli(&server, "set crossings:node:lars-1 x", out, sizeof(out));
	ck_assert_int_eq(run_after_backoff(p, &clock, err, sizeof(err)), -EPROTO);
	ck_assert_msg(strstr(err, "WRONGTYPE crossings:node:lars-1 is a string, not a hash; "
			      "nothing of the flush applied"), "%s", err);
	redis_cli(&server, "del crossings:node:lars-1", out, sizeof(out));
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(run_after_backoff(p, &clock, err, sizeof(err)), -EPROTO);
		ck_assert_msg(strstr(err, "crossings:test-1:exit:h:2022092704 nat:A00004") &&
			      strstr(err, "not an integer") &&
			      strstr(err, "nothing of the flush applied"), "%s", err);
	}
	/* Not a field of the increments before it, not even at 0. */
	ck_assert_str_eq(redis_cli(&server, "exists crossings:test-0:exit:h:2022092700",
				   out, sizeof(out)), "0");
	ck_assert_str_eq(redis_cli(&server, "hlen crossings:test-1:exit:h:2022092701",
				   out, sizeof(out)), "0");
	ck_assert_str_eq(redis_cli(&server, "hget crossings:test-1:exit:h:2022092704 nat:A00004",
				   out, sizeof(out)), "abc");
	ck_assert_str_eq(redis_cli(&server, "exists crossings:node:lars-1 crossings:checkpoints "
				   "crossings:applied:lars-1", out, sizeof(out)), "0");

	redis_cli(&server, "hdel crossings:test-1:exit:h:2022092704 nat:A00004",
		  out, sizeof(out));
	ck_assert_int_eq(run_after_backoff(p, &clock, err, sizeof(err)), -EPROTO);
	ck_assert_msg(strstr(err, "crossings:test-2:exit:h:2022092705 nat:A00005") &&
		      strstr(err, "WRONGTYPE"), "%s", err);
	ck_assert_str_eq(redis_cli(&server, "hlen crossings:test-1:exit:h:2022092701",
				   out, sizeof(out)), "0");

	redis_cli(&server, "del crossings:test-2:exit:h:2022092705", out, sizeof(out));
	ck_assert_int_eq(run_after_backoff(p, &clock, err, sizeof(err)), 0);
	for (unsigned int i = 0; i < 10; i++) {
		char key[64], name[16];

		snprintf(key, sizeof(key), "crossings:test-%u:exit:h:20220927%02u", i % 3, i);
		snprintf(name, sizeof(name), "nat:A%05u", i);
		ck_assert_uint_eq(field(key, name), 3);
	}
	ck_assert_str_eq(redis_cli(&server, "hget crossings:node:lars-1 seq", out, sizeof(out)),
			 "1");
	publish_free(p);
}
END_TEST

/* A TCP port of loopback that nothing listens on, for a replica's
 * primary (replication goes over TCP only). */
static unsigned int
free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

/* Starts a server on a loopback port, a replica of primary_port unless
 * 0; returns its port once any replica link is up. */
static unsigned int
start_on_port(struct redis_server *rs, unsigned int primary_port)
{
	char port[16], primary[16], out[64] = "";
	/* A primary would wait 5 s for more replicas before a sync. */
	const char *args[10] = { "--port", port, "--bind", "127.0.0.1",
				 "--repl-diskless-sync-delay", "0" };

	memset(rs, 0, sizeof(*rs));
	snprintf(port, sizeof(port), "%u", free_port());
	if (primary_port != 0) {
		snprintf(primary, sizeof(primary), "%u", primary_port);
		args[6] = "--replicaof";
		args[7] = "127.0.0.1";
		args[8] = primary;
	}
	ck_assert_int_eq(redis_server_start(rs, args), 0);
	for (int i = 0; primary_port != 0 && i < 1000 && !strstr(out, ":up"); i++) {
		usleep(10000);
		redis_cli(rs, "info replication | grep master_link_status", out, sizeof(out));
	}
	ck_assert_msg(primary_port == 0 || strstr(out, ":up"), "no replication: %s", out);
	return (unsigned int)atoi(port);
}

/* A server with replicas writes RDB files in its directory. */
static void
stop_and_remove(struct redis_server *rs)
{
	char cmd[128];

	redis_server_stop(rs, SIGTERM);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", rs->dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* Points the publisher's socket path at a server, as a virtual address
 * moves to the new primary in a failover. */
static void
point_at(const char *link, const struct redis_server *rs)
{
	unlink(link);
	ck_assert_int_eq(symlink(rs->socket, link), 0);
}

/*
 * wait_replicas = 1: a flush counts as delivered once a replica holds
 * it. A failover to a replica that missed an unconfirmed flush gets it
 * by the resend, once; had the old primary's answer been taken as
 * delivery, the failover would have lost it.
 */
START_TEST(flush_confirmed_by_replicas)
{
	struct redis_server primary, replica, next_replica;
	struct conf_redis r = redis_conf();
	struct publish *p;
	struct publish_stats st;
	int64_t clock = now_ms();
	const char *key = "crossings:test-1:exit:h:2022092701", *name = "nat:A00001";
	char err[512], out[64];
	unsigned int replica_port;
	uint64_t replays;
	int rc;

	replica_port = start_on_port(&replica, start_on_port(&primary, 0));
	snprintf(r.unix_path, sizeof(r.unix_path), "%s/primary.sock", server.dir);
	point_at(r.unix_path, &primary);
	r.wait_replicas = 1;
	r.timeout_ms = 1000;		/* WAIT: 500 ms */
	p = publish_create(&r, "lars-1", "r", "test");
	flush_until_acked(p, 3, 2);
	ck_assert_uint_eq(field_of(&replica, key, name), 2);
	ck_assert_uint_eq(field_of(&primary, key, name), 2);

	/* The replica stops: the flush is applied, not confirmed. */
	kill(replica.pid, SIGSTOP);
	ck_assert_int_eq(publish_submit(p, increments(3, 5), 3, NULL, 0, clock), 0);
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(run_after_backoff(p, &clock, err, sizeof(err)), -EAGAIN);
		ck_assert_msg(strstr(err, "flush 2 applied, but held by 0 of 1 replicas "
				      "after 500 ms; it will be resent"),
			      "%s", err);
		ck_assert_uint_eq(field_of(&primary, key, name), 7);
	}
	publish_stats(p, &st);
	ck_assert(st.pending == 1 && st.pending_unreplicated);

	/* Failover: the primary dies, the replica takes over without the
	 * flush, and the address moves to it. */
	redis_server_stop(&primary, SIGKILL);
	kill(replica.pid, SIGCONT);
	ck_assert_str_eq(redis_cli(&replica, "replicaof no one", out, sizeof(out)), "OK");
	point_at(r.unix_path, &replica);
	ck_assert_int_eq(run_after_backoff(p, &clock, err, sizeof(err)), -ECONNRESET);
	ck_assert_int_eq(run_after_backoff(p, &clock, err, sizeof(err)), -EAGAIN);
	ck_assert_uint_eq(field_of(&replica, key, name), 7);
	/* A new replica confirms it; the resend is a replay. (The first
	 * flush may have been one too, had its WAIT come before the
	 * replica's acknowledgement.) */
	publish_stats(p, &st);
	replays = st.replays;
	start_on_port(&next_replica, replica_port);
	for (int i = 0; i < 10 && (rc = run_after_backoff(p, &clock, err, sizeof(err))) != 0; i++)
		ck_assert_msg(rc == -EAGAIN, "%s", err);
	ck_assert_int_eq(rc, 0);
	publish_stats(p, &st);
	ck_assert_uint_eq(st.replays, replays + 1);
	ck_assert(!st.pending_unreplicated);
	ck_assert_uint_eq(field_of(&replica, key, name), 7);
	ck_assert_uint_eq(field_of(&next_replica, key, name), 7);

	publish_free(p);
	unlink(r.unix_path);
	stop_and_remove(&next_replica);
	stop_and_remove(&replica);
	stop_and_remove(&primary);
}
END_TEST

/* wait_replicas with a user that may not WAIT: refused at connection,
 * as authentication is, not after the first flush is applied. */
START_TEST(wait_refused_at_connection)
{
	struct conf_redis r = redis_conf();
	struct publish *p;
	char err[512], out[64];

	redis_cli(&server, "acl setuser nowait on '>pw' '~crossings:*' '&crossings:*' "
		  "+@all -wait", out, sizeof(out));
	ck_assert_str_eq(out, "OK");
	strcpy(r.user, "nowait");
	strcpy(r.password, "pw");
	r.wait_replicas = 1;
	p = publish_create(&r, "n", "r", "test");
	ck_assert_int_eq(publish_connect(p, err, sizeof(err)), -EACCES);
	ck_assert_msg(strstr(err, "WAIT refused, which wait_replicas needs: NOPERM"), "%s", err);
	publish_free(p);
	r.wait_replicas = 0;
	p = publish_create(&r, "n", "r", "test");
	ck_assert_int_eq(publish_connect(p, err, sizeof(err)), 0);
	publish_free(p);
}
END_TEST

/* The update message carries the flush's hour increments. */
START_TEST(update_message)
{
	struct conf_redis r = redis_conf();
	struct publish *p = publish_create(&r, "lars-1", "r", "test");
	char err[512], line[4096] = "", cmd[256];
	FILE *sub;

	snprintf(cmd, sizeof(cmd), "timeout 5 redis-cli -s %s subscribe crossings:updates",
		 server.socket);
	sub = popen(cmd, "r");
	usleep(300000);
	ck_assert_int_eq(publish_connect(p, err, sizeof(err)), 0);
	flush_until_acked(p, 2, 7);
	/* subscribe, channel, 1, then message, channel, payload */
	for (int i = 0; i < 6 && fgets(line, sizeof(line), sub); i++)
		;
	pclose(sub);
	ck_assert_msg(strstr(line, "{\"node\":\"lars-1\",\"seq\":1,") == line, "%s", line);
	ck_assert_msg(strstr(line, "\"buckets\":{\"test-0:exit:2022092700\":{\"nat:A00000\":7},"
			      "\"test-1:exit:2022092701\":{\"nat:A00001\":7}}}") != NULL,
		      "%s", line);
	publish_free(p);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("publish");

	/* As crossings-ingest does: a write to a Redis that died is an
	 * error of the write, not the end of the process. */
	signal(SIGPIPE, SIG_IGN);
	TCase *tc = tcase_create("publish");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, applied_once_per_run_and_sequence);
	tcase_add_test(tc, script_reloaded_after_flush);
	tcase_add_test(tc, lost_reply_resent_applied_once);
	tcase_add_test(tc, unreachable_then_back);
	tcase_add_test(tc, authentication);
	tcase_add_test(tc, update_message);
	tcase_add_test(tc, refused_flush_applies_nothing);
	tcase_add_test(tc, flush_confirmed_by_replicas);
	tcase_add_test(tc, wait_refused_at_connection);
	suite_add_tcase(s, tc);
	return check_run(s);
}
