/* SPDX-License-Identifier: BSD-3-Clause */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "publish.h"

/*
 * ARGV: node, run, seq, time_ms, version, status count, checkpoint
 * count, increment count, the update message; then the status pairs,
 * the checkpoints, and (key, field, n) per increment.
 *
 * A flush applies whole or not at all. A script that stops at an error
 * keeps what it wrote before it, and the flush, refused, would be sent
 * again on top of that at every retry. So the keys the script writes
 * besides the increments are checked first, an increment the server
 * refuses (another program wrote the key with another type, or the
 * field with a value that is no integer) undoes those before it, and
 * the error names the key and field for the operator. A field at 0
 * after the undo was not there before (the pipeline writes no 0).
 */
const char publish_script[] =
"local node, run, seq = ARGV[1], ARGV[2], tonumber(ARGV[3])\n"
"local applied = 'crossings:applied:' .. node\n"
"local status_key = 'crossings:node:' .. node\n"
"local refused = '; nothing of the flush applied'\n"
"if seq <= tonumber(redis.call('HGET', applied, run) or '0') then\n"
"  return 0\n"
"end\n"
"for _, k in ipairs({{status_key, 'hash'}, {'crossings:checkpoints', 'set'}}) do\n"
"  local t = redis.call('TYPE', k[1]).ok\n"
"  if t ~= k[2] and t ~= 'none' then\n"
"    return redis.error_reply('WRONGTYPE ' .. k[1] .. ' is a ' .. t ..\n"
"                             ', not a ' .. k[2] .. refused)\n"
"  end\n"
"end\n"
"local ns, nc, ni = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])\n"
"local cps = 10 + 2 * ns\n"
"local incs = cps + nc\n"
"for i = incs, incs + 3 * (ni - 1), 3 do\n"
"  local r = redis.pcall('HINCRBY', ARGV[i], ARGV[i + 1], ARGV[i + 2])\n"
"  if type(r) == 'table' and r.err then\n"
"    for j = incs, i - 3, 3 do\n"
"      if redis.call('HINCRBY', ARGV[j], ARGV[j + 1], '-' .. ARGV[j + 2]) == 0 then\n"
"        redis.call('HDEL', ARGV[j], ARGV[j + 1])\n"
"      end\n"
"    end\n"
"    return redis.error_reply(ARGV[i] .. ' ' .. ARGV[i + 1] .. ': ' .. r.err .. refused)\n"
"  end\n"
"end\n"
"for i = cps, incs - 1 do\n"
"  redis.call('SADD', 'crossings:checkpoints', ARGV[i])\n"
"end\n"
"local status = {'run', run, 'seq', ARGV[3], 'last_flush_ms', ARGV[4],\n"
"                'version', ARGV[5]}\n"
"for i = 10, cps - 1 do\n"
"  status[#status + 1] = ARGV[i]\n"
"end\n"
"redis.call('HSET', applied, run, seq)\n"
"redis.call('HSET', status_key, unpack(status))\n"
"if ni > 0 then\n"
"  redis.call('PUBLISH', 'crossings:updates', ARGV[9])\n"
"end\n"
"return 1\n";

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define FIXED_ARGS 12		/* EVALSHA sha 0 + the 9 fixed ARGV */

/* A flush, formed once and sent unchanged until acknowledged. */
struct flush {
	uint64_t seq;
	uint32_t increments;
	struct agg_increment *inc;
	int argc;
	const char **argv;
	size_t *argvlen;
	char *numbers;			/* the numbers argv points to */
	char *message;			/* the update message */
	char (*checkpoints)[AGG_CHECKPOINT_NAME_MAX];
	struct publish_status *status;
};

struct publish {
	struct conf_redis redis;
	char node[CONF_NAME_MAX];
	char run[40];
	char version[32];
	char sha[48];
	redisContext *ctx;
	bool ever_connected;
	int64_t next_attempt_ms;
	int64_t backoff_ms;
	struct flush *flush;
	struct publish_stats stats;
};

static double
monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

