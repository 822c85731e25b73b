/* SPDX-License-Identifier: BSD-3-Clause */

#ifndef INGEST_H
#define INGEST_H

/*
 * crossings-ingest: what the main lcore (control) and the worker lcores
 * (data path) share. Data flows one way: RX queue -> decode -> parse ->
 * the ring of the lcore that owns the record's key -> deduplicate ->
 * count into that lcore's table -> the main lcore merges and outputs.
 */

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <rte_common.h>
#include <rte_log.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "agg_table.h"
#include "conf.h"
#include "dedup.h"
#include "dedup_key.h"
#include "mrz.h"
#include "publish.h"
#include "reasm.h"
#include "registry.h"
#include "wire.h"

extern int ingest_logtype;
#define INGEST_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_ ## level, ingest_logtype, "ingest: " fmt "\n", \
		## __VA_ARGS__)

/* Where each frame received ends: delivered to the parser (index 0,
 * WIRE_DELIVERED), or dropped by the decoder (wire verdicts), or
 * dropped here. Their sum is the number of frames received. */
enum frame_counter {
	FRAME_MALFORMED = WIRE_VERDICT_COUNT,	/* bad framed record */
	FRAME_UNKNOWN_SOURCE,			/* raw text, no scanner */
	FRAME_COUNTER_COUNT
};

/* Where each record ends. Their sum is the number of records. */
enum record_counter {
	RECORD_CROSSING,
	RECORD_DUP,
	RECORD_RETRANSMISSION,
	RECORD_INCOMPLETE,
	RECORD_INVALID,			/* split by reason in invalid_by */
	RECORD_COUNTER_COUNT
};

/* Written by one worker only, read by the main lcore at any time. */
struct ingest_counters {
	uint64_t frames[FRAME_COUNTER_COUNT];
	uint64_t records[RECORD_COUNTER_COUNT];
	uint64_t invalid_by[MRZ_ERR_COUNT];	/* first error of the record */
	uint64_t ring_full;		/* waits for space in an owner's ring */
	/* With --record-core-cycles, TSC cycles of polling rounds that
	 * received frames: in the ports' receive calls, and in all. */
	uint64_t rx_cycles;
	uint64_t busy_cycles;
	uint64_t agg_nomem;		/* counts lost: table could not grow */
} __rte_cache_aligned;

/*
 * A record on its way to the lcore that owns its key. A valid record
 * carries the fields its profile is made of, not the profile: the
 * owner makes it for crossings only, as a re-scan is counted without.
 */
struct record_msg {
	uint64_t doc_key;		/* valid records */
	uint64_t frame_key;		/* framed records; 0 for raw */
	uint64_t bucket;		/* agg_bucket() */
	int64_t time_ms;		/* event time */
	uint32_t error;			/* lowest MRZ error bit; 0 when valid */
	char nationality[3];		/* as struct mrz_fields holds them */
	char sex;
	char birth_date[6];
	char document_letter;
};

/* An RX queue a worker polls. */
struct rx_queue {
	uint16_t port;
	uint16_t queue;
	uint32_t checks;		/* WIRE_CHECK_* done in software */
	bool hw_checksum;		/* trust the mbuf's checksum flags */
	bool timestamps;		/* dynfield timestamp in microseconds */
};

#define WORKERS_MAX 64
#define WORKER_QUEUES_MAX 64
#define OUTBOX_MAX 64

struct worker;

/* Shared, read-only once workers run (except the flags, and the
 * registry a reload replaces). */
struct ingest {
	struct conf conf;
	/* Replaced by a reload: workers read it once a polling round and
	 * report a quiescent state after each (RCU), so that the main
	 * lcore knows when nobody reads the old one any more. */
	struct registry *registry;
	struct rte_rcu_qsbr *registry_readers;
	struct dedup_secret secret;
	struct wire_ports ports;
	int timestamp_offset;		/* mbuf dynfield, or -1 */
	uint64_t timestamp_flag;
	unsigned int worker_count;
	bool record_cycles;		/* --record-core-cycles */
	struct worker *workers[WORKERS_MAX];
	volatile bool stop_rx;		/* set by main: stop polling, drain */
	volatile bool quit;		/* set by main: every producer is done */
	struct output *output;		/* for the stats */
	/* SIGUSR2s taken and refused: the main lcore counts, telemetry
	 * reads. */
	uint64_t reloads;
	uint64_t reloads_refused;
};

