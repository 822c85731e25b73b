/* SPDX-License-Identifier: BSD-3-Clause */

/* Counters: summed over workers for the stats line and telemetry. */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_telemetry.h>

#include "ingest.h"

static const char *const frame_names[FRAME_COUNTER_COUNT - WIRE_VERDICT_COUNT] = {
	"malformed", "unknown_source",
};

static const char *const record_names[RECORD_COUNTER_COUNT] = {
	"crossing", "dup", "retransmission", "incomplete", "invalid",
};

const char *
stats_frame_name(unsigned int i)
{
	return i < WIRE_VERDICT_COUNT ? wire_verdict_name(i) :
		frame_names[i - WIRE_VERDICT_COUNT];
}

const char *
stats_record_name(unsigned int i)
{
	return record_names[i];
}

void
stats_sum(const struct ingest *ing, struct ingest_counters *sum)
{
	uint64_t *out = (uint64_t *)sum;

	memset(sum, 0, sizeof(*sum));
	for (unsigned int w = 0; w < ing->worker_count; w++) {
		const uint64_t *in = (const uint64_t *)&ing->workers[w]->c;

		for (size_t i = 0; i < offsetof(struct ingest_counters, agg_nomem) /
			     sizeof(uint64_t) + 1; i++)
			out[i] += __atomic_load_n(&in[i], __ATOMIC_RELAXED);
	}
}

static uint64_t
total(const uint64_t *counters, unsigned int count)
{
	uint64_t n = 0;

	for (unsigned int i = 0; i < count; i++)
		n += counters[i];
	return n;
}

uint64_t
stats_frames(const struct ingest_counters *c)
{
	return total(c->frames, FRAME_COUNTER_COUNT);
}

uint64_t
stats_records(const struct ingest_counters *c)
{
	return total(c->records, RECORD_COUNTER_COUNT);
}

static void
dedup_sum(const struct ingest *ing, struct dedup_stats *sum)
{
	memset(sum, 0, sizeof(*sum));
	for (unsigned int w = 0; w < ing->worker_count; w++) {
		struct dedup_stats s;

		dedup_stats(ing->workers[w]->dedup, &s);
		sum->entries += s.entries;
		sum->capacity += s.capacity;
		sum->evictions += s.evictions;
		sum->expired += s.expired;
		sum->bytes += s.bytes;
		/* Each document also costs its frame's entry: per-document
		 * memory is that of both tables. */
		dedup_stats(ing->workers[w]->frames, &s);
		sum->bytes += s.bytes;
	}
}

/*
 * With --record-core-cycles: nanoseconds a frame in the ports' receive
 * and in the rest of the worker's busy rounds, over the frames since
 * before.
 */
static void
cycles_text(const struct ingest *ing, const struct ingest_counters *c,
	    const struct ingest_counters *before, char *text, size_t size)
{
	uint64_t frames = stats_frames(c) - stats_frames(before);
	uint64_t rx = c->rx_cycles - before->rx_cycles;
	uint64_t busy = c->busy_cycles - before->busy_cycles;
	double ns = 1e9 / (double)rte_get_tsc_hz();

	if (!ing->record_cycles || frames == 0) {
		text[0] = '\0';
		return;
	}
	/* A worker counts a round's receive before the round: a snapshot
	 * between the two may hold more receive than busy time. */
	snprintf(text, size, " time/frame: receive %.1f ns, the rest %.1f ns",
		 (double)rx * ns / frames,
		 (double)(busy > rx ? busy - rx : 0) * ns / frames);
}

void
stats_line(const struct ingest *ing, const char *what, double seconds,
	   const struct ingest_counters *before)
{
	static const struct ingest_counters start;
	struct ingest_counters c;
	struct dedup_stats d;
	char drops[1024], redis[256] = "", cycles[128];
	size_t used = 0;
	uint64_t frames;

	if (ing->output != NULL && ing->output->pub != NULL) {
		struct publish_stats ps;
		char acked[32] = "never acked";

		publish_stats(ing->output->pub, &ps);
		if (ps.last_ack_ms != 0)
			snprintf(acked, sizeof(acked), "acked %.1f s ago",
				 (ingest_wall_ms() - ps.last_ack_ms) / 1e3);
		snprintf(redis, sizeof(redis), " redis: flushes %" PRIu64 " pending %u "
			 "(%" PRIu64 " increments%s) reconnects %" PRIu64 " last %" PRIu64
			 " fields %.1f ms (max %.1f) %s%s", ps.flushes, ps.pending,
			 ps.pending_increments,
			 ps.pending_unreplicated ? ", applied, unreplicated" : "",
			 ps.reconnects, ps.last_fields, ps.last_latency_ms,
			 ps.max_latency_ms, acked, ps.connected ? "" : " DISCONNECTED");
	}
	if (before == NULL)
		before = &start;
	stats_sum(ing, &c);
	dedup_sum(ing, &d);
	frames = stats_frames(&c);
	cycles_text(ing, &c, before, cycles, sizeof(cycles));
	drops[0] = '\0';
	for (unsigned int i = 1; i < FRAME_COUNTER_COUNT; i++)
		if (c.frames[i] && used < sizeof(drops))
			used += snprintf(drops + used, sizeof(drops) - used, " %s=%" PRIu64,
					 stats_frame_name(i), c.frames[i]);
	INGEST_LOG(INFO, "%s: frames %" PRIu64 " (%.3f Mpps) delivered %" PRIu64
		   " drops:%s records %" PRIu64 " crossing %" PRIu64 " dup %" PRIu64
		   " retransmission %" PRIu64 " incomplete %" PRIu64 " invalid %" PRIu64
		   " dedup %" PRIu64 "/%" PRIu64 " (%" PRIu64 " B/doc) evicted %" PRIu64
		   "%s%s%s", what, frames,
		   seconds > 0 ? (frames - stats_frames(before)) / seconds / 1e6 : 0.0,
		   c.frames[WIRE_DELIVERED], used ? drops : " none", stats_records(&c),
		   c.records[RECORD_CROSSING], c.records[RECORD_DUP],
		   c.records[RECORD_RETRANSMISSION], c.records[RECORD_INCOMPLETE],
		   c.records[RECORD_INVALID], d.entries, d.capacity,
		   d.capacity ? d.bytes / d.capacity : 0, d.evictions,
		   cycles, c.agg_nomem ? " COUNTS LOST (out of memory)" : "", redis);
}

