/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The data path. Each worker lcore polls its RX queues in bursts,
 * decodes and parses every frame, and sends each record to the lcore
 * that owns its key; it also owns a share of the keys itself, and
 * counts the records sent to it. Workers never block, never log per
 * packet and never touch Redis.
 */

#include <stdio.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_pause.h>
#include <rte_prefetch.h>

#include "ingest.h"

#define BURST 32
#define INBOX_SIZE 16384
/* Raw sources with a partial record held at once, per worker, and how
 * long a partial record waits for its next line (docs/wire.md). */
#define REASM_SOURCES 16384
#define REASM_TIMEOUT_MS 2000
/* Every this many polling rounds, partial records time out. */
#define EXPIRE_ROUNDS 1024
/* Frames may carry any time up to the year 9999. */
#define TIME_MS_MAX INT64_C(253402300799999)

static void raw_record(void *arg, const uint8_t *text, size_t len,
		       int64_t time_ms);

struct worker *
worker_create(struct ingest *ing, unsigned int index, unsigned int lcore)
{
	int socket = rte_lcore_to_socket_id(lcore);
	uint32_t capacity = (ing->conf.capacity + ing->worker_count - 1) /
			    ing->worker_count;
	int64_t window_ms = (int64_t)ing->conf.window_s * 1000;
	char name[RTE_RING_NAMESIZE];
	struct worker *w;

	w = rte_zmalloc_socket("worker", sizeof(*w), RTE_CACHE_LINE_SIZE, socket);
	if (w == NULL)
		return NULL;
	w->index = index;
	w->ing = ing;
	snprintf(name, sizeof(name), "inbox_%u", index);
	w->inbox = rte_ring_create_elem(name, sizeof(struct record_msg),
					INBOX_SIZE, socket, RING_F_SC_DEQ);
	snprintf(name, sizeof(name), "documents_%u", index);
	w->dedup = dedup_create(name, capacity, window_ms, socket);
	snprintf(name, sizeof(name), "frames_%u", index);
	w->frames = dedup_create(name, capacity, window_ms, socket);
	w->reasm = reasm_create(REASM_SOURCES, REASM_TIMEOUT_MS, raw_record, w);
	agg_day_set(&w->today, 0);
	w->agg = agg_table_create();
	w->spare = agg_table_create();
	if (w->inbox == NULL || w->dedup == NULL || w->frames == NULL ||
	    w->reasm == NULL || w->agg == NULL || w->spare == NULL) {
		worker_free(w);
		return NULL;
	}
	return w;
}

void
worker_free(struct worker *w)
{
	if (w == NULL)
		return;
	rte_ring_free(w->inbox);
	dedup_free(w->dedup);
	dedup_free(w->frames);
	reasm_free(w->reasm);
	agg_table_free(w->agg);
	agg_table_free(w->spare);
	rte_free(w);
}

static void
count_in_table(struct worker *w, uint64_t bucket, uint32_t profile,
	       uint64_t n)
{
	if (agg_table_add(w->agg, bucket, profile, n) != 0)
		COUNT(w, agg_nomem, n);
}

/* A crossing's profile, with its age on the event's UTC day. */
static uint32_t
crossing_profile(struct worker *w, const struct record_msg *m)
{
	uint32_t day = agg_hour_of(m->time_ms) / 24;
	int age;

	if (day != w->today.days)
		agg_day_set(&w->today, day);
	age = agg_age_on(m->birth_date, &w->today);
	return agg_profile(m->nationality, m->sex, age < 0 ? AGG_BAND_UNKNOWN :
			   agg_band_of(&w->ing->conf.bands, age),
			   m->document_letter);
}

/*
 * Records whose keys this worker owns: where each ends. The batch's
 * keys are looked up together (frames first, then documents), with the
 * result of looking them up one by one in order.
 */
