/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The counts leaving the node, on the main lcore: collected from the
 * workers' tables, then either flushed to Redis every flush interval
 * and once at the end, or printed as JSON at the end (--no-redis).
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "ingest.h"

/* Adds what every worker counted since the last collection to unsent. */
static void
collect(struct output *o, struct ingest *ing, bool running)
{
	for (unsigned int w = 0; w < ing->worker_count; w++)
		worker_collect(ing->workers[w], running, o->unsent,
			       &o->collect_failures);
}

/*
 * Names a Redis policy that may evict our keys, once for each policy
 * seen: Redis may be away at start, or be replaced by another with its
 * own configuration while the node runs.
 */
static void
warn_if_evicting(struct output *o)
{
	struct publish_stats ps;

	publish_stats(o->pub, &ps);
	if (strcmp(ps.eviction_policy, o->warned_policy) == 0)
		return;
	if (ps.eviction_policy[0] != '\0')
		INGEST_LOG(WARNING, "redis: maxmemory-policy %s may evict counts, "
			   "and the record of applied flushes, after which a "
			   "resent flush would count twice: use noeviction "
			   "(docs/deployment.md)", ps.eviction_policy);
	_Static_assert(sizeof(o->warned_policy) == sizeof(ps.eviction_policy),
		       "a policy fits where it is remembered");
	memcpy(o->warned_policy, ps.eviction_policy, sizeof(o->warned_policy));
}

/*
 * Checkpoints by their place in conf, as buckets name them: at start,
 * and after a reload (which keeps every place and may add some).
 */
int
output_name_checkpoints(struct output *o, const struct conf *conf)
{
	const char **names = calloc(conf->checkpoint_count + 1, sizeof(*names));

	if (names == NULL)
		return -ENOMEM;
	for (unsigned int i = 0; i < conf->checkpoint_count; i++)
		names[i] = conf->checkpoints[i].name;
	free(o->checkpoint_names);
	o->checkpoint_names = names;
	o->names.checkpoints = names;
	o->names.checkpoint_count = conf->checkpoint_count;
	return 0;
}

int
output_init(struct output *o, struct ingest *ing, bool redis, char *err,
	    size_t err_len)
{
	uint8_t random[8];
	char run[40];
	int rc;

	memset(o, 0, sizeof(*o));
	o->unsent = agg_table_create();
	if (o->unsent == NULL || output_name_checkpoints(o, &ing->conf) != 0) {
		snprintf(err, err_len, "out of memory");
		return -ENOMEM;
	}
	o->names.bands = &ing->conf.bands;
	if (!redis)
		return 0;

	/* A fresh run id at every start: a restarted node's flushes are
	 * never taken for replays of the last run's. */
	if (getrandom(random, sizeof(random), 0) != sizeof(random)) {
		snprintf(err, err_len, "no random source for the run id");
		return -EIO;
	}
	snprintf(run, sizeof(run), "%" PRId64 "-%02x%02x%02x%02x%02x%02x%02x%02x",
		 ingest_wall_ms() / 1000, random[0], random[1], random[2], random[3],
		 random[4], random[5], random[6], random[7]);
	o->pub = publish_create(&ing->conf.redis, ing->conf.node, run, CROSSINGS_VERSION);
	if (o->pub == NULL) {
		snprintf(err, err_len, "out of memory");
		return -ENOMEM;
	}
	rc = publish_connect(o->pub, err, err_len);
	if (rc == -ECONNREFUSED) {
		/* Counting goes on; flushes wait until Redis is back. */
		INGEST_LOG(WARNING, "%s: counting anyway, retrying", err);
		rc = 0;
	} else if (rc == 0) {
		INGEST_LOG(INFO, "publishing as node %s, run %s", ing->conf.node, run);
		warn_if_evicting(o);
	}
	o->next_flush_ms = ingest_wall_ms() + ing->conf.redis.flush_interval_ms;
	return rc;
}

void
output_free(struct output *o)
{
	publish_free(o->pub);
	agg_table_free(o->unsent);
	free(o->checkpoint_names);
}

/* The node status of a flush: the pipeline's counters. */
static unsigned int
node_status(const struct ingest *ing, const struct output *o,
	    struct publish_status *st, unsigned int max)
{
	struct ingest_counters c;
	struct publish_stats ps;
	unsigned int n = 0;

#define STATUS(fmt, arg, v) do { \
	if (n < max) { \
		snprintf(st[n].name, sizeof(st[n].name), fmt, arg); \
		st[n++].value = (v); \
	} \
} while (0)
	stats_sum(ing, &c);
	publish_stats(o->pub, &ps);
	STATUS("%s", "frames", stats_frames(&c));
	for (unsigned int i = 0; i < FRAME_COUNTER_COUNT; i++)
		STATUS("frames_%s", stats_frame_name(i), c.frames[i]);
	STATUS("%s", "records", stats_records(&c));
	for (unsigned int i = 0; i < RECORD_COUNTER_COUNT; i++)
		STATUS("records_%s", stats_record_name(i), c.records[i]);
	STATUS("%s", "pending_flushes", ps.pending);
	STATUS("%s", "reconnects", ps.reconnects);
	STATUS("%s", "counts_lost_nomem", c.agg_nomem + o->collect_failures);
	STATUS("%s", "reloads", __atomic_load_n(&ing->reloads, __ATOMIC_RELAXED));
	STATUS("%s", "reloads_refused",
	       __atomic_load_n(&ing->reloads_refused, __ATOMIC_RELAXED));
#undef STATUS
	return n;
}

/*
 * Splits what was counted: the first max pairs into part, the rest into
 * rest. A backlog (Redis away for long) then goes in several flushes,
 * and no script call holds Redis for long.
 */
