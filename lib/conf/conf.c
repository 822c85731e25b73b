/* SPDX-License-Identifier: BSD-3-Clause */

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <rte_cfgfile.h>

#include "conf.h"
#include "wire.h"

void
conf_defaults(struct conf *conf)
{
	/* A zeroed buffer one byte longer than gethostname() may fill, so
	 * that a truncated name still ends. Not conf->node itself: GCC
	 * with -fsanitize=undefined warns (-Wnonnull) that it may be NULL. */
	char host[sizeof(conf->node)] = "";

	memset(conf, 0, sizeof(*conf));
	if (gethostname(host, sizeof(host) - 1) == 0 && host[0] != '\0')
		strcpy(conf->node, host);
	else
		strcpy(conf->node, "node");
	strcpy(conf->redis.host, "127.0.0.1");
	conf->redis.port = 6379;
	conf->redis.flush_interval_ms = 1000;
	conf->redis.flush_max_pairs = 10000;
	conf->redis.timeout_ms = 2000;
	conf->redis.shutdown_timeout_ms = 10000;
	conf->udp_port_count = 1;
	conf->udp_ports[0] = 7470;
	conf->window_s = 1800;
	conf->scope = CONF_SCOPE_CHECKPOINT_DIRECTION;
	conf->capacity = 4194304;
	agg_bands_parse(AGG_BANDS_DEFAULT, &conf->bands);
}

void
conf_redis_set_endpoint(struct conf_redis *redis, const struct endpoint *e)
{
	_Static_assert(sizeof(redis->host) == sizeof(e->host) &&
		       sizeof(redis->unix_path) == sizeof(e->unix_path),
		       "conf_redis holds what endpoint_parse() reads");
	if (e->unix_path[0] != '\0') {
		strcpy(redis->unix_path, e->unix_path);
		return;
	}
	strcpy(redis->host, e->host);
	redis->port = e->port;
	redis->unix_path[0] = '\0';
}

void
conf_free(struct conf *conf)
{
	free(conf->checkpoints);
	free(conf->scanners);
	conf->checkpoints = NULL;
	conf->scanners = NULL;
	conf->checkpoint_count = 0;
	conf->scanner_count = 0;
}

int
conf_parse_prefix(const char *text, uint8_t *family, uint8_t addr[16],
		  uint8_t *prefix_len)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(text, '/');
	size_t alen = slash ? (size_t)(slash - text) : strlen(text);
	unsigned int max, len;

	if (alen == 0 || alen >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, text, alen);
	buf[alen] = '\0';
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, buf, addr) == 1) {
		*family = 4;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, addr) == 1) {
		*family = 6;
		max = 128;
	} else {
		return -EINVAL;
	}
	len = max;
	if (slash) {
		char *end;
		unsigned long v;

		if (!isdigit((unsigned char)slash[1]))
			return -EINVAL;
		v = strtoul(slash + 1, &end, 10);
		if (*end != '\0' || v == 0 || v > max)
			return -EINVAL;
		len = v;
	}
	/* A prefix with host bits set is most likely a typo. */
	for (unsigned int bit = len; bit < max; bit++)
		if (addr[bit / 8] & (0x80 >> (bit % 8)))
			return -EINVAL;
	*prefix_len = len;
	return 0;
}

int
conf_checkpoint_by_name(const struct conf *conf, const char *name)
{
	for (unsigned int i = 0; i < conf->checkpoint_count; i++)
		if (strcmp(conf->checkpoints[i].name, name) == 0)
			return i;
	return -1;
}