static void
own_records(struct worker *w, const struct record_msg *m, unsigned int n)
{
	uint64_t keys[DEDUP_BULK_MAX];
	int64_t times[DEDUP_BULK_MAX];
	uint8_t index[DEDUP_BULK_MAX], seen[DEDUP_BULK_MAX];
	uint8_t retransmitted[DEDUP_BULK_MAX] = { 0 }, dup[DEDUP_BULK_MAX] = { 0 };
	unsigned int k = 0;

	for (unsigned int i = 0; i < n; i++) {
		if (m[i].frame_key != 0) {
			keys[k] = m[i].frame_key;
			times[k] = m[i].time_ms;
			index[k++] = i;
		}
	}
	if (k > 0)
		dedup_seen_bulk(w->frames, keys, times, k, seen);
	for (unsigned int j = 0; j < k; j++)
		retransmitted[index[j]] = seen[j];
	k = 0;
	for (unsigned int i = 0; i < n; i++) {
		if (!retransmitted[i] && m[i].error == 0) {
			keys[k] = m[i].doc_key;
			times[k] = m[i].time_ms;
			index[k++] = i;
		}
	}
	if (k > 0)
		dedup_seen_bulk(w->dedup, keys, times, k, seen);
	for (unsigned int j = 0; j < k; j++)
		dup[index[j]] = seen[j];

	/* A batch's records mostly share their hour and checkpoint, and
	 * re-scans and invalid records their profile: each run of equal
	 * (bucket, profile) is counted with one add. */
	uint64_t run_bucket = 0, run = 0;
	uint32_t run_profile = 0;

	for (unsigned int i = 0; i < n; i++) {
		uint32_t profile;

		if (retransmitted[i]) {
			COUNT(w, records[RECORD_RETRANSMISSION], 1);
			continue;
		} else if (m[i].error != 0) {
			COUNT(w, records[RECORD_INVALID], 1);
			COUNT(w, invalid_by[__builtin_ctz(m[i].error)], 1);
			profile = AGG_PROFILE_INVALID;
		} else if (dup[i]) {
			COUNT(w, records[RECORD_DUP], 1);
			profile = AGG_PROFILE_DUP;
		} else {
			COUNT(w, records[RECORD_CROSSING], 1);
			profile = crossing_profile(w, &m[i]);
		}
		if (run != 0 && (m[i].bucket != run_bucket || profile != run_profile)) {
			count_in_table(w, run_bucket, run_profile, run);
			run = 0;
		}
		run_bucket = m[i].bucket;
		run_profile = profile;
		run++;
	}
	if (run != 0)
		count_in_table(w, run_bucket, run_profile, run);
}

static void
flush_own(struct worker *w)
{
	/* Most polls of an idle queue come here with nothing. */
	if (w->own_count == 0)
		return;
	own_records(w, w->own, w->own_count);
	w->own_count = 0;
}

static void
drain_inbox(struct worker *w)
{
	struct record_msg msgs[DEDUP_BULK_MAX];
	unsigned int n;

	do {
		n = rte_ring_dequeue_burst_elem(w->inbox, msgs, sizeof(msgs[0]),
						DEDUP_BULK_MAX, NULL);
		if (n == 0)
			return;
		own_records(w, msgs, n);
	} while (n == DEDUP_BULK_MAX);
}

/* Sends what is staged for an owner; while its ring is full, counts
 * what others sent here, so that two workers never wait on each other. */
static void
flush_outbox(struct worker *w, unsigned int owner)
{
	struct rte_ring *ring = w->ing->workers[owner]->inbox;
	uint32_t n = w->outbox_count[owner], done = 0;

	while (done < n) {
		done += rte_ring_enqueue_burst_elem(ring, &w->outbox[owner][done],
						    sizeof(struct record_msg),
						    n - done, NULL);
		if (done < n) {
			COUNT(w, ring_full, 1);
			drain_inbox(w);
		}
	}
	w->outbox_count[owner] = 0;
}

static void
flush_outboxes(struct worker *w)
{
	for (unsigned int o = 0; o < w->ing->worker_count; o++)
		if (w->outbox_count[o] != 0)
			flush_outbox(w, o);
}

/*
 * Sends a record to its owner: into this worker's own batch, or the
 * outbox to that owner. The record is written in its slot field by
 * field: built elsewhere and copied, it would be read back as 16-byte
 * words from 8-byte stores, which the store buffer cannot forward.
 * f is the valid record's fields, NULL with an error.
 */
static inline __attribute__((always_inline)) void
send_record(struct worker *w, unsigned int owner, uint64_t doc_key,
	    uint64_t frame_key, uint64_t bucket, int64_t time_ms,
	    const struct mrz_fields *f, uint32_t error)
{
	bool own = owner == w->index;
	struct record_msg *m = own ? &w->own[w->own_count] :
		&w->outbox[owner][w->outbox_count[owner]];

	m->doc_key = doc_key;
	m->frame_key = frame_key;
	m->bucket = bucket;
	m->time_ms = time_ms;
	m->error = error;
	if (f != NULL) {
		memcpy(m->nationality, f->nationality, sizeof(m->nationality));
		m->sex = f->sex;
		memcpy(m->birth_date, f->birth_date, sizeof(m->birth_date));
		m->document_letter = f->document_code[0];
	}
	if (own) {
		if (++w->own_count == DEDUP_BULK_MAX)
			flush_own(w);
	} else if (++w->outbox_count[owner] == OUTBOX_MAX) {
		flush_outbox(w, owner);
	}
}