static int
split(const struct agg_table *counted, uint32_t max, struct agg_table **part,
      struct agg_table **rest)
{
	uint64_t bucket, n;
	uint32_t profile, pos = 0, taken = 0;

	*part = agg_table_create();
	*rest = agg_table_create();
	if (*part == NULL || *rest == NULL)
		goto nomem;
	while (agg_table_next(counted, &pos, &bucket, &profile, &n))
		if (agg_table_add(taken++ < max ? *part : *rest, bucket, profile, n))
			goto nomem;
	return 0;
nomem:
	agg_table_free(*part);
	agg_table_free(*rest);
	return -ENOMEM;
}

/* Forms the next flush from what was counted, when none is in flight. */
static int
submit(struct output *o, struct ingest *ing, int64_t now_ms)
{
	struct publish_status st[48];
	struct agg_table *part = o->unsent, *rest = NULL;
	struct agg_increment *inc;
	uint32_t count;
	int rc;

	if (!publish_idle(o->pub))
		return 0;
	if (agg_table_count(o->unsent) > ing->conf.redis.flush_max_pairs &&
	    split(o->unsent, ing->conf.redis.flush_max_pairs, &part, &rest) != 0)
		return -ENOMEM;
	inc = agg_expand(part, &o->names, &count);
	rc = inc == NULL ? -ENOMEM :
		publish_submit(o->pub, inc, count, st, node_status(ing, o, st, 48),
			       now_ms);
	if (rc != 0) {
		free(inc);
		if (rest != NULL) {
			agg_table_free(part);
			agg_table_free(rest);
		}
		return rc;
	}
	if (rest != NULL) {
		agg_table_free(part);
		agg_table_free(o->unsent);
		o->unsent = rest;
	} else {
		agg_table_clear(o->unsent);
	}
	return 0;
}

static void
deliver(struct output *o, int64_t now_ms)
{
	char err[512];
	int rc = publish_run(o->pub, now_ms, err, sizeof(err));

	if (rc < 0) {
		/* One line per failed attempt; the backoff keeps them few. */
		INGEST_LOG(WARNING, "%s", err);
		o->failing = true;
	} else if (rc == 0 && o->failing) {
		INGEST_LOG(INFO, "redis: flushes acknowledged again");
		o->failing = false;
	}
	warn_if_evicting(o);
}

void
output_tick(struct output *o, struct ingest *ing)
{
	int64_t now = ingest_wall_ms();

	if (o->pub == NULL)
		return;
	if (now >= o->next_flush_ms) {
		o->next_flush_ms = now + ing->conf.redis.flush_interval_ms;
		collect(o, ing, true);
		if (submit(o, ing, now) != 0)
			INGEST_LOG(ERR, "out of memory forming a flush");
	} else if (publish_idle(o->pub) &&
		   agg_table_count(o->unsent) > ing->conf.redis.flush_max_pairs) {
		/* A backlog goes on part by part, without waiting. */
		if (submit(o, ing, now) != 0)
			INGEST_LOG(ERR, "out of memory forming a flush");
	}
	deliver(o, now);
}

int
output_finish(struct output *o, struct ingest *ing)
{
	int64_t deadline;
	struct publish_stats ps;
	struct agg_increment *inc;
	uint32_t count;

	collect(o, ing, false);
	if (o->collect_failures)
		INGEST_LOG(ERR, "%u collections ran out of memory: counts lost",
			   o->collect_failures);
	if (o->pub == NULL) {
		inc = agg_expand(o->unsent, &o->names, &count);
		if (inc == NULL)
			return -ENOMEM;
		agg_write_json(stdout, inc, count);
		free(inc);
		return fflush(stdout) == 0 ? 0 : -EIO;
	}

	/* The final flush: what is in flight, then the rest (in parts, when
	 * it is a backlog), retried for shutdown_timeout_s. */
	deadline = ingest_wall_ms() + ing->conf.redis.shutdown_timeout_ms;
	for (;;) {
		int64_t now = ingest_wall_ms();

		if (publish_idle(o->pub)) {
			if (o->final_submitted && agg_table_count(o->unsent) == 0)
				break;
			if (submit(o, ing, now) != 0)
				break;
			o->final_submitted = true;
		}
		deliver(o, now);
		if (now >= deadline)
			break;
		if (!publish_idle(o->pub))
			usleep(10000);	/* waiting out a backoff */
	}
	publish_stats(o->pub, &ps);
	inc = agg_expand(o->unsent, &o->names, &count);
	if (ps.pending || (inc != NULL && count > 0)) {
		/* A flush Redis applied is not lost, only unconfirmed. */
		bool applied = ps.pending && ps.pending_unreplicated;
		unsigned int lost_flushes = (ps.pending && !applied) +
					    (inc != NULL && count > 0);

		if (applied)
			INGEST_LOG(ERR, "redis: the last flush is applied, but fewer "
				   "than %u replicas confirmed it in %u s: a failover "
				   "now would lose its %" PRIu64 " increments",
				   ing->conf.redis.wait_replicas,
				   ing->conf.redis.shutdown_timeout_ms / 1000,
				   ps.pending_increments);
		if (lost_flushes > 0)
			INGEST_LOG(ERR, "redis: final flush not delivered in %u s: %"
				   PRIu64 " increments lost (%u flushes)",
				   ing->conf.redis.shutdown_timeout_ms / 1000,
				   (applied ? 0 : ps.pending_increments) +
				   (inc ? count : 0), lost_flushes);
		free(inc);
		return -EIO;
	}
	free(inc);
	INGEST_LOG(INFO, "redis: final flush %" PRIu64 " acknowledged", ps.seq);
	return 0;
}