static struct ingest *telemetry_ingest;

static int
telemetry_stats(const char *cmd, const char *params, struct rte_tel_data *t)
{
	const struct ingest *ing = telemetry_ingest;
	struct ingest_counters c;
	struct dedup_stats d;
	char name[64];

	(void)cmd;
	(void)params;
	stats_sum(ing, &c);
	dedup_sum(ing, &d);
	rte_tel_data_start_dict(t);
	rte_tel_data_add_dict_u64(t, "frames", stats_frames(&c));
	for (unsigned int i = 0; i < FRAME_COUNTER_COUNT; i++) {
		snprintf(name, sizeof(name), "frames_%s", stats_frame_name(i));
		rte_tel_data_add_dict_u64(t, name, c.frames[i]);
	}
	rte_tel_data_add_dict_u64(t, "records", stats_records(&c));
	for (unsigned int i = 0; i < RECORD_COUNTER_COUNT; i++) {
		snprintf(name, sizeof(name), "records_%s", stats_record_name(i));
		rte_tel_data_add_dict_u64(t, name, c.records[i]);
	}
	for (unsigned int i = 0; i < MRZ_ERR_COUNT; i++) {
		if (c.invalid_by[i] == 0)
			continue;
		snprintf(name, sizeof(name), "invalid_%s", mrz_error_name(1u << i));
		rte_tel_data_add_dict_u64(t, name, c.invalid_by[i]);
	}
	rte_tel_data_add_dict_u64(t, "ring_full", c.ring_full);
	if (ing->record_cycles) {
		rte_tel_data_add_dict_u64(t, "cycles_receive", c.rx_cycles);
		rte_tel_data_add_dict_u64(t, "cycles_busy", c.busy_cycles);
		rte_tel_data_add_dict_u64(t, "tsc_hz", rte_get_tsc_hz());
	}
	rte_tel_data_add_dict_u64(t, "counts_lost_nomem", c.agg_nomem);
	rte_tel_data_add_dict_u64(t, "reloads",
				  __atomic_load_n(&ing->reloads, __ATOMIC_RELAXED));
	rte_tel_data_add_dict_u64(t, "reloads_refused",
				  __atomic_load_n(&ing->reloads_refused, __ATOMIC_RELAXED));
	rte_tel_data_add_dict_u64(t, "dedup_entries", d.entries);
	rte_tel_data_add_dict_u64(t, "dedup_capacity", d.capacity);
	rte_tel_data_add_dict_u64(t, "dedup_evictions", d.evictions);
	rte_tel_data_add_dict_u64(t, "dedup_expired", d.expired);
	rte_tel_data_add_dict_u64(t, "dedup_bytes_per_document",
				  d.capacity ? d.bytes / d.capacity : 0);
	if (ing->output != NULL && ing->output->pub != NULL) {
		struct publish_stats ps;

		publish_stats(ing->output->pub, &ps);
		rte_tel_data_add_dict_u64(t, "redis_flushes", ps.flushes);
		rte_tel_data_add_dict_u64(t, "redis_replays", ps.replays);
		rte_tel_data_add_dict_u64(t, "redis_pending_flushes", ps.pending);
		rte_tel_data_add_dict_u64(t, "redis_pending_increments",
					  ps.pending_increments);
		rte_tel_data_add_dict_u64(t, "redis_reconnects", ps.reconnects);
		rte_tel_data_add_dict_u64(t, "redis_errors", ps.errors);
		rte_tel_data_add_dict_u64(t, "redis_last_flush_fields", ps.last_fields);
		rte_tel_data_add_dict_u64(t, "redis_last_flush_us",
					  (uint64_t)(ps.last_latency_ms * 1000));
		rte_tel_data_add_dict_u64(t, "redis_max_flush_us",
					  (uint64_t)(ps.max_latency_ms * 1000));
		rte_tel_data_add_dict_u64(t, "redis_last_ack_ms", ps.last_ack_ms);
		rte_tel_data_add_dict_u64(t, "redis_connected", ps.connected);
	}
	return 0;
}

int
stats_telemetry_register(struct ingest *ing)
{
	telemetry_ingest = ing;
	return rte_telemetry_register_cmd("/crossings/stats", telemetry_stats,
		"Frames and records by outcome, deduplication table. No parameters.");
}
