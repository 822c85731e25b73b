/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * crossings-gen: a capture of scanner traffic for a scenario, and
 * beside it the counts crossings-ingest must publish for it (JSON, as
 * --no-redis prints them) and a configuration that matches it.
 *
 * Time runs hour by hour: each hour's travellers get their scans, and
 * every scan waits in a heap until its time comes, so frames leave in
 * time order and memory holds only what lies ahead (re-scans up to a few
 * windows away), however long the scenario. The same seed gives the
 * same files.
 */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <pcap/pcap.h>

#include "agg.h"
#include "agg_table.h"
#include "mrz.h"

#define EXIT_USAGE 2
#define HOUR_MS INT64_C(3600000)
#define DAY_MS (24 * HOUR_MS)
/* The first times a capture's timestamp and a frame's time_ms cannot
 * carry: 2^31 seconds, read as signed by libpcap, and year 10000. */
#define CAPTURE_TIME_END_MS (INT64_C(2147483648) * 1000)
#define FRAME_TIME_END_MS INT64_C(253402300800000)
#define UDP_PORT 7470

/* --- the scenario ------------------------------------------------------ */

struct scanner {
	char name[64];
	char address[48];		/* address or prefix in the config */
	char src[48];			/* the source address it sends from */
	uint16_t src_port;
	unsigned int checkpoint;
	uint8_t direction;		/* 1 entry, 2 exit */
	bool raw;			/* serial scanner: raw text */
	uint8_t vlans;			/* 0, 1 or 2 tags */
	uint32_t id;
	uint32_t sequence;
};

struct checkpoint {
	char name[32];
	uint32_t id;
	double weight;			/* share of the traffic */
	double exit_share;
	double surge;			/* extra traffic at the surge's peak */
	int64_t closed_from_ms;		/* entries stop (0: never) */
};

/* Late September 2022: the Georgian, Kazakh and Finnish borders. */
static const struct checkpoint default_checkpoints[] = {
	{ "verkhny-lars", 17, 0.35, 0.80, 9.0, 0 },
	{ "zhaisan", 42, 0.25, 0.75, 6.0, 0 },
	{ "vaalimaa", 61, 0.25, 0.60, 3.0, 0 },
	{ "nuijamaa", 62, 0.15, 0.60, 2.0, 0 },
};
#define DEFAULT_CHECKPOINTS (sizeof(default_checkpoints) / sizeof(default_checkpoints[0]))

static const struct scanner default_scanners[] = {
	{ "lars-exit-1", "10.17.0.21", "10.17.0.21", 40001, 0, 2, false, 0, 1, 0 },
	{ "lars-exit-2", "10.17.0.22", "10.17.0.22", 40001, 0, 2, true, 1, 2, 0 },
	{ "lars-exit-v6", "fd00:17::/64", "fd00:17::5", 40001, 0, 2, false, 0, 3, 0 },
	{ "lars-entry-1", "10.17.1.0/24", "10.17.1.7", 4001, 0, 1, true, 0, 4, 0 },
	{ "zhaisan-exit-1", "10.42.0.11", "10.42.0.11", 40001, 1, 2, false, 2, 1, 0 },
	{ "zhaisan-exit-2", "10.42.0.12", "10.42.0.12", 4001, 1, 2, true, 0, 2, 0 },
	{ "zhaisan-entry-1", "10.42.1.11", "10.42.1.11", 40001, 1, 1, false, 0, 3, 0 },
	{ "vaalimaa-exit-1", "10.61.0.0/28", "10.61.0.3", 40001, 2, 2, false, 1, 1, 0 },
	{ "vaalimaa-entry-1", "fd00:61::9", "fd00:61::9", 4001, 2, 1, true, 0, 2, 0 },
	{ "nuijamaa-exit-1", "10.62.0.5", "10.62.0.5", 40001, 3, 2, false, 0, 1, 0 },
	{ "nuijamaa-entry-1", "10.62.1.5", "10.62.1.5", 4001, 3, 1, true, 0, 2, 0 },
};
#define DEFAULT_SCANNERS (sizeof(default_scanners) / sizeof(default_scanners[0]))

/* The scenario's: the defaults, or made by make_scanners(). */
#define CHECKPOINTS_MAX 32
#define SCANNERS_MAX (3 * CHECKPOINTS_MAX)
static struct checkpoint checkpoints[CHECKPOINTS_MAX];
static unsigned int checkpoint_count;
static struct scanner scanners[SCANNERS_MAX];
static unsigned int scanner_count;

struct mix {
	const char *code;
	double share;
};

/* Mostly Russian travellers; the surge is Russian men of call-up age. */
static const struct mix default_nationalities[] = {
	{ "RUS", 0.82 }, { "KAZ", 0.05 }, { "GEO", 0.03 }, { "ARM", 0.02 },
	{ "BLR", 0.02 }, { "UKR", 0.01 }, { "FIN", 0.03 }, { "D", 0.01 },
	{ "UZB", 0.01 },
};
#define NATIONALITIES_MAX 64
static struct mix nationalities[NATIONALITIES_MAX];
static char nationality_codes[NATIONALITIES_MAX][4];
static unsigned int nationality_count;

struct options {
	uint64_t seed;
	uint64_t travellers;
	int64_t start_ms;
	unsigned int days;
	int64_t surge_ms;		/* the surge starts; peaks 6 days later */
	double rescans;			/* share re-scanned inside the window */
	double late_rescans;		/* share scanned again after it */
	double retransmissions;		/* share of framed frames sent twice */
	double invalid;			/* share of scans with a bad MRZ */
	double malformed;		/* share of malformed frames */
	double split;			/* share of raw records sent per line */
	double incomplete;		/* share of raw records never finished */
	double noise;			/* share of unrelated frames */
	double men;			/* share of men outside the surge */
	double td1, td2;		/* document formats; the rest TD3 */
	unsigned int window_s;
	double pps;			/* > 0: live replay, framed only */
	unsigned int files;		/* captures, scanners spread over them */
	unsigned int checkpoints;	/* 0: the default scenario's scanners */
	double raw, ipv6, vlan;		/* shares of the scanners made */
	const char *nationalities;	/* "RUS:0.8,KAZ:0.2", or NULL */
	const char *out, *expected, *config;
};

/* --- randomness: splitmix64, the same everywhere ----------------------- */

static uint64_t rng_state;