/* The first setting a reload may not change that differs, or NULL. */
static const char *
fixed_setting_changed(const struct conf *a, const struct conf *b)
{
	const struct conf_redis *x = &a->redis, *y = &b->redis;

	if (strcmp(a->node, b->node) != 0)
		return "[node] name";
	if (a->udp_port_count != b->udp_port_count ||
	    memcmp(a->udp_ports, b->udp_ports,
		   a->udp_port_count * sizeof(a->udp_ports[0])) != 0)
		return "[ingest] udp_ports";
	if (a->window_s != b->window_s)
		return "[dedup] window_s";
	if (a->scope != b->scope)
		return "[dedup] scope";
	if (a->capacity != b->capacity)
		return "[dedup] capacity";
	if (a->bands.count != b->bands.count ||
	    memcmp(a->bands.lower, b->bands.lower, a->bands.count) != 0)
		return "[aggregate] age_bands";
	if (strcmp(x->unix_path, y->unix_path) != 0 ||
	    (x->unix_path[0] == '\0' &&
	     (strcmp(x->host, y->host) != 0 || x->port != y->port)))
		return "[redis] host, port or unix";
	if (strcmp(x->user, y->user) != 0 || strcmp(x->password, y->password) != 0)
		return "[redis] user or password";
	if (x->flush_interval_ms != y->flush_interval_ms)
		return "[redis] flush_interval_ms";
	if (x->flush_max_pairs != y->flush_max_pairs)
		return "[redis] flush_max_pairs";
	if (x->timeout_ms != y->timeout_ms)
		return "[redis] timeout_ms";
	if (x->shutdown_timeout_ms != y->shutdown_timeout_ms)
		return "[redis] shutdown_timeout_s";
	if (x->wait_replicas != y->wait_replicas)
		return "[redis] wait_replicas";
	return NULL;
}

int
conf_reload(const struct conf *cur, struct conf *next, char *err,
	    size_t err_len)
{
	const char *changed = fixed_setting_changed(cur, next);
	struct conf_checkpoint *cps;
	unsigned int *place, n;

	if (changed != NULL) {
		snprintf(err, err_len, "%s: changed, which needs a restart", changed);
		return -EINVAL;
	}
	/* At most all of cur's and all of next's. */
	cps = calloc(cur->checkpoint_count + next->checkpoint_count + 1,
		     sizeof(*cps));
	place = calloc(next->checkpoint_count + 1, sizeof(*place));
	if (cps == NULL || place == NULL) {
		free(cps);
		free(place);
		return -ENOMEM;
	}
	for (n = 0; n < cur->checkpoint_count; n++) {
		int i = conf_checkpoint_by_name(next, cur->checkpoints[n].name);

		if (i >= 0) {
			cps[n] = next->checkpoints[i];
			place[i] = n;
		} else {
			cps[n] = cur->checkpoints[n];
			cps[n].has_id = false;
		}
	}
	for (unsigned int i = 0; i < next->checkpoint_count; i++)
		if (conf_checkpoint_by_name(cur, next->checkpoints[i].name) < 0) {
			cps[n] = next->checkpoints[i];
			place[i] = n++;
		}
	for (unsigned int i = 0; i < next->scanner_count; i++)
		next->scanners[i].checkpoint = place[next->scanners[i].checkpoint];
	free(next->checkpoints);
	free(place);
	next->checkpoints = cps;
	next->checkpoint_count = n;
	return 0;
}

/*
 * rte_cfgfile keeps sections and entries in file order but no line
 * numbers, and logs its own syntax errors. So the file is scanned once
 * here first, with rte_cfgfile's rules (';' starts a comment, sections
 * in brackets, "key = value"): a syntax error is reported by line, and
 * the line of the n-th section and of its m-th entry is remembered for
 * the messages of later checks.
 */
struct line_index {
	unsigned int section_count;
	unsigned int *section_line;	/* per section: its header's line */
	unsigned int *entry_first;	/* per section: first entry in lines */
	unsigned int entry_count;
	unsigned int *entry_line;
};

struct loader {
	const char *path;
	char *err;
	size_t err_len;
	struct line_index index;
};

