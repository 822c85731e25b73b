/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * crossings-query: reads the counter hashes of docs/redis.md, sums them
 * over checkpoints, directions and time, and prints them grouped, as a
 * table with a bar per row, CSV or JSON. "watch" follows the updates of
 * each flush; "status" shows each node.
 */

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "endpoint.h"

#define EXIT_USAGE 2
#define PASSWORD_VARIABLE "CROSSINGS_REDIS_PASSWORD"
#define NAME_MAX_ 64
/* More than any count of crossings can be (a hundred thousand times
 * the world's people): only text something else wrote. Under it, sums
 * of thousands of counters stay far inside a long long. */
#define COUNT_MAX 1000000000000000LL

enum by { BY_NONE, BY_NAT, BY_SEX, BY_AGE, BY_DOC, BY_CHECKPOINT,
	  BY_DIRECTION, BY_HOUR, BY_DAY };
static const char *const by_names[] = { "total", "nat", "sex", "age", "doc",
	"checkpoint", "direction", "hour", "day" };

struct query {
	const char *redis;
	const char *user, *password;
	const char *checkpoint;		/* NULL: every checkpoint */
	const char *direction;		/* NULL: entry, exit and unknown */
	int64_t from_hour, to_hour;	/* hours since 1970, -1: all time */
	enum by by;
	const char *nat, *sex, *age;	/* filters */
	long top;
	enum { FORMAT_TABLE, FORMAT_CSV, FORMAT_JSON } format;
	long count;			/* watch: stop after this many */
};

struct row {
	char label[NAME_MAX_ + 16];
	long long value;
	long long order;		/* hour, day or band, to sort by */
};

/* As many as the query has labels: a year by hour is 8,760. */
static struct row *rows;
static unsigned int row_count, row_cap;

static int
usage_error(const char *what, const char *detail)
{
	fprintf(stderr, "crossings-query: %s%s%s\n", what, detail ? ": " : "",
		detail ? detail : "");
	return EXIT_USAGE;
}

static void
usage(FILE *out)
{
	fprintf(out,
"usage: crossings-query [--redis HOST:PORT | [IPV6]:PORT | unix:PATH] [--user U] [--password P]\n"
"                       [--checkpoint CP] [--direction entry|exit|unknown]\n"
"                       [--from YYYY-MM-DD[THH]] [--to YYYY-MM-DD[THH]]\n"
"                       [--by nat|sex|age|doc|checkpoint|direction|hour|day]\n"
"                       [--nat CODE] [--sex M|F|X] [--age BAND] [--top N]\n"
"                       [--format table|csv|json]\n"
"       crossings-query watch [--count N]   live view of crossings:updates\n"
"       crossings-query status              each node's last flush and counters\n"
"       crossings-query --version | --help\n"
"The password may come from $" PASSWORD_VARIABLE " instead of --password,\n"
"which other users can read in the process list.\n");
}

/* "2022-09-27T14" (or "2022-09-27": its first or last hour). */
static int
parse_hour(const char *s, bool end, int64_t *hour)
{
	struct tm tm = { 0 };
	int y, m, d, h = end ? 23 : 0, n = 0;

	if (sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10)
		return -EINVAL;
	if (s[10] != '\0') {
		if (s[10] != 'T' || sscanf(s + 11, "%2d%n", &h, &n) != 1 ||
		    n != 2 || s[13] != '\0')
			return -EINVAL;
	}
	if (m < 1 || m > 12 || d < 1 || d > 31 || h < 0 || h > 23)
		return -EINVAL;
	/* Counters hold hours since 1970 only; an earlier hour would read
	 * as negative, which stands for all time. */
	if (y < 1970)
		return -ERANGE;
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	*hour = (int64_t)timegm(&tm) / 3600;
	/* timegm normalises 2022-02-30 into March: refuse it. */
	gmtime_r(&(time_t){ *hour * 3600 }, &tm);
	return tm.tm_mday == d ? 0 : -EINVAL;
}

static const char *
hour_error(int rc)
{
	return rc == -ERANGE ? "before 1970, older than any counter" :
		"expected YYYY-MM-DD or YYYY-MM-DDTHH";
}

/* Hours and days as counter keys name them, and as rows are labelled:
 * as --from and --to take them. */
#define KEY_HOUR "%Y%m%d%H"
#define KEY_DAY "%Y%m%d"
#define LABEL_HOUR "%Y-%m-%dT%H"
#define LABEL_DAY "%Y-%m-%d"

static void
format_hour(int64_t hour, char *out, size_t len, const char *format)
{
	time_t t = hour * 3600;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, len, format, &tm);
}