static uint64_t
rnd(void)
{
	uint64_t z = (rng_state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static double
uniform(void)
{
	return (rnd() >> 11) * (1.0 / 9007199254740992.0);
}

static bool
chance(double p)
{
	return uniform() < p;
}

static const char *
pick(const struct mix *m, size_t n)
{
	double u = uniform(), sum = 0;

	for (size_t i = 0; i < n; i++) {
		sum += m[i].share;
		if (u < sum)
			return m[i].code;
	}
	return m[n - 1].code;
}

/* --- scans and their heap ---------------------------------------------- */

enum scan_kind {
	SCAN_CROSSING,		/* counted */
	SCAN_RESCAN,		/* inside the window: dup */
	SCAN_INVALID,		/* a bad MRZ: invalid */
	SCAN_INCOMPLETE,	/* raw, first line only: nothing */
	SCAN_MALFORMED,		/* a frame that does not fit: nothing */
	SCAN_NOISE,		/* unrelated traffic: nothing */
};

struct scan {
	int64_t time_ms;
	uint64_t order;			/* ties keep their creation order */
	uint32_t traveller;
	uint8_t kind;
	uint8_t scanner;
	char nationality[4];
	char sex;
	char birth[7];
	uint8_t format;			/* enum mrz_format */
};

static struct scan *heap;
static size_t heap_len, heap_cap;
static uint64_t scan_order;

static bool
before(const struct scan *a, const struct scan *b)
{
	return a->time_ms < b->time_ms || (a->time_ms == b->time_ms && a->order < b->order);
}

static void
heap_push(struct scan s)
{
	size_t i;

	if (heap_len == heap_cap) {
		heap_cap = heap_cap ? 2 * heap_cap : 4096;
		heap = realloc(heap, heap_cap * sizeof(*heap));
		if (heap == NULL) {
			fprintf(stderr, "crossings-gen: out of memory\n");
			exit(1);
		}
	}
	s.order = scan_order++;
	for (i = heap_len++; i > 0 && before(&s, &heap[(i - 1) / 2]); i = (i - 1) / 2)
		heap[i] = heap[(i - 1) / 2];
	heap[i] = s;
}

static struct scan
heap_pop(void)
{
	struct scan top = heap[0], last = heap[--heap_len];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= heap_len)
			break;
		if (c + 1 < heap_len && before(&heap[c + 1], &heap[c]))
			c++;
		if (!before(&heap[c], &last))
			break;
		heap[i] = heap[c];
		i = c;
	}
	heap[i] = last;
	return top;
}

/* --- frames ------------------------------------------------------------ */

struct writer {
	pcap_dumper_t *dump;
	int error;			/* errno of the first write that failed */
	uint64_t frames;
	double pps;
	int64_t live_start_us;
};