/*
 * Sends a parsed record on: err is mrz_check()'s result on f. Inlined
 * where it is called: on the raw datagram's fast path, err and
 * frame_key are constants (0) and the invalid branch folds away; as a
 * call it cost 34 instructions a frame more.
 */
static inline __attribute__((always_inline)) void
parsed_record(struct worker *w, const struct mrz_fields *f, uint32_t err,
	      uint64_t checkpoint, uint8_t direction, int64_t time_ms,
	      uint64_t frame_key)
{
	const struct ingest *ing = w->ing;
	uint64_t bucket = agg_bucket(checkpoint, direction, agg_hour_of(time_ms));
	uint64_t doc_key, document_hash;

	if (err != 0) {
		/* A raw record has no key: nothing to deduplicate. */
		send_record(w, frame_key == 0 ? w->index :
			    ingest_owner_of(ing, frame_key), 0, frame_key,
			    bucket, time_ms, NULL, err & -err);
		return;
	}
	doc_key = dedup_document_key(&ing->secret, f,
			ing->conf.scope == CONF_SCOPE_DIRECTION ? UINT64_MAX : checkpoint,
			direction, &document_hash);
	/* Owned by document, not by key: a retransmission after a reload
	 * that moved its scanner is checked where its frame was seen. */
	send_record(w, ingest_owner_of(ing, document_hash), doc_key, frame_key,
		    bucket, time_ms, f, 0);
}

/* Parses a record and sends it on. frame_key is 0 for raw text. */
static void
record(struct worker *w, const uint8_t *text, size_t len, uint64_t checkpoint,
       uint8_t direction, int64_t time_ms, uint64_t frame_key)
{
	struct mrz_fields f;
	uint32_t err = mrz_check((const char *)text, len, &f);

	parsed_record(w, &f, err, checkpoint, direction, time_ms, frame_key);
}

static void
raw_record(void *arg, const uint8_t *text, size_t len, int64_t time_ms)
{
	struct worker *w = arg;

	record(w, text, len, w->raw_checkpoint, w->raw_direction, time_ms, 0);
}

/* The bucket checkpoint of an id: its configured index, or the id. */
static uint64_t
checkpoint_of_id(const struct worker *w, uint32_t id)
{
	int cp = registry_checkpoint(w->registry, id);

	return cp >= 0 ? (uint64_t)cp : AGG_CHECKPOINT_UNNAMED | id;
}

static void
framed_datagram(struct worker *w, const struct wire_datagram *d, int64_t rx_ms)
{
	const struct ingest *ing = w->ing;
	const uint8_t *pos = d->payload, *end = d->payload + d->payload_len;
	const struct conf_scanner *scanner = NULL;
	bool looked_up = false;
	struct wire_frame f;
	int rc;

	while ((rc = wire_next_frame(&pos, end, &f)) == 1) {
		uint64_t checkpoint;
		uint8_t direction = f.direction;
		int64_t time_ms = f.time_ms ? (int64_t)f.time_ms : rx_ms;

		if (f.time_ms > TIME_MS_MAX) {
			rc = -EBADMSG;
			break;
		}
		/* Checkpoint 0 and direction 0 come from the registry. */
		if ((f.checkpoint == 0 || direction == 0) && !looked_up) {
			scanner = registry_scanner(w->registry, d->family,
						   d->src_addr);
			looked_up = true;
		}
		if (f.checkpoint == 0 && scanner != NULL)
			checkpoint = scanner->checkpoint;
		else
			checkpoint = checkpoint_of_id(w, f.checkpoint);
		if (direction == 0 && scanner != NULL)
			direction = scanner->direction;
		record(w, f.mrz, f.mrz_len, checkpoint, direction, time_ms,
		       dedup_frame_key(&ing->secret, f.checkpoint, f.scanner,
				       f.sequence));
	}
	/* Records before a malformed frame stand; the frame is counted
	 * once, as malformed. */
	COUNT(w, frames[rc < 0 ? FRAME_MALFORMED : WIRE_DELIVERED], 1);
}