/* Whether a reply came and is no error; if not, says why (after what)
 * and frees the reply and the connection. */
static bool
replied(redisContext *c, redisReply *r, const struct query *q, const char *what)
{
	if (r != NULL && r->type != REDIS_REPLY_ERROR)
		return true;
	fprintf(stderr, "crossings-query: redis %s: %s%s\n", q->redis, what,
		r ? r->str : c->errstr);
	if (r)
		freeReplyObject(r);
	redisFree(c);
	return false;
}

static redisContext *
connect_redis(const struct query *q)
{
	struct timeval tv = { 2, 0 };
	struct endpoint e;
	redisContext *c;
	int rc = endpoint_parse(&e, q->redis);

	if (rc != 0) {
		usage_error("--redis", rc == -ERANGE ? "expected a port 1..65535" :
			    "expected HOST:PORT, [IPV6]:PORT or unix:PATH");
		return NULL;
	}
	if (e.unix_path[0] != '\0')
		c = redisConnectUnixWithTimeout(e.unix_path, tv);
	else
		c = redisConnectWithTimeout(e.host, e.port, tv);
	if (c == NULL || c->err) {
		fprintf(stderr, "crossings-query: redis %s: %s\n", q->redis,
			c ? c->errstr : "out of memory");
		if (c)
			redisFree(c);
		return NULL;
	}
	redisSetTimeout(c, tv);
	if (q->password) {
		redisReply *r = q->user ?
			redisCommand(c, "AUTH %s %s", q->user, q->password) :
			redisCommand(c, "AUTH %s", q->password);

		if (!replied(c, r, q, "authentication refused: "))
			return NULL;
		freeReplyObject(r);
	}
	return c;
}

/* A reply that is an error or missing ends the program, clearly. */
static redisReply *
checked(redisContext *c, redisReply *r, const struct query *q)
{
	if (r == NULL || r->type == REDIS_REPLY_ERROR) {
		fprintf(stderr, "crossings-query: redis %s: %s\n", q->redis,
			r ? r->str : c->errstr);
		if (r)
			freeReplyObject(r);
		redisFree(c);
		exit(EXIT_USAGE);
	}
	return r;
}

/* Memory the query cannot do without: none ends the program, clearly. */
static void *
allocated(void *p)
{
	if (p == NULL) {
		fprintf(stderr, "crossings-query: out of memory\n");
		exit(EXIT_USAGE);
	}
	return p;
}

/* Room for one more element in a growing array of *cap. */
static void *
room_for_one(void *v, unsigned int count, unsigned int *cap, size_t size)
{
	if (count < *cap)
		return v;
	*cap = *cap ? 2 * *cap : 64;
	return allocated(realloc(v, (size_t)*cap * size));
}

/* The count s begins with, a decimal in 0..COUNT_MAX, or -1; *end is
 * set after its digits. */
static long long
leading_count(const char *s, char **end)
{
	long long n;

	errno = 0;
	n = strtoll(s, end, 10);
	return errno == 0 && *end != s && n >= 0 && n <= COUNT_MAX ? n : -1;
}

/* A counter's value: Redis holds it as text, which anything may have
 * written; one that is no count ends the program rather than counting
 * as 0. */
static long long
count_of(const char *key, const char *field, const char *value)
{
	char *end;
	long long n = leading_count(value, &end);

	if (n < 0 || *end != '\0') {
		fprintf(stderr, "crossings-query: %s %s: \"%.40s\" is not a count\n",
			key, field, value);
		exit(EXIT_USAGE);
	}
	return n;
}

/* a + b, for sums of counts; one beyond a long long ends the program
 * rather than wrapping round. */
static long long
sum_of(long long a, long long b)
{
	long long sum;

	if (__builtin_add_overflow(a, b, &sum)) {
		fprintf(stderr, "crossings-query: a sum of counters beyond %lld\n",
			LLONG_MAX);
		exit(EXIT_USAGE);
	}
	return sum;
}

/* Bars: a row's share of the largest, in 40 blocks, rounded up; in
 * 128 bits, since 40 times a sum may not fit in 64. */
static int
bar_width(long long value, long long max)
{
	if (max <= 0 || value <= 0)
		return 0;
	return (int)(((__int128)value * 40 + max - 1) / max);
}