static uint16_t
csum_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static uint32_t
csum_add(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

/* Keeps the first failed write of a capture: errno, which still holds
 * its reason right after it, or EIO. */
static void
keep_write_error(struct writer *w, bool failed)
{
	if (failed && w->error == 0)
		w->error = errno != 0 ? errno : EIO;
}

static void
emit(struct writer *w, int64_t time_ms, const uint8_t *frame, size_t len)
{
	struct pcap_pkthdr h = { .caplen = len, .len = len };
	int64_t us = w->pps > 0 ? w->live_start_us + (int64_t)(w->frames * 1e6 / w->pps) :
		time_ms * 1000;

	h.ts.tv_sec = us / 1000000;
	h.ts.tv_usec = us % 1000000;
	pcap_dump((u_char *)w->dump, &h, frame);
	w->frames++;
	/* pcap_dump() returns nothing: a full disk shows in the stream. */
	keep_write_error(w, ferror(pcap_dump_file(w->dump)));
}

/* Ethernet, the scanner's VLAN tags, IPv4 or IPv6, UDP, payload. */
static size_t
build_udp(uint8_t *f, const struct scanner *s, uint16_t src_port, uint16_t dst_port,
	  const uint8_t *payload, size_t len)
{
	static const uint8_t macs[12] = { 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2 };
	uint8_t src[16], dst[16];
	bool v6 = strchr(s->src, ':') != NULL;
	size_t off = 12, ip, udp;
	uint32_t sum;

	memcpy(f, macs, 12);
	for (unsigned int i = 0; i < s->vlans; i++) {
		uint16_t tpid = s->vlans == 2 && i == 0 ? 0x88a8 : 0x8100;

		f[off++] = tpid >> 8;
		f[off++] = tpid & 0xff;
		f[off++] = 0;
		f[off++] = 100 + i;
	}
	f[off++] = v6 ? 0x86 : 0x08;
	f[off++] = v6 ? 0xdd : 0x00;
	ip = off;
	if (v6) {
		inet_pton(AF_INET6, s->src, src);
		inet_pton(AF_INET6, "fd00::1", dst);
		memset(f + ip, 0, 40);
		f[ip] = 0x60;
		f[ip + 4] = (8 + len) >> 8;
		f[ip + 5] = (8 + len) & 0xff;
		f[ip + 6] = 17;
		f[ip + 7] = 64;
		memcpy(f + ip + 8, src, 16);
		memcpy(f + ip + 24, dst, 16);
		udp = ip + 40;
	} else {
		inet_pton(AF_INET, s->src, src);
		inet_pton(AF_INET, "10.0.0.1", dst);
		memset(f + ip, 0, 20);
		f[ip] = 0x45;
		f[ip + 2] = (20 + 8 + len) >> 8;
		f[ip + 3] = (20 + 8 + len) & 0xff;
		f[ip + 6] = 0x40;		/* don't fragment */
		f[ip + 8] = 64;
		f[ip + 9] = 17;
		memcpy(f + ip + 12, src, 4);
		memcpy(f + ip + 16, dst, 4);
		sum = csum_fold(csum_add(f + ip, 20, 0));
		f[ip + 10] = sum >> 8;
		f[ip + 11] = sum & 0xff;
		udp = ip + 20;
	}
	f[udp] = src_port >> 8;
	f[udp + 1] = src_port & 0xff;
	f[udp + 2] = dst_port >> 8;
	f[udp + 3] = dst_port & 0xff;
	f[udp + 4] = (8 + len) >> 8;
	f[udp + 5] = (8 + len) & 0xff;
	f[udp + 6] = f[udp + 7] = 0;
	memcpy(f + udp + 8, payload, len);
	/* Pseudo header, then the datagram. */
	sum = csum_add(f + ip + (v6 ? 8 : 12), v6 ? 32 : 8, 17 + 8 + (uint32_t)len);
	sum = csum_fold(csum_add(f + udp, 8 + len, sum));
	if (sum == 0)
		sum = 0xffff;
	f[udp + 6] = sum >> 8;
	f[udp + 7] = sum & 0xff;
	return udp + 8 + len;
}

static size_t
build_framed(uint8_t *p, const struct scanner *s, uint8_t version, uint32_t sequence,
	     int64_t time_ms, const char *mrz, size_t len)
{
	uint32_t cp = checkpoints[s->checkpoint].id;

	memcpy(p, "MRZ1", 4);
	p[4] = version;
	p[5] = s->direction;
	p[6] = len >> 8;
	p[7] = len & 0xff;
	for (int i = 0; i < 4; i++) {
		p[8 + i] = cp >> (24 - 8 * i);
		p[12 + i] = s->id >> (24 - 8 * i);
		p[16 + i] = sequence >> (24 - 8 * i);
	}
	for (int i = 0; i < 8; i++)
		p[20 + i] = (uint64_t)time_ms >> (56 - 8 * i);
	memcpy(p + 28, mrz, len);
	return 28 + len;
}

/* --- documents ------------------------------------------------------- */

static const char *const surnames[] = { "IVANOV", "SMIRNOV", "KUZNETSOV", "POPOV",
	"VASILEV", "PETROV", "SOKOLOV", "MIKHAILOV", "NOVIKOV", "FEDOROV" };
static const char *const given[] = { "ALEKSANDR", "DMITRII", "MAKSIM", "SERGEI",
	"ANDREI", "ALEKSEI", "ANNA", "MARIA", "ELENA", "OLGA" };

/* A unique, random-looking document number per traveller: a bijection
 * of the index, written in base 36. */
static void
document_number(uint32_t traveller, char out[10])
{
	static const char digits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
	/* An odd multiplier not divisible by 3 is a bijection mod 36^9. */
	uint64_t x = ((uint64_t)traveller * UINT64_C(2654435761)) %
		UINT64_C(101559956668416);
	for (int i = 8; i >= 0; i--) {
		out[i] = digits[x % 36];
		x /= 36;
	}
	out[9] = '\0';
}

/* The MRZ of a scan, lines ended by "\r\n"; corrupted when invalid. */
static int
compose(const struct scan *s, char *out, size_t size)
{
	static const char *const td3_codes[] = { "P", "P", "P", "PD" };
	static const char *const td1_codes[] = { "I", "ID", "AC" };
	static const char *const td2_codes[] = { "I", "ID", "A" };
	char number[10];
	struct mrz_compose_params p = {
		.format = s->format,
		.issuing_state = s->nationality,
		.nationality = s->nationality,
		.surname = surnames[s->traveller % 10],
		.given_names = given[(s->traveller / 10) % 10],
		.birth_date = s->birth,
		.expiry_date = "320101",
		.sex = s->sex,
		.optional_data = "",
	};
	int len;

	document_number(s->traveller, number);
	p.document_number = number;
	p.document_code = s->format == MRZ_FORMAT_TD3 ? td3_codes[s->traveller % 4] :
		s->format == MRZ_FORMAT_TD1 ? td1_codes[s->traveller % 3] :
		td2_codes[s->traveller % 3];
	len = mrz_compose(&p, "\r\n", out, size);
	if (len > 0 && s->kind == SCAN_INVALID) {
		/* An OCR slip in the document number's check digit. */
		char *digit = out + (s->format == MRZ_FORMAT_TD1 ? 14 :
				     s->format == MRZ_FORMAT_TD2 ? 38 + 9 : 46 + 9);

		*digit = *digit == '9' ? '0' : *digit + 1;
	}
	return len;
}

/* --- the generator ----------------------------------------------------- */

#define FILES_MAX 8

struct generator {
	struct options o;
	struct writer w[FILES_MAX];	/* scanner i writes to file i % files */
	struct agg_table *expected;
	struct agg_bands bands;
	uint64_t scans[SCAN_NOISE + 1];
	uint64_t retransmitted;
	uint64_t split;
	uint32_t travellers;
	uint16_t next_port;		/* for incomplete records' sources */
};

static void
count(struct generator *g, const struct scan *s, uint32_t profile)
{
	const struct scanner *sc = &scanners[s->scanner];

	agg_table_add(g->expected, agg_bucket(sc->checkpoint, sc->direction,
					      agg_hour_of(s->time_ms)), profile, 1);
}

/* A capture could not be written: the scenario stops there. */
static bool
capture_failed(const struct generator *g)
{
	for (unsigned int i = 0; i < g->o.files; i++)
		if (g->w[i].error != 0)
			return true;
	return false;
}

static void
emit_scan(struct generator *g, const struct scan *s)
{
	struct scanner *sc = &scanners[s->scanner];
	struct writer *w = &g->w[s->scanner % g->o.files];
	uint8_t frame[2048], payload[1024];
	char mrz[256];
	size_t n;
	int len;

	g->scans[s->kind]++;
	if (s->kind == SCAN_NOISE) {
		/* Unrelated UDP from the scanner's network, to another port. */
		n = build_udp(frame, sc, 5353, 5353, (const uint8_t *)"\0\0\0\0", 4);
		emit(w, s->time_ms, frame, n);
		return;
	}
	len = compose(s, mrz, sizeof(mrz));
	if (len < 0)
		return;
	if (s->kind == SCAN_MALFORMED) {
		n = build_framed(payload, sc, 9, 0, s->time_ms, mrz, len);
		n = build_udp(frame, sc, sc->src_port, UDP_PORT, payload, n);
		emit(w, s->time_ms, frame, n);
		return;
	}
	if (s->kind == SCAN_CROSSING || s->kind == SCAN_RESCAN) {
		int age = agg_age(s->birth, s->time_ms);
		char code[3] = { mrz[0], 0 };

		count(g, s, s->kind == SCAN_RESCAN ? AGG_PROFILE_DUP :
		      agg_profile(s->nationality, s->sex, age < 0 ? AGG_BAND_UNKNOWN :
				  agg_band_of(&g->bands, age), code[0]));
	} else if (s->kind == SCAN_INVALID) {
		count(g, s, AGG_PROFILE_INVALID);
	}
	if (!sc->raw) {
		uint32_t seq = ++sc->sequence;

		n = build_framed(payload, sc, 1, seq, s->time_ms, mrz, len - 2);
		n = build_udp(frame, sc, sc->src_port, UDP_PORT, payload, n);
		emit(w, s->time_ms, frame, n);
		if (chance(g->o.retransmissions)) {
			emit(w, s->time_ms, frame, n);
			g->retransmitted++;
		}
		return;
	}
	if (s->kind == SCAN_INCOMPLETE) {
		/* Only the first line, from a source port never used again:
		 * a later record of that source would join it. */
		const char *eol = strstr(mrz, "\r\n");

		n = build_udp(frame, sc, 50000 + g->next_port++ % 10000, UDP_PORT,
			      (const uint8_t *)mrz, eol - mrz + 2);
		emit(w, s->time_ms, frame, n);
		return;
	}
	if (chance(g->o.split)) {
		/* One datagram per line, as a per-line serial-device server. */
		const char *line = mrz;

		g->split++;
		while (*line) {
			const char *eol = strstr(line, "\r\n");

			n = build_udp(frame, sc, sc->src_port, UDP_PORT,
				      (const uint8_t *)line, eol - line + 2);
			emit(w, s->time_ms, frame, n);
			line = eol + 2;
		}
		return;
	}
	/* The whole record, wrapped in STX ... ETX. */
	payload[0] = 0x02;
	memcpy(payload + 1, mrz, len);
	payload[len + 1] = 0x03;
	n = build_udp(frame, sc, sc->src_port, UDP_PORT, payload, len + 2);
	emit(w, s->time_ms, frame, n);
}

/* Traffic weight of an hour at a checkpoint: a day's rhythm, times the
 * surge after the mobilisation announcement (peak six days in, slowly
 * ebbing), and no entries once the border closes. */
static double
weight(const struct generator *g, int64_t hour_ms, unsigned int cp, uint8_t direction)
{
	static const double rhythm[24] = { .3, .2, .2, .2, .3, .5, .8, 1, 1.2, 1.3,
		1.3, 1.2, 1.2, 1.2, 1.3, 1.3, 1.2, 1.1, 1, .9, .8, .6, .5, .4 };
	const struct checkpoint *c = &checkpoints[cp];
	double w = c->weight * rhythm[(hour_ms / HOUR_MS) % 24];
	double days = (double)(hour_ms - g->o.surge_ms) / DAY_MS;

	w *= direction == 2 ? c->exit_share : 1 - c->exit_share;
	if (days >= 0 && direction == 2)
		w *= 1 + c->surge * (days < 6 ? days / 6 : exp(-(days - 6) / 8));
	if (c->closed_from_ms && hour_ms >= c->closed_from_ms && direction == 1)
		w *= 0.3;
	return w;
}

static void
make_traveller(struct generator *g, struct scan *s, int64_t t, unsigned int scanner,
	       bool surge)
{
	double u = uniform();
	unsigned int age, year, month, day;
	char birth[16];

	memset(s, 0, sizeof(*s));
	s->time_ms = t;
	s->scanner = scanner;
	s->traveller = g->travellers++;
	snprintf(s->nationality, sizeof(s->nationality), "%s",
		 pick(nationalities, nationality_count));
	/* The surge: men of call-up age, mostly. */
	if (surge && strcmp(s->nationality, "RUS") == 0 && chance(0.6)) {
		s->sex = 'M';
		age = 18 + (unsigned int)(uniform() * 17);
	} else {
		s->sex = chance(g->o.men) ? 'M' : chance(0.97) ? 'F' : 'X';
		age = (unsigned int)(uniform() * 80);
	}
	year = 2022 - age;
	month = 1 + (unsigned int)(uniform() * 12);
	day = 1 + (unsigned int)(uniform() * 28);
	snprintf(birth, sizeof(birth), "%02u%02u%02u", year % 100, month % 100, day % 100);
	memcpy(s->birth, birth, 7);
	if (chance(0.003))
		memcpy(s->birth + 4, "<<", 2);	/* day unknown */
	s->format = u < g->o.td1 ? MRZ_FORMAT_TD1 : u < g->o.td1 + g->o.td2 ?
		MRZ_FORMAT_TD2 : MRZ_FORMAT_TD3;
}

/* A scanner of the same checkpoint and direction, maybe the same. */
static unsigned int
sibling(unsigned int si)
{
	unsigned int options[SCANNERS_MAX], n = 0;

	for (unsigned int j = 0; j < scanner_count; j++)
		if (scanners[j].checkpoint == scanners[si].checkpoint &&
		    scanners[j].direction == scanners[si].direction)
			options[n++] = j;
	return options[rnd() % n];
}

static void
generate_hour(struct generator *g, int64_t hour_ms, double per_weight, double *carry)
{
	for (unsigned int si = 0; si < scanner_count; si++) {
		const struct scanner *sc = &scanners[si];
		unsigned int same = 0;
		double expect;
		uint64_t n;

		/* The checkpoint's traffic in this direction, split evenly
		 * over its scanners in that direction. */
		for (unsigned int j = 0; j < scanner_count; j++)
			same += scanners[j].checkpoint == sc->checkpoint &&
				scanners[j].direction == sc->direction;
		expect = per_weight * weight(g, hour_ms, sc->checkpoint, sc->direction) / same +
			carry[si];
		n = (uint64_t)expect;
		carry[si] = expect - n;
		for (uint64_t i = 0; i < n; i++) {
			int64_t t = hour_ms + (int64_t)(uniform() * HOUR_MS);
			bool surge = hour_ms >= g->o.surge_ms && sc->direction == 2;
			struct scan s, extra;

			make_traveller(g, &s, t, si, surge);
			s.kind = SCAN_CROSSING;
			heap_push(s);
			bool elsewhere = false;

			if (chance(g->o.rescans)) {
				/* Inside the window, well clear of its end. */
				extra = s;
				extra.kind = SCAN_RESCAN;
				extra.scanner = sibling(si);
				extra.time_ms = t + 5000 + (int64_t)(uniform() *
					(g->o.window_s * 500.0 - 5000));
				/* At another scanner, perhaps on another RX queue,
				 * either scan may come first: in the same hour
				 * both orders give the same counts. */
				if (extra.scanner != si && extra.time_ms / HOUR_MS != t / HOUR_MS)
					extra.scanner = si;
				elsewhere = extra.scanner != si;
				heap_push(extra);
			}
			/* A document seen on two queues is seen there only
			 * once more: queues replayed from files do not run in
			 * step, and a crossing hours later on one could come
			 * before the re-scan on the other. */
			if (chance(g->o.late_rescans) && !elsewhere) {
				/* Back again two to four windows later: a crossing. */
				extra = s;
				extra.time_ms = t + (int64_t)((2 + 2 * uniform()) *
							      g->o.window_s * 1000.0);
				heap_push(extra);
			}
			if (chance(g->o.invalid)) {
				make_traveller(g, &extra, t + 1000, si, surge);
				extra.kind = SCAN_INVALID;
				heap_push(extra);
			}
			if (sc->raw && g->o.pps <= 0 && chance(g->o.incomplete)) {
				make_traveller(g, &extra, t + 1500, si, surge);
				extra.kind = SCAN_INCOMPLETE;
				heap_push(extra);
			}
			if (!sc->raw && chance(g->o.malformed)) {
				make_traveller(g, &extra, t + 500, si, surge);
				extra.kind = SCAN_MALFORMED;
				heap_push(extra);
			}
			if (chance(g->o.noise)) {
				extra = s;
				extra.kind = SCAN_NOISE;
				extra.time_ms = t + 200;
				heap_push(extra);
			}
		}
	}
}

/*
 * The checkpoints and scanners of the scenario. Without --checkpoints,
 * --raw, --ipv6 or --vlan: the four checkpoints and eleven scanners of
 * late September 2022 (docs/gen.md). With any of them: N checkpoints
 * (the first four as named there, then checkpoint-5 ...), each with two
 * exit scanners and one entry scanner, each raw, IPv6 or behind VLAN
 * tags (half of them QinQ) with the given shares.
 */
static void
make_scanners(const struct options *o)
{
	bool made = o->checkpoints || o->raw >= 0 || o->ipv6 >= 0 || o->vlan >= 0;
	unsigned int n = o->checkpoints ? o->checkpoints : DEFAULT_CHECKPOINTS;
	double raw = o->raw >= 0 ? o->raw : 0.4, ipv6 = o->ipv6 >= 0 ? o->ipv6 : 0.2;
	double vlan = o->vlan >= 0 ? o->vlan : 0.3;

	checkpoint_count = n;
	for (unsigned int c = 0; c < n; c++) {
		if (c < DEFAULT_CHECKPOINTS) {
			checkpoints[c] = default_checkpoints[c];
			continue;
		}
		checkpoints[c] = (struct checkpoint){ .id = 100 + c, .weight = 0.2,
			.exit_share = 0.6, .surge = 3.0 };
		snprintf(checkpoints[c].name, sizeof(checkpoints[c].name),
			 "checkpoint-%u", c + 1);
	}
	if (!made) {
		scanner_count = DEFAULT_SCANNERS;
		memcpy(scanners, default_scanners, sizeof(default_scanners));
		return;
	}
	scanner_count = 0;
	for (unsigned int c = 0; c < n; c++) {
		for (unsigned int k = 0; k < 3; k++) {
			struct scanner *sc = &scanners[scanner_count++];
			uint8_t direction = k < 2 ? 2 : 1;

			memset(sc, 0, sizeof(*sc));
			sc->checkpoint = c;
			sc->direction = direction;
			sc->id = k + 1;
			sc->raw = chance(raw);
			sc->src_port = sc->raw ? 4001 : 40001;
			if (chance(vlan))
				sc->vlans = chance(0.5) ? 2 : 1;
			if (chance(ipv6))
				snprintf(sc->src, sizeof(sc->src), "fd00:%x::%u", c + 1, k + 1);
			else
				snprintf(sc->src, sizeof(sc->src), "10.%u.%u.%u", c + 1,
					 direction, k + 1);
			memcpy(sc->address, sc->src, sizeof(sc->address));
			snprintf(sc->name, sizeof(sc->name), "%.31s-%s-%u", checkpoints[c].name,
				 direction == 2 ? "exit" : "entry", k + 1);
		}
	}
}

/* "RUS:0.8,KAZ:0.15,D:0.05": codes with shares, scaled to sum to 1. */
static int
parse_nationalities(const char *spec)
{
	double sum = 0;
	const char *p = spec;

	nationality_count = 0;
	while (*p) {
		char code[4];
		double share;
		int used = 0;

		if (nationality_count == NATIONALITIES_MAX ||
		    sscanf(p, "%3[A-Z]:%lf%n", code, &share, &used) != 2 || !(share > 0))
			return -EINVAL;
		code[3] = '\0';
		while (strlen(code) < 3)
			strcat(code, "<");
		if (!mrz_state_code_valid(code))
			return -EINVAL;
		code[strcspn(code, "<")] = '\0';
		memcpy(nationality_codes[nationality_count], code, 4);
		nationalities[nationality_count].code = nationality_codes[nationality_count];
		nationalities[nationality_count++].share = share;
		sum += share;
		p += used;
		if (*p == ',')
			p++;
		else if (*p != '\0')
			return -EINVAL;
	}
	if (nationality_count == 0)
		return -EINVAL;
	for (unsigned int i = 0; i < nationality_count; i++)
		nationalities[i].share /= sum;
	return 0;
}

/* Closes a file written: 0, or why a write to it failed (an earlier
 * one included: the stream keeps its error). */
static int
close_written(FILE *f)
{
	bool failed = ferror(f) != 0;

	errno = 0;
	if (fclose(f) != 0 || failed)
		return errno != 0 ? -errno : -EIO;
	return 0;
}

/* Both write into files opened at the start, and close them. */
static int
write_config(const struct generator *g, FILE *f)
{
	uint64_t capacity = 65536;

	/* Room for every document of the scenario, up to the default. */
	while (capacity < 2 * g->o.travellers && capacity < 4194304)
		capacity *= 2;
	fprintf(f, "; Written by crossings-gen for %s (seed %" PRIu64 ").\n\n"
		"[node]\nname = gen-node\n\n[dedup]\nwindow_s = %u\n"
		"capacity = %" PRIu64 "\n\n", g->o.out, g->o.seed, g->o.window_s, capacity);
	for (unsigned int i = 0; i < checkpoint_count; i++)
		fprintf(f, "[checkpoint %s]\nid = %u\n\n", checkpoints[i].name,
			checkpoints[i].id);
	for (unsigned int i = 0; i < scanner_count; i++)
		fprintf(f, "[scanner %s]\naddress = %s\ncheckpoint = %s\ndirection = %s\n\n",
			scanners[i].name, scanners[i].address,
			checkpoints[scanners[i].checkpoint].name,
			scanners[i].direction == 1 ? "entry" : "exit");
	return close_written(f);
}

static int
write_expected(const struct generator *g, FILE *f)
{
	const char *names[CHECKPOINTS_MAX];
	struct agg_names an = { names, checkpoint_count, &g->bands };
	struct agg_increment *inc;
	uint32_t n;

	for (unsigned int i = 0; i < checkpoint_count; i++)
		names[i] = checkpoints[i].name;
	inc = agg_expand(g->expected, &an, &n);
	if (inc == NULL) {
		fclose(f);
		return -ENOMEM;
	}
	agg_write_json(f, inc, n);
	free(inc);
	return close_written(f);
}

/* --- options ----------------------------------------------------------- */

static int
bad(const char *opt, const char *what)
{
	fprintf(stderr, "crossings-gen: %s: %s\n", opt, what);
	return EXIT_USAGE;
}

/* The capture's name without its .pcap suffix, where it has one: the
 * other files are named after it. */
static int
base_len(const char *out)
{
	size_t n = strlen(out);

	return (int)(n >= 5 && strcmp(out + n - 5, ".pcap") == 0 ? n - 5 : n);
}

/* Capture i of files: the name given, or NAME-i.pcap for several. */
static void
capture_path(const char *out, unsigned int i, unsigned int files, char *path,
	     size_t len)
{
	if (files == 1)
		snprintf(path, len, "%s", out);
	else
		snprintf(path, len, "%.*s-%u.pcap", base_len(out), out, i);
}

/* A path with its directory resolved (links, "..", "."), so that two
 * spellings of one file compare equal. A directory that does not
 * resolve is left as written: opening the file will say why. */
static void
resolved_path(const char *path, char *out, size_t len)
{
	const char *slash = strrchr(path, '/');
	char dir[PATH_MAX], real[PATH_MAX];

	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else
		snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path),
			 path);
	if (realpath(dir, real) == NULL)
		snprintf(out, len, "%s", path);
	else
		snprintf(out, len, "%s/%s", real, slash ? slash + 1 : path);
}