struct publish *
publish_create(const struct conf_redis *redis, const char *node,
	       const char *run, const char *version)
{
	struct publish *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	p->redis = *redis;
	snprintf(p->node, sizeof(p->node), "%s", node);
	snprintf(p->run, sizeof(p->run), "%s", run);
	snprintf(p->version, sizeof(p->version), "%s", version);
	p->backoff_ms = BACKOFF_MIN_MS;
	return p;
}

static void
flush_free(struct flush *f)
{
	if (f == NULL)
		return;
	free(f->inc);
	free(f->argv);
	free(f->argvlen);
	free(f->numbers);
	free(f->message);
	free(f->checkpoints);
	free(f->status);
	free(f);
}

static void
disconnect(struct publish *p)
{
	if (p->ctx != NULL)
		redisFree(p->ctx);
	p->ctx = NULL;
	p->stats.connected = false;
}

void
publish_free(struct publish *p)
{
	if (p == NULL)
		return;
	disconnect(p);
	flush_free(p->flush);
	free(p);
}

static void
where(const struct publish *p, char *out, size_t len)
{
	if (p->redis.unix_path[0])
		snprintf(out, len, "redis unix:%s", p->redis.unix_path);
	else
		snprintf(out, len, "redis %s:%u", p->redis.host, p->redis.port);
}

/* Runs one command: the reply, or NULL when the connection failed. */
static redisReply *
command(struct publish *p, int argc, const char **argv, const size_t *argvlen)
{
	return redisCommandArgv(p->ctx, argc, argv, argvlen);
}

static int
load_script(struct publish *p, char *err, size_t err_len)
{
	const char *argv[] = { "SCRIPT", "LOAD", publish_script };
	redisReply *r = command(p, 3, argv, NULL);
	char at[300];
	int rc = 0;

	where(p, at, sizeof(at));
	if (r == NULL) {
		snprintf(err, err_len, "%s: %s", at, p->ctx->errstr);
		rc = -ECONNREFUSED;
	} else if (r->type == REDIS_REPLY_STRING && r->len < sizeof(p->sha)) {
		memcpy(p->sha, r->str, r->len);
		p->sha[r->len] = '\0';
	} else if (r->type == REDIS_REPLY_ERROR &&
		   (strncmp(r->str, "NOAUTH", 6) == 0 || strncmp(r->str, "NOPERM", 6) == 0)) {
		snprintf(err, err_len, "%s: authentication required or refused: %s",
			 at, r->str);
		rc = -EACCES;
	} else if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "LOADING", 7) == 0) {
		snprintf(err, err_len, "%s: %s", at, r->str);
		rc = -ECONNREFUSED;
	} else {
		snprintf(err, err_len, "%s: the flush script was rejected: %s", at,
			 r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
		rc = -EPROTO;
	}
	if (r != NULL)
		freeReplyObject(r);
	return rc;
}

/* With wait_replicas, whether the user may WAIT: found at connection,
 * not after a flush is applied. WAIT 0 0 answers at once. */