static void
add_row(const char *label, long long value, long long order)
{
	for (unsigned int i = 0; i < row_count; i++) {
		if (strcmp(rows[i].label, label) == 0) {
			rows[i].value = sum_of(rows[i].value, value);
			return;
		}
	}
	rows = room_for_one(rows, row_count, &row_cap, sizeof(*rows));
	snprintf(rows[row_count].label, sizeof(rows[0].label), "%s", label);
	rows[row_count].value = value;
	rows[row_count++].order = order;
}

/*
 * Which part of a field counts, and under which label. With a filter
 * on nationality, sex or age the cross-tab fields x:NAT:SEX:BAND are
 * summed; otherwise the family of the grouping, or total.
 */
static bool
select_field(const struct query *q, const char *field, const char *context,
	     char *label, size_t len)
{
	bool filtered = q->nat || q->sex || q->age;

	if (filtered) {
		char nat[8], sex[4], age[16];

		if (strncmp(field, "x:", 2) != 0 ||
		    sscanf(field + 2, "%7[^:]:%3[^:]:%15s", nat, sex, age) != 3)
			return false;
		if ((q->nat && strcmp(q->nat, nat)) || (q->sex && strcmp(q->sex, sex)) ||
		    (q->age && strcmp(q->age, age)))
			return false;
		snprintf(label, len, "%s", q->by == BY_NAT ? nat : q->by == BY_SEX ? sex :
			 q->by == BY_AGE ? age : context);
		return true;
	}
	if (q->by >= BY_NAT && q->by <= BY_DOC) {
		const char *prefix = by_names[q->by];
		size_t n = strlen(prefix);

		if (strncmp(field, prefix, n) != 0 || field[n] != ':')
			return false;
		snprintf(label, len, "%s", field + n + 1);
		return true;
	}
	if (strcmp(field, "total") != 0)
		return false;
	snprintf(label, len, "%s", context);
	return true;
}

/* One key to read and what it stands for. */
struct unit {
	char suffix[32];		/* "all", "d:20220927", "h:2022092714" */
	int64_t hour;			/* first hour it covers */
	bool day;
};

static unsigned int
time_units(const struct query *q, struct unit **out)
{
	struct unit *u;
	unsigned int n = 0;
	char buf[16];

	if (q->from_hour < 0) {
		u = allocated(calloc(1, sizeof(*u)));
		strcpy(u->suffix, "all");
		*out = u;
		return 1;
	}
	u = allocated(calloc(q->to_hour - q->from_hour + 1, sizeof(*u)));
	for (int64_t h = q->from_hour; h <= q->to_hour;) {
		/* A whole day inside the range: its day key. */
		if (h % 24 == 0 && h + 23 <= q->to_hour && q->by != BY_HOUR) {
			format_hour(h, buf, sizeof(buf), KEY_DAY);
			snprintf(u[n].suffix, sizeof(u[n].suffix), "d:%s", buf);
			u[n].day = true;
			u[n++].hour = h;
			h += 24;
		} else {
			format_hour(h, buf, sizeof(buf), KEY_HOUR);
			snprintf(u[n].suffix, sizeof(u[n].suffix), "h:%s", buf);
			u[n++].hour = h;
			h++;
		}
	}
	*out = u;
	return n;
}

/*
 * Age bands read youngest first, as an age pyramid does: by their lower
 * bound ("18-27", "65+"), unknown last.
 */
static long long
band_order(const char *band)
{
	return isdigit((unsigned char)band[0]) ? strtoll(band, NULL, 10) : LLONG_MAX;
}

/* Hours, days and age bands have an order of their own; other rows are
 * sorted by count. */
static bool
ordered(const struct query *q)
{
	return q->by == BY_HOUR || q->by == BY_DAY || q->by == BY_AGE;
}

static int
by_value(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	/* Ties by label, so the same contents always print the same. */
	if (x->value != y->value)
		return (x->value < y->value) - (x->value > y->value);
	return strcmp(x->label, y->label);
}

static int
by_order(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (x->order != y->order)
		return (x->order > y->order) - (x->order < y->order);
	return strcmp(x->label, y->label);
}