static int
fail(struct loader *ld, unsigned int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = line ? snprintf(ld->err, ld->err_len, "%s:%u: ", ld->path, line)
		 : snprintf(ld->err, ld->err_len, "%s: ", ld->path);
	if (n < 0 || (size_t)n >= ld->err_len)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(ld->err + n, ld->err_len - n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static char *
strip(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

static int
push(unsigned int **array, unsigned int count, unsigned int value)
{
	unsigned int *grown;

	if ((count & (count - 1)) == 0) {	/* 0, 1, 2, 4 ...: grow */
		grown = realloc(*array, sizeof(**array) * (count ? 2 * count : 1));
		if (grown == NULL)
			return -ENOMEM;
		*array = grown;
	}
	(*array)[count] = value;
	return 0;
}

/* The file as a whole cannot be read: "FILE: why". Closes f, if open. */
static int
unreadable(struct loader *ld, FILE *f, const char *why)
{
	snprintf(ld->err, ld->err_len, "%s: %s", ld->path, why);
	if (f != NULL)
		fclose(f);
	return -ENOENT;
}

static int
scan_lines(struct loader *ld)
{
	struct line_index *ix = &ld->index;
	char buf[1024];
	unsigned int lineno = 0;
	FILE *f = fopen(ld->path, "r");
	struct stat st = { 0 };

	if (f == NULL)
		return unreadable(ld, NULL, strerror(errno));
	/* The file is read twice (here for its line numbers, then by
	 * rte_cfgfile) and again at each reload: a pipe would give nothing
	 * the second time, a directory nothing at all, /dev/zero no end. */
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode))
		return unreadable(ld, f, S_ISDIR(st.st_mode) ? strerror(EISDIR) :
				  "not a regular file");
	for (;;) {
		char *line, *eq, *comment;
		size_t len, end = sizeof(buf);

		/* fgets() ends what it read with a NUL, the last one in the
		 * buffer filled with non-NULs before: a NUL ahead of it came
		 * from the file, which is no text. */
		memset(buf, 0xff, sizeof(buf));
		if (fgets(buf, sizeof(buf), f) == NULL)
			break;
		len = strlen(buf);
		while (buf[end - 1] != '\0')
			end--;
		lineno++;
		if (end - 1 != len) {
			fclose(f);
			return fail(ld, lineno, "a NUL byte: not a text file");
		}
		if (len == sizeof(buf) - 1 && buf[len - 1] != '\n' && !feof(f)) {
			fclose(f);
			return fail(ld, lineno, "line too long");
		}
		comment = strchr(buf, ';');
		if (comment)
			*comment = '\0';
		line = strip(buf);
		if (*line == '\0')
			continue;
		if (*line == '[') {
			char *name;

			if (line[strlen(line) - 1] != ']') {
				fclose(f);
				return fail(ld, lineno, "section header without ']'");
			}
			line[strlen(line) - 1] = '\0';
			name = strip(line + 1);
			if (*name == '\0' || strlen(name) >= CFG_NAME_LEN) {
				fclose(f);
				return fail(ld, lineno, "bad section name");
			}
			if (push(&ix->section_line, ix->section_count, lineno) ||
			    push(&ix->entry_first, ix->section_count, ix->entry_count)) {
				fclose(f);
				return -ENOMEM;
			}
			ix->section_count++;
			continue;
		}
		eq = strchr(line, '=');
		if (ix->section_count == 0) {
			fclose(f);
			return fail(ld, lineno, "entry before any [section]");
		}
		if (eq == NULL) {
			fclose(f);
			return fail(ld, lineno, "expected 'key = value'");
		}
		*eq = '\0';
		if (*strip(line) == '\0' || strlen(strip(line)) >= CFG_NAME_LEN ||
		    strlen(strip(eq + 1)) >= CFG_VALUE_LEN) {
			fclose(f);
			return fail(ld, lineno, "bad key or value too long");
		}
		if (push(&ix->entry_line, ix->entry_count, lineno)) {
			fclose(f);
			return -ENOMEM;
		}
		ix->entry_count++;
	}
	if (ferror(f))
		return unreadable(ld, f, strerror(errno));
	fclose(f);
	return 0;
}

/* One section being checked: its entries and the line of each. */
struct section {
	const char *name;		/* as written, e.g. "scanner lars-1" */
	int entry_count;
	struct rte_cfgfile_entry *entries;
	unsigned int header_line;
	const unsigned int *entry_line;
	uint32_t seen;			/* keys used, one bit per entry */
};

static int
bad(struct loader *ld, struct section *s, int e, const char *what)
{
	return fail(ld, s->entry_line[e], "[%s] %s: %s", s->name,
		    s->entries[e].name, what);
}

static int
parse_uint(const char *v, unsigned long min, unsigned long max,
	   unsigned long *out)
{
	char *end;

	if (!isdigit((unsigned char)*v))
		return -EINVAL;
	errno = 0;
	*out = strtoul(v, &end, 10);
	if (errno || *end != '\0' || *out < min || *out > max)
		return -EINVAL;
	return 0;
}

static bool
valid_name(const char *name)
{
	if (*name == '\0')
		return false;
	for (; *name; name++)
		if (!islower((unsigned char)*name) &&
		    !isdigit((unsigned char)*name) && *name != '-')
			return false;
	return true;
}

/* Each handler reads one entry of its section; returns 0 or -EINVAL. */
static int
read_node(struct loader *ld, struct conf *conf, struct section *s, int e)
{
	const char *k = s->entries[e].name, *v = s->entries[e].value;

	if (strcmp(k, "name") != 0)
		return bad(ld, s, e, "unknown key");
	if (!valid_name(v) || strlen(v) >= sizeof(conf->node))
		return bad(ld, s, e, "expected [a-z0-9-]+, shorter than 64");
	strcpy(conf->node, v);
	return 0;
}

static int
read_redis(struct loader *ld, struct conf *conf, struct section *s, int e)
{
	const char *k = s->entries[e].name, *v = s->entries[e].value;
	struct conf_redis *r = &conf->redis;
	unsigned long n;

	if (strcmp(k, "host") == 0) {
		size_t len = strlen(v);

		/* An IPv6 address may come in brackets, as after --redis. */
		if (len >= 2 && v[0] == '[' && v[len - 1] == ']') {
			v++;
			len -= 2;
		}
		if (len == 0)
			return bad(ld, s, e, "empty");
		if (memchr(v, '[', len) != NULL || memchr(v, ']', len) != NULL)
			return bad(ld, s, e, "expected a name or an address "
				   "(IPv6 with or without brackets)");
		memcpy(r->host, v, len);
		r->host[len] = '\0';
	} else if (strcmp(k, "unix") == 0) {
		if (strlen(v) >= sizeof(r->unix_path))
			return bad(ld, s, e, "path too long");
		strcpy(r->unix_path, v);
	} else if (strcmp(k, "port") == 0) {
		if (parse_uint(v, 1, 65535, &n))
			return bad(ld, s, e, "expected a port 1..65535");
		r->port = n;
	} else if (strcmp(k, "user") == 0) {
		if (strlen(v) >= sizeof(r->user))
			return bad(ld, s, e, "too long");
		strcpy(r->user, v);
	} else if (strcmp(k, "password") == 0) {
		strcpy(r->password, v);
	} else if (strcmp(k, "flush_interval_ms") == 0) {
		if (parse_uint(v, 10, 3600000, &n))
			return bad(ld, s, e, "expected 10..3600000");
		r->flush_interval_ms = n;
	} else if (strcmp(k, "flush_max_pairs") == 0) {
		if (parse_uint(v, 1, 10000000, &n))
			return bad(ld, s, e, "expected 1..10000000");
		r->flush_max_pairs = n;
	} else if (strcmp(k, "timeout_ms") == 0) {
		if (parse_uint(v, 10, 600000, &n))
			return bad(ld, s, e, "expected 10..600000");
		r->timeout_ms = n;
	} else if (strcmp(k, "shutdown_timeout_s") == 0) {
		if (parse_uint(v, 0, 3600, &n))
			return bad(ld, s, e, "expected 0..3600");
		r->shutdown_timeout_ms = n * 1000;
	} else if (strcmp(k, "wait_replicas") == 0) {
		if (parse_uint(v, 0, 64, &n))
			return bad(ld, s, e, "expected 0..64");
		r->wait_replicas = n;
	} else {
		return bad(ld, s, e, "unknown key");
	}
	return 0;
}

static int
read_ingest(struct loader *ld, struct conf *conf, struct section *s, int e)
{
	const char *k = s->entries[e].name;
	char list[CFG_VALUE_LEN], *rest = list, *tok;
	unsigned long n;

	if (strcmp(k, "udp_ports") != 0)
		return bad(ld, s, e, "unknown key");
	strcpy(list, s->entries[e].value);
	conf->udp_port_count = 0;
	while ((tok = strsep(&rest, ",")) != NULL) {
		if (parse_uint(strip(tok), 1, 65535, &n))
			return bad(ld, s, e, "expected ports 1..65535, comma-separated");
		if (conf->udp_port_count == CONF_PORTS_MAX)
			return bad(ld, s, e, "too many ports");
		conf->udp_ports[conf->udp_port_count++] = n;
	}
	if (conf->udp_port_count == 0)
		return bad(ld, s, e, "no port");
	return 0;
}

static int
read_dedup(struct loader *ld, struct conf *conf, struct section *s, int e)
{
	const char *k = s->entries[e].name, *v = s->entries[e].value;
	unsigned long n;

	if (strcmp(k, "window_s") == 0) {
		if (parse_uint(v, 1, 31 * 86400, &n))
			return bad(ld, s, e, "expected 1..2678400 seconds");
		conf->window_s = n;
	} else if (strcmp(k, "scope") == 0) {
		if (strcmp(v, "checkpoint-direction") == 0)
			conf->scope = CONF_SCOPE_CHECKPOINT_DIRECTION;
		else if (strcmp(v, "direction") == 0)
			conf->scope = CONF_SCOPE_DIRECTION;
		else
			return bad(ld, s, e, "expected checkpoint-direction or direction");
	} else if (strcmp(k, "capacity") == 0) {
		if (parse_uint(v, 1024, 1u << 30, &n))
			return bad(ld, s, e, "expected 1024..1073741824");
		conf->capacity = n;
	} else {
		return bad(ld, s, e, "unknown key");
	}
	return 0;
}

static int
read_aggregate(struct loader *ld, struct conf *conf, struct section *s, int e)
{
	if (strcmp(s->entries[e].name, "age_bands") != 0)
		return bad(ld, s, e, "unknown key");
	if (agg_bands_parse(s->entries[e].value, &conf->bands) != 0)
		return bad(ld, s, e, "expected contiguous bands from 0 ending "
			   "with an open one, e.g. 0-17,18-64,65+");
	return 0;
}

static int
read_checkpoint(struct loader *ld, struct conf *conf, struct section *s, int e)
{
	struct conf_checkpoint *cp = &conf->checkpoints[conf->checkpoint_count - 1];
	unsigned long n;

	if (strcmp(s->entries[e].name, "id") != 0)
		return bad(ld, s, e, "unknown key");
	if (parse_uint(s->entries[e].value, 1, UINT32_MAX, &n))
		return bad(ld, s, e, "expected 1..4294967295");
	for (unsigned int i = 0; i + 1 < conf->checkpoint_count; i++)
		if (conf->checkpoints[i].has_id && conf->checkpoints[i].id == n)
			return bad(ld, s, e, "id already used by another checkpoint");
	cp->has_id = true;
	cp->id = n;
	return 0;
}

static int
read_scanner(struct loader *ld, struct conf *conf, struct section *s, int e)
{
	struct conf_scanner *sc = &conf->scanners[conf->scanner_count - 1];
	const char *k = s->entries[e].name, *v = s->entries[e].value;
	int cp;

	if (strcmp(k, "address") == 0) {
		if (conf_parse_prefix(v, &sc->family, sc->addr, &sc->prefix_len))
			return bad(ld, s, e, "expected an IPv4 or IPv6 address "
				   "or prefix, with no host bits set");
		for (unsigned int i = 0; i + 1 < conf->scanner_count; i++) {
			const struct conf_scanner *o = &conf->scanners[i];

			if (o->family == sc->family &&
			    o->prefix_len == sc->prefix_len &&
			    memcmp(o->addr, sc->addr, 16) == 0)
				return bad(ld, s, e, "same address as another scanner");
		}
	} else if (strcmp(k, "checkpoint") == 0) {
		cp = conf_checkpoint_by_name(conf, v);
		if (cp < 0)
			return bad(ld, s, e, "no [checkpoint] of that name");
		sc->checkpoint = cp;
	} else if (strcmp(k, "direction") == 0) {
		if (strcmp(v, "entry") == 0)
			sc->direction = WIRE_DIRECTION_ENTRY;
		else if (strcmp(v, "exit") == 0)
			sc->direction = WIRE_DIRECTION_EXIT;
		else if (strcmp(v, "unknown") == 0)
			sc->direction = WIRE_DIRECTION_UNKNOWN;
		else
			return bad(ld, s, e, "expected entry, exit or unknown");
	} else {
		return bad(ld, s, e, "unknown key");
	}
	return 0;
}

static int
require(struct loader *ld, struct section *s, const char *key)
{
	for (int e = 0; e < s->entry_count; e++)
		if (strcmp(s->entries[e].name, key) == 0)
			return 0;
	return fail(ld, s->header_line, "[%s] %s: missing", s->name, key);
}

typedef int (*entry_reader)(struct loader *, struct conf *, struct section *, int);

/* Checks one section and hands each entry to its reader. */
static int
read_section(struct loader *ld, struct conf *conf, struct section *s)
{
	static const struct {
		const char *name;
		entry_reader read;
	} fixed[] = {
		{ "node", read_node }, { "redis", read_redis },
		{ "ingest", read_ingest }, { "dedup", read_dedup },
		{ "aggregate", read_aggregate },
	};
	entry_reader read = NULL;
	const char *arg = NULL;
	int rc;

	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (strcmp(s->name, fixed[i].name) == 0)
			read = fixed[i].read;
	if (strncmp(s->name, "checkpoint ", 11) == 0) {
		arg = strip((char *)s->name + 11);
		read = read_checkpoint;
	} else if (strncmp(s->name, "scanner ", 8) == 0) {
		arg = strip((char *)s->name + 8);
		read = read_scanner;
	}
	if (read == NULL)
		return fail(ld, s->header_line, "[%s]: unknown section", s->name);

	if (read == read_checkpoint) {
		struct conf_checkpoint *cp;

		if (!valid_name(arg))
			return fail(ld, s->header_line,
				    "[%s]: checkpoint name must be [a-z0-9-]+", s->name);
		if (conf_checkpoint_by_name(conf, arg) >= 0)
			return fail(ld, s->header_line,
				    "[%s]: checkpoint defined twice", s->name);
		cp = &conf->checkpoints[conf->checkpoint_count++];
		memset(cp, 0, sizeof(*cp));
		strcpy(cp->name, arg);
	} else if (read == read_scanner) {
		struct conf_scanner *sc;

		if (*arg == '\0')
			return fail(ld, s->header_line, "[%s]: scanner needs a name",
				    s->name);
		for (unsigned int i = 0; i < conf->scanner_count; i++)
			if (strcmp(conf->scanners[i].name, arg) == 0)
				return fail(ld, s->header_line,
					    "[%s]: scanner defined twice", s->name);
		if ((rc = require(ld, s, "address")) ||
		    (rc = require(ld, s, "checkpoint")))
			return rc;
		sc = &conf->scanners[conf->scanner_count++];
		memset(sc, 0, sizeof(*sc));
		strcpy(sc->name, arg);
	}

	for (int e = 0; e < s->entry_count; e++) {
		for (int p = 0; p < e; p++)
			if (strcmp(s->entries[p].name, s->entries[e].name) == 0)
				return bad(ld, s, e, "given twice");
		rc = read(ld, conf, s, e);
		if (rc)
			return rc;
	}
	return 0;
}

static int
read_file(struct loader *ld, struct conf *conf, struct rte_cfgfile *cfg)
{
	struct line_index *ix = &ld->index;
	int sections = rte_cfgfile_num_sections(cfg, NULL, 0);
	unsigned int checkpoints = 0, scanners = 0;
	struct rte_cfgfile_entry *entries = NULL;
	char name[CFG_NAME_LEN];
	int rc = 0;

	/* Our scan and rte_cfgfile must agree, or lines would be wrong. */
	if (sections < 0 || (unsigned int)sections != ix->section_count)
		return fail(ld, 0, "cannot be parsed");
	for (unsigned int i = 0; i < ix->section_count; i++) {
		if (rte_cfgfile_section_entries_by_index(cfg, i, name, NULL, 0) < 0)
			return fail(ld, 0, "cannot be parsed");
		if (strncmp(name, "checkpoint ", 11) == 0)
			checkpoints++;
		else if (strncmp(name, "scanner ", 8) == 0)
			scanners++;
		for (unsigned int j = 0; j < i; j++) {
			char other[CFG_NAME_LEN];

			rte_cfgfile_section_entries_by_index(cfg, j, other, NULL, 0);
			if (strcmp(other, name) == 0)
				return fail(ld, ix->section_line[i],
					    "[%s]: section given twice", name);
		}
	}
	conf->checkpoints = calloc(checkpoints + 1, sizeof(*conf->checkpoints));
	conf->scanners = calloc(scanners + 1, sizeof(*conf->scanners));
	entries = calloc(ix->entry_count + 1, sizeof(*entries));
	if (conf->checkpoints == NULL || conf->scanners == NULL || entries == NULL) {
		free(entries);
		return -ENOMEM;
	}
	/* Checkpoints first, so that scanners may name any of them. */
	for (int pass = 0; pass < 2 && rc == 0; pass++) {
		for (unsigned int i = 0; i < ix->section_count && rc == 0; i++) {
			unsigned int first = ix->entry_first[i];
			unsigned int end = i + 1 < ix->section_count ?
				ix->entry_first[i + 1] : ix->entry_count;
			struct section s = {
				.name = name,
				.entries = entries,
				.header_line = ix->section_line[i],
				/* A file of headers only has no entry lines
				 * (and no pointer to add to). */
				.entry_line = ix->entry_count > 0 ?
					ix->entry_line + first : NULL,
			};

			s.entry_count = rte_cfgfile_section_entries_by_index(cfg,
						i, name, entries, end - first);
			if (s.entry_count != (int)(end - first)) {
				rc = fail(ld, ix->section_line[i], "cannot be parsed");
				break;
			}
			if ((strncmp(name, "scanner ", 8) == 0) == (pass == 0))
				continue;
			rc = read_section(ld, conf, &s);
		}
	}
	free(entries);
	return rc;
}

int
conf_load(struct conf *conf, const char *path, char *err, size_t err_len)
{
	struct loader ld = { .path = path, .err = err, .err_len = err_len };
	struct rte_cfgfile *cfg;
	int rc;

	rc = scan_lines(&ld);
	if (rc == 0) {
		cfg = rte_cfgfile_load(path, CFG_FLAG_EMPTY_VALUES);
		if (cfg == NULL) {
			rc = fail(&ld, 0, "cannot be parsed");
		} else {
			rc = read_file(&ld, conf, cfg);
			rte_cfgfile_close(cfg);
		}
	} else if (rc == -ENOMEM) {
		snprintf(err, err_len, "%s: out of memory", path);
	}
	free(ld.index.section_line);
	free(ld.index.entry_first);
	free(ld.index.entry_line);
	return rc;
}