static int
may_wait(struct publish *p, const char *at, char *err, size_t err_len)
{
	redisReply *r = redisCommand(p->ctx, "WAIT 0 0");
	int rc = 0;

	if (r == NULL) {
		snprintf(err, err_len, "%s: %s", at, p->ctx->errstr);
		return -ECONNREFUSED;
	}
	if (r->type != REDIS_REPLY_INTEGER) {
		snprintf(err, err_len, "%s: WAIT refused, which wait_replicas needs: %s",
			 at, r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
		rc = r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOPERM", 6) == 0 ?
			-EACCES : -EPROTO;
	}
	freeReplyObject(r);
	return rc;
}

/*
 * Redis' maxmemory-policy, kept when it may evict our keys: an allkeys-*
 * policy under memory pressure drops counts, and the record of applied
 * flushes, after which a resent flush would count twice. (volatile-*
 * policies evict keys with a TTL only, and ours have none.) A user that
 * may not read INFO leaves it unknown.
 */
static void
read_eviction_policy(struct publish *p)
{
	static const char field[] = "maxmemory_policy:";
	redisReply *r = redisCommand(p->ctx, "INFO memory");
	const char *v;

	p->stats.eviction_policy[0] = '\0';
	if (r != NULL && r->type == REDIS_REPLY_STRING &&
	    (v = strstr(r->str, field)) != NULL &&
	    strncmp(v += strlen(field), "allkeys-", 8) == 0)
		snprintf(p->stats.eviction_policy, sizeof(p->stats.eviction_policy),
			 "%.*s", (int)strcspn(v, "\r\n"), v);
	if (r != NULL)
		freeReplyObject(r);
}

int
publish_connect(struct publish *p, char *err, size_t err_len)
{
	struct timeval tv = {
		.tv_sec = p->redis.timeout_ms / 1000,
		.tv_usec = (p->redis.timeout_ms % 1000) * 1000,
	};
	char at[300];
	int rc;

	disconnect(p);
	where(p, at, sizeof(at));
	/* A new context every time: hiredis 0.14 forgets the timeouts on
	 * redisReconnect. */
	if (p->redis.unix_path[0])
		p->ctx = redisConnectUnixWithTimeout(p->redis.unix_path, tv);
	else
		p->ctx = redisConnectWithTimeout(p->redis.host, p->redis.port, tv);
	if (p->ctx == NULL || p->ctx->err) {
		snprintf(err, err_len, "%s: %s", at,
			 p->ctx ? p->ctx->errstr : "out of memory");
		disconnect(p);
		return -ECONNREFUSED;
	}
	redisSetTimeout(p->ctx, tv);
	if (!p->redis.unix_path[0])
		redisEnableKeepAlive(p->ctx);
	if (p->redis.password[0]) {
		const char *argv[3] = { "AUTH" };
		int argc = 1;
		redisReply *r;

		if (p->redis.user[0])
			argv[argc++] = p->redis.user;
		argv[argc++] = p->redis.password;
		r = command(p, argc, argv, NULL);
		if (r == NULL) {
			snprintf(err, err_len, "%s: %s", at, p->ctx->errstr);
			disconnect(p);
			return -ECONNREFUSED;
		}
		rc = r->type == REDIS_REPLY_ERROR ? -EACCES : 0;
		if (rc)
			snprintf(err, err_len, "%s: authentication refused: %s", at, r->str);
		freeReplyObject(r);
		if (rc) {
			disconnect(p);
			return rc;
		}
	}
	rc = load_script(p, err, err_len);
	if (rc == 0 && p->redis.wait_replicas > 0)
		rc = may_wait(p, at, err, err_len);
	if (rc) {
		disconnect(p);
		return rc;
	}
	read_eviction_policy(p);
	if (p->ever_connected)
		p->stats.reconnects++;
	p->ever_connected = true;
	p->stats.connected = true;
	return 0;
}

bool
publish_idle(const struct publish *p)
{
	return p->flush == NULL;
}

/* The update message of a flush: the increments of its hour keys. */
static char *
update_message(const struct publish *p, uint64_t seq, int64_t now_ms,
	       const struct agg_increment *inc, uint32_t count)
{
	char *msg = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&msg, &len);
	const char *open_key = NULL;

	if (f == NULL)
		return NULL;
	fprintf(f, "{\"node\":\"%s\",\"seq\":%" PRIu64 ",\"time_ms\":%" PRId64
		",\"buckets\":{", p->node, seq, now_ms);
	for (uint32_t i = 0; i < count; i++) {
		const char *h = strstr(inc[i].key, ":h:");

		if (h == NULL)
			continue;
		if (open_key == NULL || strcmp(open_key, inc[i].key) != 0) {
			/* "crossings:{cp}:{dir}:h:{hour}" -> "{cp}:{dir}:{hour}" */
			fprintf(f, "%s\"%.*s:%s\":{", open_key ? "}," : "",
				(int)(h - inc[i].key - 10), inc[i].key + 10, h + 3);
			open_key = inc[i].key;
		} else {
			fputc(',', f);
		}
		fprintf(f, "\"%s\":%" PRIu64, inc[i].field, inc[i].n);
	}
	fprintf(f, "%s}}", open_key ? "}" : "");
	if (fclose(f) != 0) {
		free(msg);
		return NULL;
	}
	return msg;
}