static void
print_rows(const struct query *q)
{
	const char *what = by_names[q->by];
	long long total = 0, max = 0;
	unsigned int shown = row_count;

	/* No row, no array: qsort() takes no NULL, even for none. */
	if (row_count > 1 && ordered(q))
		qsort(rows, row_count, sizeof(rows[0]), by_order);
	else if (row_count > 1)
		qsort(rows, row_count, sizeof(rows[0]), by_value);
	for (unsigned int i = 0; i < row_count; i++) {
		total = sum_of(total, rows[i].value);
		if (rows[i].value > max)
			max = rows[i].value;
	}
	if (q->top > 0 && (unsigned long)q->top < shown) {
		if (ordered(q)) {
			/* The top N periods or bands, still in order. */
			qsort(rows, row_count, sizeof(rows[0]), by_value);
			qsort(rows, q->top, sizeof(rows[0]), by_order);
		}
		shown = q->top;
	}
	if (q->format == FORMAT_CSV) {
		printf("%s,crossings\n", what);
		for (unsigned int i = 0; i < shown; i++)
			printf("%s,%lld\n", rows[i].label, rows[i].value);
		return;
	}
	if (q->format == FORMAT_JSON) {
		printf("{\"by\":\"%s\",\"rows\":[", what);
		for (unsigned int i = 0; i < shown; i++)
			printf("%s{\"%s\":\"%s\",\"crossings\":%lld}", i ? "," : "", what,
			       rows[i].label, rows[i].value);
		printf("],\"total\":%lld}\n", total);
		return;
	}
	if (q->by == BY_NONE) {
		printf("crossings %lld\n", total);
		return;
	}
	printf("%-16s %12s\n", what, "crossings");
	for (unsigned int i = 0; i < shown; i++) {
		int width = bar_width(rows[i].value, max);

		printf("%-16s %12lld  ", rows[i].label, rows[i].value);
		for (int b = 0; b < width; b++)
			fputs("\u2588", stdout);
		putchar('\n');
	}
	printf("%-16s %12lld\n", "total", total);
}