/* The reassembler's name for a datagram's source. Most datagrams come
 * and go with nothing pending anywhere, and never need it. */
static inline const struct reasm_source *
source_of(const struct wire_datagram *d, struct reasm_source *src)
{
	src->family = d->family;
	src->port = d->src_port;
	memcpy(src->addr, d->src_addr, sizeof(src->addr));
	return src;
}

static void
raw_datagram(struct worker *w, const struct wire_datagram *d, int64_t rx_ms)
{
	const struct conf_scanner *scanner = registry_scanner(w->registry,
		d->family, d->src_addr);
	struct reasm_source src;

	if (scanner == NULL) {
		COUNT(w, frames[FRAME_UNKNOWN_SOURCE], 1);
		return;
	}
	COUNT(w, frames[WIRE_DELIVERED], 1);
	/* Most serial-device servers send a record per datagram: when the
	 * MRZ check's vector path takes it as one valid record and nothing
	 * of its source is pending, the datagram is parsed in place.
	 * Anything else is split into lines and its records parsed there,
	 * once: the try in place is the vector path alone, so that a
	 * record it declines is not classified twice. */
	if (reasm_pending(w->reasm) == 0 || !reasm_has_partial(w->reasm,
							       source_of(d, &src))) {
		const uint8_t *p = d->payload, *end = p + d->payload_len;
		struct mrz_fields f;

		while (p < end && (*p == 0x02 || *p == 0x03))
			p++;
		while (end > p && (end[-1] == '\r' || end[-1] == '\n' ||
				   end[-1] == 0x02 || end[-1] == 0x03))
			end--;
		if (mrz_fast_check((const char *)p, end - p, &f)) {
			parsed_record(w, &f, 0, scanner->checkpoint,
				      scanner->direction, rx_ms, 0);
			return;
		}
	}
	w->raw_checkpoint = scanner->checkpoint;
	w->raw_direction = scanner->direction;
	COUNT(w, records[RECORD_INCOMPLETE],
	      reasm_datagram(w->reasm, source_of(d, &src), rx_ms, d->payload,
			     d->payload_len));
}

static void
frame(struct worker *w, const struct rx_queue *q, struct rte_mbuf *m,
      int64_t host_ms)
{
	const struct ingest *ing = w->ing;
	const uint8_t *data = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t len = rte_pktmbuf_pkt_len(m);
	enum wire_verdict v;
	struct wire_datagram d;
	int64_t rx_ms = host_ms;

	if (m->nb_segs > 1) {
		if (len > sizeof(w->linear))
			len = sizeof(w->linear);
		data = rte_pktmbuf_read(m, 0, len, w->linear);
	}
	if (q->timestamps && (m->ol_flags & ing->timestamp_flag)) {
		uint64_t stamp_ms = *RTE_MBUF_DYNFIELD(m, ing->timestamp_offset,
						       rte_mbuf_timestamp_t *) / 1000;

		/* A capture stamped before 1970 comes as a huge unsigned
		 * time, past the year 9999: no capture time, so the host
		 * clock stands, as where a port stamps nothing. */
		if (stamp_ms <= TIME_MS_MAX)
			rx_ms = (int64_t)stamp_ms;
	}
	v = wire_decode(data, len, &ing->ports, q->checks, &d);
	if (v == WIRE_DELIVERED && q->hw_checksum) {
		if ((m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) ==
		    RTE_MBUF_F_RX_IP_CKSUM_BAD)
			v = WIRE_DROP_BAD_IP_CHECKSUM;
		else if ((m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) ==
			 RTE_MBUF_F_RX_L4_CKSUM_BAD)
			v = WIRE_DROP_BAD_UDP_CHECKSUM;
	}
	if (v != WIRE_DELIVERED) {
		COUNT(w, frames[v], 1);
		return;
	}
	if (rx_ms > w->latest_ms)
		w->latest_ms = rx_ms;
	if (wire_is_framed(d.payload, d.payload_len))
		framed_datagram(w, &d, rx_ms);
	else
		raw_datagram(w, &d, rx_ms);
}

/*
 * Frees a received burst. Received mbufs are almost always plain: one
 * segment, from one pool, referenced once, holding their own data.
 * Those need nothing of rte_pktmbuf_free_bulk()'s per-mbuf work (which
 * resets next and nb_segs, detaches and groups by pool) and go back to
 * the pool in one put, as a PMD's fast free does: 41 instructions a
 * frame down to about 24. Any other burst takes the library's way.
 * Not inlined: a call a burst costs little, and bench-instructions.sh
 * counts this stage by its name.
 */