int
publish_submit(struct publish *p, struct agg_increment *inc, uint32_t count,
	       const struct publish_status *status, unsigned int status_count,
	       int64_t now_ms)
{
	struct flush *f;
	unsigned int ncp = 0;
	size_t args;
	char *num;
	int a = 0;

	if (p->flush != NULL)
		return -EBUSY;
	f = calloc(1, sizeof(*f));
	if (f == NULL)
		return -ENOMEM;
	f->inc = inc;
	f->increments = count;
	f->seq = p->stats.seq + 1;
	args = FIXED_ARGS + 2 * (size_t)status_count + 3 * (size_t)count + count;
	f->argv = malloc(args * sizeof(*f->argv));
	f->argvlen = malloc(args * sizeof(*f->argvlen));
	f->numbers = malloc((count + 8) * 24);
	f->checkpoints = malloc((count + 1) * sizeof(*f->checkpoints));
	f->status = malloc((status_count + 1) * sizeof(*f->status));
	f->message = update_message(p, f->seq, now_ms, inc, count);
	if (f->argv == NULL || f->argvlen == NULL || f->numbers == NULL ||
	    f->checkpoints == NULL || f->status == NULL || f->message == NULL) {
		f->inc = NULL;		/* the caller keeps it on failure */
		flush_free(f);
		return -ENOMEM;
	}
	if (status_count > 0)
		memcpy(f->status, status, status_count * sizeof(*status));
	/* Keys are sorted, so a checkpoint's keys are adjacent. */
	for (uint32_t i = 0; i < count; i++) {
		const char *cp = inc[i].key + 10;	/* after "crossings:" */
		size_t len = strcspn(cp, ":");

		if (len >= AGG_CHECKPOINT_NAME_MAX)
			continue;
		if (ncp > 0 && strncmp(f->checkpoints[ncp - 1], cp, len) == 0 &&
		    f->checkpoints[ncp - 1][len] == '\0')
			continue;
		memcpy(f->checkpoints[ncp], cp, len);
		f->checkpoints[ncp++][len] = '\0';
	}

	num = f->numbers;
#define NUMBER(fmt, v) (a++, f->argv[a - 1] = num, num += sprintf(num, fmt, v) + 1)
	f->argv[a++] = "EVALSHA";
	f->argv[a++] = p->sha;
	f->argv[a++] = "0";
	f->argv[a++] = p->node;
	f->argv[a++] = p->run;
	NUMBER("%" PRIu64, f->seq);
	NUMBER("%" PRId64, now_ms);
	f->argv[a++] = p->version;
	NUMBER("%u", status_count);
	NUMBER("%u", ncp);
	NUMBER("%" PRIu32, count);
	f->argv[a++] = f->message;
	for (unsigned int i = 0; i < status_count; i++) {
		f->argv[a++] = f->status[i].name;
		NUMBER("%" PRIu64, f->status[i].value);
	}
	for (unsigned int i = 0; i < ncp; i++)
		f->argv[a++] = f->checkpoints[i];
	for (uint32_t i = 0; i < count; i++) {
		f->argv[a++] = inc[i].key;
		f->argv[a++] = inc[i].field;
		NUMBER("%" PRIu64, inc[i].n);
	}
#undef NUMBER
	f->argc = a;
	for (int i = 0; i < a; i++)
		f->argvlen[i] = strlen(f->argv[i]);
	p->flush = f;
	p->stats.seq = f->seq;
	p->stats.pending = 1;
	p->stats.pending_increments = count;
	return 0;
}

static int
failed(struct publish *p, int64_t now_ms, int rc)
{
	p->stats.errors++;
	p->next_attempt_ms = now_ms + p->backoff_ms;
	p->backoff_ms = p->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS :
		p->backoff_ms * 2;
	return rc;
}

/*
 * With wait_replicas, a flush is delivered once that many replicas hold
 * it: Redis answers before it replicates, and a failover to a replica
 * that missed the flush would lose it. Until they confirm, the flush
 * stays and is resent (a replay on the primary, then waited for again).
 * WAIT gives up after half the read timeout, so that its answer comes
 * before hiredis stops waiting for one.
 */