static int
by_string(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Whether crossings:checkpoints (the reply cps) lists a checkpoint. One
 * it does not list was never written: a misspelt name or the wrong
 * Redis, which a sum of 0 would hide. Says so, with the names it lists.
 */
static bool
checkpoint_listed(redisReply *cps, const char *checkpoint)
{
	enum { SHOWN = 8 };
	const char **names;

	for (size_t i = 0; i < cps->elements; i++)
		if (strcmp(cps->element[i]->str, checkpoint) == 0)
			return true;
	if (cps->elements == 0) {
		fprintf(stderr, "crossings-query: --checkpoint \"%s\": not in "
			"crossings:checkpoints, which is empty (nothing counted yet)\n",
			checkpoint);
		return false;
	}
	names = allocated(calloc(cps->elements, sizeof(*names)));
	for (size_t i = 0; i < cps->elements; i++)
		names[i] = cps->element[i]->str;
	qsort(names, cps->elements, sizeof(*names), by_string);
	fprintf(stderr, "crossings-query: --checkpoint \"%s\": not in "
		"crossings:checkpoints (", checkpoint);
	for (size_t i = 0; i < cps->elements && i < SHOWN; i++)
		fprintf(stderr, "%s%s", i ? ", " : "", names[i]);
	fprintf(stderr, "%s)\n", cps->elements > SHOWN ? ", ..." : "");
	free(names);
	return false;
}

static int
run_query(const struct query *q)
{
	static const char *const all_dirs[] = { "entry", "exit", "unknown" };
	redisContext *c = connect_redis(q);
	redisReply *cps, *r;
	struct unit *units;
	unsigned int nunits, ncp, ndir = q->direction ? 1 : 3;
	const char *const *dirs = q->direction ? &q->direction : all_dirs;

	if (c == NULL)
		return EXIT_USAGE;
	cps = checked(c, redisCommand(c, "SMEMBERS crossings:checkpoints"), q);
	if (q->checkpoint) {
		if (!checkpoint_listed(cps, q->checkpoint)) {
			freeReplyObject(cps);
			redisFree(c);
			return EXIT_USAGE;
		}
		freeReplyObject(cps);
		cps = NULL;
		ncp = 1;
	} else {
		ncp = cps->elements;
	}
	nunits = time_units(q, &units);
	/* Every key in one pipeline. */
	for (unsigned int i = 0; i < ncp; i++) {
		const char *cp = cps ? cps->element[i]->str : q->checkpoint;

		for (unsigned int d = 0; d < ndir; d++)
			for (unsigned int u = 0; u < nunits; u++)
				redisAppendCommand(c, "HGETALL crossings:%s:%s:%s", cp,
						   dirs[d], units[u].suffix);
	}
	for (unsigned int i = 0; i < ncp; i++) {
		const char *cp = cps ? cps->element[i]->str : q->checkpoint;

		for (unsigned int d = 0; d < ndir; d++) {
			for (unsigned int u = 0; u < nunits; u++) {
				char context[NAME_MAX_ + 16], label[NAME_MAX_ + 16];
				char key[NAME_MAX_ + 64];
				long long order = 0;

				if (redisGetReply(c, (void **)&r) != REDIS_OK)
					r = NULL;
				checked(c, r, q);
				switch (q->by) {
				case BY_CHECKPOINT:
					snprintf(context, sizeof(context), "%s", cp);
					break;
				case BY_DIRECTION:
					snprintf(context, sizeof(context), "%s", dirs[d]);
					break;
				case BY_HOUR:
					format_hour(units[u].hour, context, sizeof(context),
						    LABEL_HOUR);
					order = units[u].hour;
					break;
				case BY_DAY:
					format_hour(units[u].hour, context, sizeof(context),
						    LABEL_DAY);
					order = units[u].hour / 24;
					break;
				default:
					snprintf(context, sizeof(context), "total");
				}
				snprintf(key, sizeof(key), "crossings:%s:%s:%s", cp, dirs[d],
					 units[u].suffix);
				for (size_t e = 0; e + 1 < r->elements; e += 2)
					if (select_field(q, r->element[e]->str, context, label,
							 sizeof(label)))
						add_row(label, count_of(key, r->element[e]->str,
									r->element[e + 1]->str),
							q->by == BY_AGE ? band_order(label) :
							order);
				freeReplyObject(r);
			}
		}
	}
	print_rows(q);
	free(units);
	if (cps)
		freeReplyObject(cps);
	redisFree(c);
	return 0;
}

static void
print_node(redisContext *c, const struct query *q, const char *key,
	   const struct timeval *now)
{
	redisReply *h = checked(c, redisCommand(c, "HGETALL %s", key), q);
	long long last = 0;

	printf("node %s\n", key + strlen("crossings:node:"));
	for (size_t e = 0; e + 1 < h->elements; e += 2)
		if (strcmp(h->element[e]->str, "last_flush_ms") == 0)
			last = atoll(h->element[e + 1]->str);
	if (last)
		printf("  %-28s %.1f s ago\n", "last flush",
		       ((long long)now->tv_sec * 1000 + now->tv_usec / 1000 - last) / 1e3);
	for (size_t e = 0; e + 1 < h->elements; e += 2)
		printf("  %-28s %s\n", h->element[e]->str, h->element[e + 1]->str);
	freeReplyObject(h);
}

/* Each node's status hash, found with SCAN: KEYS would hold a Redis of
 * many counter keys for as long as it walks them all. */
static int
run_status(const struct query *q)
{
	redisContext *c = connect_redis(q);
	char cursor[32] = "0", **names = NULL;
	size_t count = 0;
	struct timeval now;

	if (c == NULL)
		return EXIT_USAGE;
	gettimeofday(&now, NULL);
	do {
		redisReply *r = checked(c, redisCommand(c, "SCAN %s MATCH crossings:node:* "
							"COUNT 1000", cursor), q);
		redisReply *keys = r->element[1];

		snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
		names = allocated(realloc(names, (count + keys->elements + 1) *
					  sizeof(*names)));
		/* SCAN may return a key twice. */
		for (size_t i = 0; i < keys->elements; i++) {
			bool seen = false;

			for (size_t j = 0; j < count && !seen; j++)
				seen = strcmp(names[j], keys->element[i]->str) == 0;
			if (!seen)
				names[count++] = allocated(strdup(keys->element[i]->str));
		}
		freeReplyObject(r);
	} while (strcmp(cursor, "0") != 0);
	if (count == 0)
		printf("no node has flushed yet\n");
	qsort(names, count, sizeof(*names), by_string);
	for (size_t i = 0; i < count; i++) {
		print_node(c, q, names[i], &now);
		free(names[i]);
	}
	free(names);
	redisFree(c);
	return 0;
}

/* Totals per "{cp}:{dir}" since watching began, from update messages. */
struct flow {
	char name[NAME_MAX_ + 16];
	long long total;
	long long last;			/* in the latest message */
};

struct flows {
	struct flow *v;
	unsigned int n, cap;
};

/* The flow of a name, added when new. */
static struct flow *
flow_of(struct flows *f, const char *name)
{
	unsigned int i;

	for (i = 0; i < f->n && strcmp(f->v[i].name, name); i++)
		;
	if (i < f->n)
		return &f->v[i];
	f->v = room_for_one(f->v, f->n, &f->cap, sizeof(*f->v));
	snprintf(f->v[f->n].name, sizeof(f->v[0].name), "%s", name);
	f->v[f->n].total = f->v[f->n].last = 0;
	return &f->v[f->n++];
}

/* A count in an update: a decimal up to COUNT_MAX, else 0. Updates are
 * the pipeline's, but anyone who may publish on Redis can send one. */
static long long
update_count(const char *s)
{
	char *end;
	long long n = leading_count(s, &end);

	return n < 0 ? 0 : n;
}

/* Watch runs on through anything it is sent: a sum stops at the top. */
static long long
saturated_sum(long long a, long long b)
{
	long long sum;

	return __builtin_add_overflow(a, b, &sum) ? LLONG_MAX : sum;
}

static void
watch_message(const char *msg, struct flows *flows, char *header,
	      size_t header_len)
{
	const char *p = strstr(msg, "\"buckets\":{");
	char node[NAME_MAX_] = "?";
	long long seq = 0;
	const char *n = strstr(msg, "\"node\":\"");

	if (n)
		sscanf(n + 8, "%63[^\"]", node);
	if ((n = strstr(msg, "\"seq\":")))
		seq = strtoll(n + 6, NULL, 10);
	snprintf(header, header_len, "node %s flush %lld", node, seq);
	for (unsigned int i = 0; i < flows->n; i++)
		flows->v[i].last = 0;
	if (p == NULL)
		return;
	p += 11;
	/* "cp:dir:hour":{"total":n,...} */
	while (*p == '"') {
		char bucket[NAME_MAX_ + 32], name[NAME_MAX_ + 16];
		const char *end = strchr(p + 1, '"'), *close, *t;
		long long total = 0;
		struct flow *flow;
		size_t len;

		if (end == NULL || (size_t)(end - p - 1) >= sizeof(bucket))
			return;
		memcpy(bucket, p + 1, end - p - 1);
		bucket[end - p - 1] = '\0';
		close = strchr(end, '}');
		if (close == NULL)
			return;
		t = strstr(end, "\"total\":");
		if (t && t < close)
			total = update_count(t + 8);
		/* Drop the hour: flows are per checkpoint and direction. */
		len = strrchr(bucket, ':') ? (size_t)(strrchr(bucket, ':') - bucket) : strlen(bucket);
		snprintf(name, sizeof(name), "%.*s", (int)len, bucket);
		flow = flow_of(flows, name);
		flow->total = saturated_sum(flow->total, total);
		flow->last = saturated_sum(flow->last, total);
		p = close + 1;
		if (*p == ',')
			p++;
	}
}

/* A connection subscribed to the updates, or NULL (said why). */
static redisContext *
subscribe_updates(const struct query *q)
{
	redisContext *c = connect_redis(q);
	redisReply *r;

	if (c == NULL)
		return NULL;
	/* Updates come when nodes flush: no read timeout. */
	redisSetTimeout(c, (struct timeval){ 0, 0 });
	r = redisCommand(c, "SUBSCRIBE crossings:updates");
	if (!replied(c, r, q, ""))
		return NULL;
	freeReplyObject(r);
	return c;
}

/*
 * Redis went away while watching (a restart, a failover): subscribe
 * again, backing off from 100 ms to 5 s, as the nodes do. Updates
 * published meanwhile are not seen, and the totals leave them out.
 */
static redisContext *
resubscribe(const struct query *q, redisContext *lost)
{
	redisContext *c;

	fprintf(stderr, "crossings-query: redis %s: %s; subscribing again "
		"(updates meanwhile are missed)\n", q->redis, lost->errstr);
	redisFree(lost);
	for (unsigned int ms = 100; (c = subscribe_updates(q)) == NULL;
	     ms = ms * 2 > 5000 ? 5000 : ms * 2)
		usleep(ms * 1000);
	fprintf(stderr, "watching crossings:updates again\n");
	return c;
}

/*
 * Whether standard output took all that was printed: a full disk or a
 * closed terminal would otherwise lose the answer without a word. A
 * reader that went away (watch piped into head) ends the output, no
 * error of ours.
 */
static bool
output_ok(int *rc)
{
	if (fflush(stdout) == 0 && !ferror(stdout))
		return true;
	if (errno != EPIPE) {
		fprintf(stderr, "crossings-query: standard output: %s\n", strerror(errno));
		*rc = EXIT_USAGE;
	}
	return false;
}

static int
run_watch(const struct query *q)
{
	struct flows flows = { NULL, 0, 0 };
	redisContext *c = subscribe_updates(q);
	redisReply *r;
	bool tty = isatty(STDOUT_FILENO);
	long seen = 0;
	char header[128];
	int rc = 0;

	if (c == NULL)
		return EXIT_USAGE;
	fprintf(stderr, "watching crossings:updates (Ctrl-C to stop)\n");
	while (q->count == 0 || seen < q->count) {
		long long max = 1;

		if (redisGetReply(c, (void **)&r) != REDIS_OK) {
			c = resubscribe(q, c);
			continue;
		}
		if (r->type == REDIS_REPLY_ARRAY && r->elements == 3 &&
		    strcmp(r->element[0]->str, "message") == 0) {
			watch_message(r->element[2]->str, &flows, header, sizeof(header));
			seen++;
			for (unsigned int i = 0; i < flows.n; i++)
				if (flows.v[i].total > max)
					max = flows.v[i].total;
			if (tty)
				fputs("\033[H\033[2J", stdout);
			printf("%s\n%-32s %10s %8s\n", header, "checkpoint:direction",
			       "crossings", "last");
			for (unsigned int i = 0; i < flows.n; i++) {
				const struct flow *f = &flows.v[i];

				printf("%-32s %10lld %+8lld  ", f->name, f->total, f->last);
				for (int b = 0; b < bar_width(f->total, max); b++)
					fputs("\u2588", stdout);
				putchar('\n');
			}
			if (!output_ok(&rc)) {
				freeReplyObject(r);
				break;
			}
		}
		freeReplyObject(r);
	}
	free(flows.v);
	redisFree(c);
	return rc;
}

/* A nationality as the counters name it, fillers removed: one to
 * three capital letters (RUS, D, UTO). */
static bool
nat_ok(const char *v)
{
	size_t n = strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZ");

	return n >= 1 && n <= 3 && v[n] == '\0';
}

/* An age band as configurations write them (18-27, or 65+ for the
 * last), or unknown. Which bands exist is each node's configuration. */
static bool
age_ok(const char *v)
{
	size_t n = strspn(v, "0123456789");

	if (strcmp(v, "unknown") == 0)
		return true;
	if (n == 0)
		return false;
	if (strcmp(v + n, "+") == 0)
		return true;
	if (v[n] != '-')
		return false;
	v += n + 1;
	n = strspn(v, "0123456789");
	return n > 0 && v[n] == '\0';
}

static int
parse_by(const char *v, enum by *by)
{
	for (unsigned int i = BY_NAT; i <= BY_DAY; i++) {
		if (strcmp(v, by_names[i]) == 0) {
			*by = i;
			return 0;
		}
	}
	return -EINVAL;
}

int
main(int argc, char **argv)
{
	enum { REDIS = 256, USER, PASSWORD, CHECKPOINT, DIRECTION, FROM, TO, BY,
	       NAT, SEX, AGE, TOP, FORMAT, COUNT, VERSION, HELP };
#define OPTION_BIT(opt) (1u << ((opt) - REDIS))
	static const struct option longs[] = {
		{ "redis", required_argument, NULL, REDIS },
		{ "user", required_argument, NULL, USER },
		{ "password", required_argument, NULL, PASSWORD },
		{ "checkpoint", required_argument, NULL, CHECKPOINT },
		{ "direction", required_argument, NULL, DIRECTION },
		{ "from", required_argument, NULL, FROM },
		{ "to", required_argument, NULL, TO },
		{ "by", required_argument, NULL, BY },
		{ "nat", required_argument, NULL, NAT },
		{ "sex", required_argument, NULL, SEX },
		{ "age", required_argument, NULL, AGE },
		{ "top", required_argument, NULL, TOP },
		{ "format", required_argument, NULL, FORMAT },
		{ "count", required_argument, NULL, COUNT },
		{ "version", no_argument, NULL, VERSION },
		{ "help", no_argument, NULL, HELP },
		{ NULL, 0, NULL, 0 },
	};
	struct query q = { .redis = "127.0.0.1:6379", .from_hour = -1, .to_hour = -1 };
	const char *from = NULL, *to = NULL, *mode = NULL;
	unsigned int given = 0, taken;	/* OPTION_BITs */
	char *end;
	int opt, rc;

	signal(SIGPIPE, SIG_IGN);
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		if (opt >= REDIS && opt < VERSION)
			given |= OPTION_BIT(opt);
		switch (opt) {
		case REDIS: q.redis = optarg; break;
		case USER: q.user = optarg; break;
		case PASSWORD: q.password = optarg; break;
		case CHECKPOINT: q.checkpoint = optarg; break;
		case DIRECTION:
			if (strcmp(optarg, "entry") && strcmp(optarg, "exit") &&
			    strcmp(optarg, "unknown"))
				return usage_error("--direction", "expected entry, exit or unknown");
			q.direction = optarg;
			break;
		case FROM: from = optarg; break;
		case TO: to = optarg; break;
		case BY:
			if (parse_by(optarg, &q.by) != 0)
				return usage_error("--by", "expected nat, sex, age, doc, "
						   "checkpoint, direction, hour or day");
			break;
		case NAT:
			if (!nat_ok(optarg))
				return usage_error("--nat", "expected a code of 1 to 3 "
						   "capital letters, fillers removed (RUS, D)");
			q.nat = optarg;
			break;
		case SEX:
			if (strcmp(optarg, "M") && strcmp(optarg, "F") && strcmp(optarg, "X"))
				return usage_error("--sex", "expected M, F or X");
			q.sex = optarg;
			break;
		case AGE:
			if (!age_ok(optarg))
				return usage_error("--age", "expected a band as configured "
						   "(18-27, 65+) or unknown");
			q.age = optarg;
			break;
		case TOP:
		case COUNT: {
			long v = strtol(optarg, &end, 10);

			if (*end != '\0' || v < 1)
				return usage_error(opt == TOP ? "--top" : "--count",
						   "expected a number >= 1");
			if (opt == TOP)
				q.top = v;
			else
				q.count = v;
			break;
		}
		case FORMAT:
			if (strcmp(optarg, "table") == 0)
				q.format = FORMAT_TABLE;
			else if (strcmp(optarg, "csv") == 0)
				q.format = FORMAT_CSV;
			else if (strcmp(optarg, "json") == 0)
				q.format = FORMAT_JSON;
			else
				return usage_error("--format", "expected table, csv or json");
			break;
		case VERSION:
			printf("crossings-query %s (hiredis %d.%d.%d)\n", CROSSINGS_VERSION,
			       HIREDIS_MAJOR, HIREDIS_MINOR, HIREDIS_PATCH);
			return 0;
		case HELP:
			usage(stdout);
			return 0;
		default:
			return usage_error(argv[optind - 1],
					   optopt ? "needs a value" : "unknown option");
		}
	}
	if (optind < argc)
		mode = argv[optind++];
	if (optind < argc)
		return usage_error(argv[optind], "unexpected argument");
	/* A command line is open to every user (ps, /proc): the password
	 * may come from the environment instead, as redis-cli's does. */
	if (q.password == NULL) {
		const char *v = getenv(PASSWORD_VARIABLE);

		if (v != NULL && *v != '\0')
			q.password = v;
	}
	if (mode && strcmp(mode, "watch") && strcmp(mode, "status"))
		return usage_error(mode, "unknown command (watch or status)");
	/* An option the mode does not read would be ignored: watch shows
	 * every checkpoint, status every node. */
	taken = OPTION_BIT(REDIS) | OPTION_BIT(USER) | OPTION_BIT(PASSWORD);
	if (mode == NULL)
		taken = ~OPTION_BIT(COUNT);
	else if (strcmp(mode, "watch") == 0)
		taken |= OPTION_BIT(COUNT);
	for (const struct option *o = longs; o->name != NULL; o++) {
		if (o->val < VERSION && (given & ~taken & OPTION_BIT(o->val))) {
			char what[32];

			snprintf(what, sizeof(what), "--%s", o->name);
			return usage_error(what, mode == NULL ? "only taken by watch" :
				strcmp(mode, "watch") == 0 ?
				"not taken by watch, which shows every update" :
				"not taken by status, which shows every node");
		}
	}
	if (from && (rc = parse_hour(from, false, &q.from_hour)) != 0)
		return usage_error("--from", hour_error(rc));
	if (to && (rc = parse_hour(to, true, &q.to_hour)) != 0)
		return usage_error("--to", hour_error(rc));
	if (to && !from)
		return usage_error("--to", "needs --from");
	if (from && !to)
		q.to_hour = time(NULL) / 3600;
	if (from && !to && q.to_hour < q.from_hour)
		return usage_error("--from", "after the current hour, where a query "
				   "without --to ends: give --to");
	if (from && q.to_hour < q.from_hour)
		return usage_error("--to", "before --from");
	if (from && q.to_hour - q.from_hour > 24 * 3700)
		return usage_error("--from", "a range of more than ten years");
	if ((q.by == BY_HOUR || q.by == BY_DAY) && !from)
		return usage_error("--by", "hour and day need --from");
	if (q.by == BY_DOC && (q.nat || q.sex || q.age))
		return usage_error("--by doc", "has no breakdown by nationality, "
				   "sex or age (the cross-tab is nat x sex x age)");
	if (mode && strcmp(mode, "watch") == 0)
		return run_watch(&q);
	rc = mode ? run_status(&q) : run_query(&q);
	output_ok(&rc);
	return rc;
}