struct worker {
	unsigned int index;
	struct ingest *ing;
	unsigned int queue_count;
	struct rx_queue queues[WORKER_QUEUES_MAX];
	struct rte_ring *inbox;		/* records this worker owns */
	struct dedup_table *dedup;	/* documents counted */
	struct dedup_table *frames;	/* (checkpoint, scanner, sequence) seen */
	struct reasm *reasm;
	struct agg_table *agg;		/* counts since the last collection */
	struct agg_table *spare;	/* the main lcore's, between collections */
	uint32_t swap_request;		/* main asks for the tables to swap */
	uint32_t swap_done;		/* the worker did (release) */
	int64_t latest_ms;		/* latest receive time seen */
	struct agg_day today;		/* the date of the last crossing's day */
	volatile bool rx_done;		/* outbox flushed, no more records */
	const struct registry *registry; /* this polling round's */
	/* The datagram whose raw text reasm is joining. */
	uint64_t raw_checkpoint;
	uint8_t raw_direction;
	struct ingest_counters c;
	uint32_t own_count;		/* records of own keys, not yet counted */
	struct record_msg own[DEDUP_BULK_MAX];
	uint32_t outbox_count[WORKERS_MAX];
	struct record_msg outbox[WORKERS_MAX][OUTBOX_MAX];
	uint8_t linear[65536];		/* a chained mbuf made contiguous */
};

/* The host clock, in ms since 1970 UTC: the receive time where the
 * port gives none, and the time of flushes and stats. */
static inline int64_t
ingest_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The worker that owns a key or a document's hash: both are keyed
 * hashes, so their high bits spread owners evenly (scaled by a
 * multiply, which a division per record would cost ten times). */
static inline unsigned int
ingest_owner_of(const struct ingest *ing, uint64_t key)
{
	return (unsigned int)(((key >> 32) * ing->worker_count) >> 32);
}

/* Bumps a counter that other lcores read: a plain add, no lock. */
#define COUNT(w, field, n) \
	__atomic_store_n(&(w)->c.field, (w)->c.field + (n), __ATOMIC_RELAXED)

/* output.c: the counts leaving the node, on the main lcore. */
struct output {
	struct publish *pub;		/* NULL with --no-redis */
	struct agg_table *unsent;	/* collected, not yet in a flush */
	const char **checkpoint_names;
	struct agg_names names;
	int64_t next_flush_ms;
	uint32_t collect_failures;
	bool failing;			/* the last attempt failed */
	bool final_submitted;
	/* The eviction policy last warned about (publish_stats'). */
	char warned_policy[32];
};

int output_init(struct output *o, struct ingest *ing, bool redis, char *err,
		size_t err_len);
int output_name_checkpoints(struct output *o, const struct conf *conf);
void output_tick(struct output *o, struct ingest *ing);
int output_finish(struct output *o, struct ingest *ing);
void output_free(struct output *o);

/* worker.c */
void worker_collect(struct worker *w, bool running, struct agg_table *into,
		    uint32_t *failed);
struct worker *worker_create(struct ingest *ing, unsigned int index,
			     unsigned int lcore);
void worker_free(struct worker *w);
int worker_main(void *arg);

/* stats.c */
void stats_sum(const struct ingest *ing, struct ingest_counters *sum);
void stats_line(const struct ingest *ing, const char *what, double seconds,
		const struct ingest_counters *before);
int stats_telemetry_register(struct ingest *ing);
uint64_t stats_frames(const struct ingest_counters *c);
uint64_t stats_records(const struct ingest_counters *c);
const char *stats_frame_name(unsigned int i);
const char *stats_record_name(unsigned int i);

#endif /* INGEST_H */