static int
wait_for_replicas(struct publish *p, const struct flush *f, const char *at,
		  char *err, size_t err_len)
{
	unsigned int wait_ms = p->redis.timeout_ms / 2;
	redisReply *r = redisCommand(p->ctx, "WAIT %u %u", p->redis.wait_replicas,
				     wait_ms);
	int rc = 0;

	if (r == NULL) {
		snprintf(err, err_len, "%s: %s; flush %" PRIu64 " will be resent",
			 at, p->ctx->errstr, f->seq);
		disconnect(p);
		return -ECONNRESET;
	}
	if (r->type != REDIS_REPLY_INTEGER) {
		snprintf(err, err_len, "%s: WAIT after flush %" PRIu64 " refused: %s",
			 at, f->seq, r->type == REDIS_REPLY_ERROR ? r->str :
			 "unexpected reply");
		rc = -EPROTO;
	} else if (r->integer < (long long)p->redis.wait_replicas) {
		snprintf(err, err_len, "%s: flush %" PRIu64 " applied, but held by "
			 "%lld of %u replicas after %u ms; it will be resent", at,
			 f->seq, r->integer, p->redis.wait_replicas, wait_ms);
		p->stats.pending_unreplicated = true;
		rc = -EAGAIN;
	}
	freeReplyObject(r);
	if (rc == -EPROTO)
		disconnect(p);
	return rc;
}

int
publish_run(struct publish *p, int64_t now_ms, char *err, size_t err_len)
{
	struct flush *f = p->flush;
	redisReply *r;
	char at[300];
	double start;
	bool replay;
	int rc;

	if (f == NULL)
		return 0;
	if (now_ms < p->next_attempt_ms)
		return 1;
	where(p, at, sizeof(at));
	if (p->ctx == NULL) {
		rc = publish_connect(p, err, err_len);
		if (rc)
			return failed(p, now_ms, rc);
	}
	/* The script's SHA1 is known once connected. */
	f->argvlen[1] = strlen(p->sha);
	start = monotonic_ms();
	r = command(p, f->argc, f->argv, f->argvlen);
	/* After SCRIPT FLUSH or a restart the script is gone: load it
	 * again and send the same flush once more. */
	if (r != NULL && r->type == REDIS_REPLY_ERROR &&
	    strncmp(r->str, "NOSCRIPT", 8) == 0) {
		freeReplyObject(r);
		rc = load_script(p, err, err_len);
		if (rc) {
			disconnect(p);
			return failed(p, now_ms, rc);
		}
		r = command(p, f->argc, f->argv, f->argvlen);
	}
	if (r == NULL) {
		/* No reply (reset, timeout): the flush may or may not have
		 * been applied. It is resent with its sequence number. */
		snprintf(err, err_len, "%s: %s; flush %" PRIu64 " will be resent",
			 at, p->ctx->errstr, f->seq);
		disconnect(p);
		return failed(p, now_ms, -ECONNRESET);
	}
	if (r->type != REDIS_REPLY_INTEGER) {
		snprintf(err, err_len, "%s: flush %" PRIu64 " refused: %s", at, f->seq,
			 r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
		rc = r->type == REDIS_REPLY_ERROR &&
			(strncmp(r->str, "NOAUTH", 6) == 0 ||
			 strncmp(r->str, "NOPERM", 6) == 0) ? -EACCES : -EPROTO;
		freeReplyObject(r);
		disconnect(p);
		return failed(p, now_ms, rc);
	}
	replay = r->integer == 0;
	freeReplyObject(r);
	if (p->redis.wait_replicas > 0) {
		rc = wait_for_replicas(p, f, at, err, err_len);
		if (rc)
			return failed(p, now_ms, rc);
	}
	if (replay)
		p->stats.replays++;
	p->stats.flushes++;
	p->stats.last_fields = f->increments;
	p->stats.last_latency_ms = monotonic_ms() - start;
	if (p->stats.last_latency_ms > p->stats.max_latency_ms)
		p->stats.max_latency_ms = p->stats.last_latency_ms;
	p->stats.last_ack_ms = now_ms;
	p->stats.pending = 0;
	p->stats.pending_increments = 0;
	p->stats.pending_unreplicated = false;
	p->backoff_ms = BACKOFF_MIN_MS;
	p->next_attempt_ms = 0;
	flush_free(f);
	p->flush = NULL;
	return 0;
}

void
publish_stats(const struct publish *p, struct publish_stats *stats)
{
	*stats = p->stats;
}