static __rte_noinline void
free_burst(struct rte_mbuf **pkts, uint16_t n)
{
	struct rte_mempool *pool;
	bool plain = true;

	if (n == 0)
		return;
	pool = pkts[0]->pool;
	for (uint16_t i = 0; i < n; i++) {
		const struct rte_mbuf *m = pkts[i];

		plain &= m->pool == pool && m->next == NULL && m->nb_segs == 1 &&
			rte_mbuf_refcnt_read(m) == 1 && RTE_MBUF_DIRECT(m);
	}
	if (plain)
		rte_mempool_put_bulk(pool, (void **)pkts, n);
	else
		rte_pktmbuf_free_bulk(pkts, n);
}

/* Hands the counting table to the main lcore when it asks: the worker
 * goes on in the spare one. */
static inline void
swap_tables(struct worker *w)
{
	uint32_t request = __atomic_load_n(&w->swap_request, __ATOMIC_ACQUIRE);

	if (request != w->swap_done) {
		struct agg_table *t = w->agg;

		w->agg = w->spare;
		w->spare = t;
		__atomic_store_n(&w->swap_done, request, __ATOMIC_RELEASE);
	}
}

/*
 * Main lcore: adds what a worker counted since the last collection to
 * into. While the worker runs, it swaps tables on request; once it has
 * stopped, its table is read directly.
 */
void
worker_collect(struct worker *w, bool running, struct agg_table *into,
	       uint32_t *failed)
{
	struct agg_table *t = w->agg;

	if (running) {
		uint32_t request = w->swap_request + 1;

		__atomic_store_n(&w->swap_request, request, __ATOMIC_RELEASE);
		while (__atomic_load_n(&w->swap_done, __ATOMIC_ACQUIRE) != request)
			rte_pause();
		t = w->spare;
	}
	if (agg_table_merge(into, t) != 0)
		(*failed)++;
	agg_table_clear(t);
}

int
worker_main(void *arg)
{
	struct worker *w = arg;
	struct ingest *ing = w->ing;
	struct rte_mbuf *pkts[BURST];
	unsigned int rounds = 0;
	/* Where the worker's time goes, for benchmarks: an idle poll
	 * counts in neither. Three TSC reads a round when asked for. */
	const bool record = ing->record_cycles;

	rte_rcu_qsbr_thread_online(ing->registry_readers, w->index);
	while (!ing->stop_rx) {
		int64_t host_ms = ingest_wall_ms();
		uint64_t round_start = record ? rte_rdtsc() : 0;
		bool received = false;

		w->registry = __atomic_load_n(&ing->registry, __ATOMIC_ACQUIRE);
		swap_tables(w);
		for (unsigned int qi = 0; qi < w->queue_count; qi++) {
			const struct rx_queue *q = &w->queues[qi];
			uint64_t rx_start = record ? rte_rdtsc() : 0;
			uint16_t n = rte_eth_rx_burst(q->port, q->queue, pkts, BURST);

			if (record && n > 0)
				COUNT(w, rx_cycles, rte_rdtsc() - rx_start);
			received |= n > 0;
			for (uint16_t i = 0; i < n; i++) {
				if (i + 1 < n)
					rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void *));
				frame(w, q, pkts[i], host_ms);
			}
			free_burst(pkts, n);
		}
		flush_own(w);
		flush_outboxes(w);
		drain_inbox(w);
		if (++rounds % EXPIRE_ROUNDS == 0 && reasm_pending(w->reasm))
			COUNT(w, records[RECORD_INCOMPLETE],
			      reasm_expire(w->reasm, w->latest_ms));
		if (record && received)
			COUNT(w, busy_cycles, rte_rdtsc() - round_start);
		/* Nothing of this round's registry is held past here. */
		rte_rcu_qsbr_quiescent(ing->registry_readers, w->index);
	}
	rte_rcu_qsbr_thread_offline(ing->registry_readers, w->index);
	/* Stopping: what was received is still counted, exactly once. */
	flush_own(w);
	flush_outboxes(w);
	COUNT(w, records[RECORD_INCOMPLETE], reasm_expire(w->reasm, INT64_MAX));
	__atomic_store_n(&w->rx_done, true, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&ing->quit, __ATOMIC_ACQUIRE)) {
		swap_tables(w);
		drain_inbox(w);
	}
	drain_inbox(w);
	return 0;
}