static void
usage(FILE *out)
{
	fprintf(out,
"usage: crossings-gen [options] --out CAPTURE.pcap\n"
"  --out FILE             the capture (pcap, Ethernet)\n"
"  --expected FILE        the counts it must give (default: CAPTURE.expected.json)\n"
"  --config FILE          a configuration for it (default: CAPTURE.ini)\n"
"  --seed N               same seed, same files (default 1)\n"
"  --travellers N         crossings over the whole span (default 20000)\n"
"  --start YYYY-MM-DD     first day, UTC (default 2022-09-15)\n"
"  --days N               days (default 21)\n"
"  --surge YYYY-MM-DD     the surge begins (default 2022-09-21; 'none')\n"
"  --rescans P            share re-scanned inside the window (default 0.08)\n"
"  --late-rescans P       share scanned again after the window (default 0.02)\n"
"  --retransmissions P    share of framed frames sent twice (default 0.01)\n"
"  --invalid P            share with a misread MRZ (default 0.01)\n"
"  --malformed P          share of malformed framed datagrams (default 0.002)\n"
"  --split P              share of raw records sent one line per datagram (default 0.3)\n"
"  --incomplete P         share of raw records never finished (default 0.002)\n"
"  --noise P              share of unrelated frames (default 0.02)\n"
"  --men P                share of men outside the surge (default 0.5)\n"
"  --td1 P, --td2 P       document formats, the rest TD3 (default 0.08, 0.02)\n"
"  --window S             the deduplication window of the config (default 1800)\n"
"  --pps N                for live replay: capture timestamps N frames per second\n"
"                         apart, every scanner framed (event times in the frames)\n"
"  --files N              N captures, the scanners spread over them: one per RX\n"
"                         queue (CAPTURE-0.pcap ...; default 1)\n"
"  --checkpoints N        N checkpoints of three scanners each (1..32) instead of\n"
"                         the default scenario's four\n"
"  --raw P, --ipv6 P, --vlan P\n"
"                         shares of those scanners that are serial (raw text),\n"
"                         IPv6, behind VLAN tags (defaults 0.4, 0.2, 0.3)\n"
"  --nationalities SPEC   e.g. RUS:0.8,KAZ:0.15,D:0.05 (default: the scenario's)\n"
"  --version, --help\n");
}

static int
parse_share(const char *opt, const char *v, double *out)
{
	char *end;

	*out = strtod(v, &end);
	if (*end != '\0' || end == v || !(*out >= 0 && *out <= 1))
		return bad(opt, "expected a share between 0 and 1");
	return 0;
}

static int
parse_day(const char *opt, const char *v, int64_t *ms)
{
	struct tm tm = { 0 }, day;
	int n = 0;

	if (sscanf(v, "%4d-%2d-%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &n) != 3 ||
	    v[n] != '\0' || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 ||
	    tm.tm_mday > 31)
		return bad(opt, "expected YYYY-MM-DD");
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	day = tm;
	*ms = (int64_t)timegm(&tm) * 1000;
	/* timegm() takes 30 February as 2 March: a day that does not
	 * exist comes back as another. */
	if (tm.tm_mday != day.tm_mday || tm.tm_mon != day.tm_mon)
		return bad(opt, "no such day");
	if (*ms < 0)
		return bad(opt, "expected a day from 1970-01-01");
	return 0;
}

/* No scan comes later than the late re-scans, up to four windows after
 * the last day. */
static int64_t
last_scan_ms(const struct options *o)
{
	return o->start_ms + (int64_t)o->days * DAY_MS + 4 * (int64_t)o->window_s * 1000;
}

/*
 * Each file written has a name of its own: one named twice would be
 * written over, and the capture or its counts lost. given: whether
 * --expected and --config were given (else they are named after --out).
 */
static int
distinct_outputs(const struct options *o, bool expected_given, bool config_given)
{
	static char paths[FILES_MAX + 2][PATH_MAX + 64];
	const char *what[FILES_MAX + 2];
	unsigned int n = 0;

	for (unsigned int i = 0; i < o->files; i++) {
		char path[PATH_MAX];

		capture_path(o->out, i, o->files, path, sizeof(path));
		resolved_path(path, paths[n], sizeof(paths[n]));
		what[n++] = "a capture (--out)";
	}
	resolved_path(o->expected, paths[n], sizeof(paths[n]));
	what[n++] = expected_given ? "--expected" : "the counts (named after --out)";
	resolved_path(o->config, paths[n], sizeof(paths[n]));
	what[n++] = config_given ? "--config" : "the configuration (named after --out)";
	for (unsigned int i = 1; i < n; i++) {
		for (unsigned int j = 0; j < i; j++) {
			if (strcmp(paths[i], paths[j]) == 0) {
				fprintf(stderr, "crossings-gen: %s: both %s and %s\n",
					paths[i], what[j], what[i]);
				return EXIT_USAGE;
			}
		}
	}
	return 0;
}

static int
parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longs[] = {
		{ "out", 1, NULL, 'o' }, { "expected", 1, NULL, 'e' },
		{ "config", 1, NULL, 'c' }, { "seed", 1, NULL, 's' },
		{ "travellers", 1, NULL, 't' }, { "start", 1, NULL, 'S' },
		{ "days", 1, NULL, 'd' }, { "surge", 1, NULL, 'u' },
		{ "rescans", 1, NULL, 'r' }, { "late-rescans", 1, NULL, 'l' },
		{ "retransmissions", 1, NULL, 'R' }, { "invalid", 1, NULL, 'i' },
		{ "malformed", 1, NULL, 'm' }, { "split", 1, NULL, 'p' },
		{ "incomplete", 1, NULL, 'I' }, { "noise", 1, NULL, 'n' },
		{ "men", 1, NULL, 'M' }, { "td1", 1, NULL, '1' }, { "td2", 1, NULL, '2' },
		{ "window", 1, NULL, 'w' }, { "pps", 1, NULL, 'P' },
		{ "files", 1, NULL, 'f' }, { "checkpoints", 1, NULL, 'C' },
		{ "raw", 1, NULL, 'a' }, { "ipv6", 1, NULL, '6' }, { "vlan", 1, NULL, 'v' },
		{ "nationalities", 1, NULL, 'N' },
		{ "version", 0, NULL, 'V' },
		{ "help", 0, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	static char expected[4096], config[4096];
	bool expected_given, config_given;
	int opt, rc = 0;
	char *end;

	*o = (struct options){
		.seed = 1, .travellers = 20000, .days = 21, .rescans = 0.08,
		.late_rescans = 0.02, .retransmissions = 0.01, .invalid = 0.01,
		.malformed = 0.002, .split = 0.3, .incomplete = 0.002, .noise = 0.02,
		.men = 0.5, .td1 = 0.08, .td2 = 0.02, .window_s = 1800, .files = 1,
		.raw = -1, .ipv6 = -1, .vlan = -1,
	};
	parse_day("--start", "2022-09-15", &o->start_ms);
	parse_day("--surge", "2022-09-21", &o->surge_ms);
	opterr = 0;
	while (rc == 0 && (opt = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		switch (opt) {
		case 'o': o->out = optarg; break;
		case 'e': o->expected = optarg; break;
		case 'c': o->config = optarg; break;
		case 's':
			o->seed = strtoull(optarg, &end, 10);
			if (*end != '\0' || *optarg == '-')
				rc = bad("--seed", "expected a number");
			break;
		case 't':
			o->travellers = strtoull(optarg, &end, 10);
			if (*end != '\0' || *optarg == '-' || o->travellers > UINT32_MAX / 2)
				rc = bad("--travellers", "expected 0..2147483647");
			break;
		case 'S': rc = parse_day("--start", optarg, &o->start_ms); break;
		case 'u':
			if (strcmp(optarg, "none") == 0)
				o->surge_ms = INT64_MAX;
			else
				rc = parse_day("--surge", optarg, &o->surge_ms);
			break;
		case 'd':
			o->days = strtoul(optarg, &end, 10);
			if (*end != '\0' || o->days < 1 || o->days > 3650)
				rc = bad("--days", "expected 1..3650");
			break;
		case 'w':
			o->window_s = strtoul(optarg, &end, 10);
			if (*end != '\0' || o->window_s < 60 || o->window_s > 86400)
				rc = bad("--window", "expected 60..86400 seconds");
			break;
		case 'C':
			o->checkpoints = strtoul(optarg, &end, 10);
			if (*end != '\0' || o->checkpoints < 1 || o->checkpoints > CHECKPOINTS_MAX)
				rc = bad("--checkpoints", "expected 1..32");
			break;
		case 'a': rc = parse_share("--raw", optarg, &o->raw); break;
		case '6': rc = parse_share("--ipv6", optarg, &o->ipv6); break;
		case 'v': rc = parse_share("--vlan", optarg, &o->vlan); break;
		case 'N':
			o->nationalities = optarg;
			if (parse_nationalities(optarg) != 0)
				rc = bad("--nationalities", "expected CODE:SHARE,... with "
					 "ICAO codes, e.g. RUS:0.8,KAZ:0.2");
			break;
		case 'f':
			o->files = strtoul(optarg, &end, 10);
			if (*end != '\0' || o->files < 1 || o->files > FILES_MAX)
				rc = bad("--files", "expected 1..8");
			break;
		case 'P':
			o->pps = strtod(optarg, &end);
			if (*end != '\0' || !(o->pps > 0))
				rc = bad("--pps", "expected frames per second > 0");
			break;
		case 'r': rc = parse_share("--rescans", optarg, &o->rescans); break;
		case 'l': rc = parse_share("--late-rescans", optarg, &o->late_rescans); break;
		case 'R': rc = parse_share("--retransmissions", optarg, &o->retransmissions); break;
		case 'i': rc = parse_share("--invalid", optarg, &o->invalid); break;
		case 'm': rc = parse_share("--malformed", optarg, &o->malformed); break;
		case 'p': rc = parse_share("--split", optarg, &o->split); break;
		case 'I': rc = parse_share("--incomplete", optarg, &o->incomplete); break;
		case 'n': rc = parse_share("--noise", optarg, &o->noise); break;
		case 'M': rc = parse_share("--men", optarg, &o->men); break;
		case '1': rc = parse_share("--td1", optarg, &o->td1); break;
		case '2': rc = parse_share("--td2", optarg, &o->td2); break;
		case 'V': printf("crossings-gen %s\n", CROSSINGS_VERSION); exit(0);
		case 'h': usage(stdout); exit(0);
		default:
			rc = bad(argv[optind - 1], optopt ? "needs a value" : "unknown option");
		}
	}
	if (rc)
		return rc;
	if (optind < argc)
		return bad(argv[optind], "unexpected argument");
	if (o->out == NULL)
		return bad("--out", "needed: where to write the capture");
	if (o->td1 + o->td2 > 1)
		return bad("--td1", "--td1 and --td2 add up to more than 1");
	/*
	 * Without --pps a frame's capture time is its event time, and pcap
	 * files hold it in 32 bits that libpcap (and so the pcap vdev and
	 * tcpreplay) reads as signed: times from 2038-01-19 03:14:08 read
	 * back as 1901. With --pps the frames carry their event times,
	 * which the pipeline takes up to the end of 9999.
	 */
	if (o->pps <= 0 && last_scan_ms(o) >= CAPTURE_TIME_END_MS)
		return bad("--start", "the scenario must end before 2038-01-19 "
			   "03:14:08 UTC, which a capture's time cannot say (or give "
			   "--pps: its frames carry their times)");
	if (last_scan_ms(o) >= FRAME_TIME_END_MS)
		return bad("--start", "the scenario must end in 9999");
	expected_given = o->expected != NULL;
	config_given = o->config != NULL;
	if (o->expected == NULL) {
		snprintf(expected, sizeof(expected), "%.*s.expected.json",
			 base_len(o->out), o->out);
		o->expected = expected;
	}
	if (o->config == NULL) {
		snprintf(config, sizeof(config), "%.*s.ini", base_len(o->out), o->out);
		o->config = config;
	}
	return distinct_outputs(o, expected_given, config_given);
}

int
main(int argc, char **argv)
{
	static struct generator g;
	double total_weight = 0, per_weight, carry[SCANNERS_MAX] = { 0 };
	uint64_t frames = 0;
	int64_t end_ms;
	pcap_t *dead;
	FILE *expected_file, *config_file;
	char failed[PATH_MAX];
	int rc;

	rc = parse_options(argc, argv, &g.o);
	if (rc)
		return rc;
	rng_state = g.o.seed;
	agg_bands_parse(AGG_BANDS_DEFAULT, &g.bands);
	if (g.o.nationalities == NULL) {
		nationality_count = sizeof(default_nationalities) /
			sizeof(default_nationalities[0]);
		memcpy(nationalities, default_nationalities, sizeof(default_nationalities));
	}
	make_scanners(&g.o);
	/* Finland restricted entries from 30 September 2022. */
	for (unsigned int c = 2; c < 4 && c < checkpoint_count; c++)
		parse_day("", "2022-09-30", &checkpoints[c].closed_from_ms);
	if (g.o.pps > 0)
		for (unsigned int i = 0; i < scanner_count; i++)
			scanners[i].raw = false;
	/* Every file is opened before the work, so that a path that cannot
	 * be written is known at once, not after a long capture. */
	expected_file = fopen(g.o.expected, "w");
	config_file = expected_file ? fopen(g.o.config, "w") : NULL;
	if (config_file == NULL) {
		fprintf(stderr, "crossings-gen: %s: %s\n",
			expected_file ? g.o.config : g.o.expected, strerror(errno));
		if (expected_file)
			fclose(expected_file);
		return EXIT_USAGE;
	}
	g.expected = agg_table_create();
	dead = pcap_open_dead(DLT_EN10MB, 65535);
	for (unsigned int i = 0; i < g.o.files; i++) {
		char path[PATH_MAX];

		capture_path(g.o.out, i, g.o.files, path, sizeof(path));
		g.w[i].pps = g.o.pps / g.o.files;
		g.w[i].live_start_us = (int64_t)time(NULL) * 1000000;
		g.w[i].dump = dead ? pcap_dump_open(dead, path) : NULL;
		if (g.expected == NULL || g.w[i].dump == NULL) {
			/* pcap's message names the file. */
			fprintf(stderr, "crossings-gen: %s\n",
				dead ? pcap_geterr(dead) : "out of memory");
			while (i-- > 0)
				pcap_dump_close(g.w[i].dump);
			if (dead)
				pcap_close(dead);
			agg_table_free(g.expected);
			fclose(expected_file);
			fclose(config_file);
			return EXIT_USAGE;
		}
	}

	end_ms = g.o.start_ms + (int64_t)g.o.days * DAY_MS;
	for (int64_t h = g.o.start_ms; h < end_ms; h += HOUR_MS)
		for (unsigned int si = 0; si < scanner_count; si++) {
			unsigned int same = 0;

			for (unsigned int j = 0; j < scanner_count; j++)
				same += scanners[j].checkpoint == scanners[si].checkpoint &&
					scanners[j].direction == scanners[si].direction;
			total_weight += weight(&g, h, scanners[si].checkpoint,
					       scanners[si].direction) / same;
		}
	per_weight = total_weight > 0 ? g.o.travellers / total_weight : 0;
	for (int64_t h = g.o.start_ms; (h < end_ms || heap_len > 0) && !capture_failed(&g);
	     h += HOUR_MS) {
		if (h < end_ms)
			generate_hour(&g, h, per_weight, carry);
		/* Everything due before the next hour leaves, in time order. */
		while (heap_len > 0 && heap[0].time_ms < h + HOUR_MS) {
			struct scan s = heap_pop();

			emit_scan(&g, &s);
		}
	}
	for (unsigned int i = 0; i < g.o.files; i++) {
		/* The last frames fail, if they do, in the flush. */
		errno = 0;
		keep_write_error(&g.w[i], pcap_dump_flush(g.w[i].dump) != 0 ||
				 ferror(pcap_dump_file(g.w[i].dump)));
		if (rc == 0 && g.w[i].error != 0) {
			capture_path(g.o.out, i, g.o.files, failed, sizeof(failed));
			rc = -g.w[i].error;
		}
		frames += g.w[i].frames;
		pcap_dump_close(g.w[i].dump);
	}
	pcap_close(dead);
	/* The writers close their files. */
	if (rc != 0) {
		fclose(expected_file);
		fclose(config_file);
	} else if ((rc = write_expected(&g, expected_file)) != 0) {
		snprintf(failed, sizeof(failed), "%s", g.o.expected);
		fclose(config_file);
	} else if ((rc = write_config(&g, config_file)) != 0) {
		snprintf(failed, sizeof(failed), "%s", g.o.config);
	}
	if (rc) {
		fprintf(stderr, "crossings-gen: %s: %s\n", failed, strerror(-rc));
		return EXIT_USAGE;
	}
	fprintf(stderr, "crossings-gen: %s: %" PRIu64 " frames; %" PRIu64 " crossings, %"
		PRIu64 " re-scans, %" PRIu64 " invalid, %" PRIu64 " incomplete, %" PRIu64
		" malformed, %" PRIu64 " retransmitted, %" PRIu64 " split, %" PRIu64
		" unrelated; counts in %s, configuration in %s\n", g.o.out, frames,
		g.scans[SCAN_CROSSING], g.scans[SCAN_RESCAN], g.scans[SCAN_INVALID],
		g.scans[SCAN_INCOMPLETE], g.scans[SCAN_MALFORMED], g.retransmitted, g.split,
		g.scans[SCAN_NOISE], g.o.expected, g.o.config);
	agg_table_free(g.expected);
	free(heap);
	return 0;
}
