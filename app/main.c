/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * crossings-ingest: EAL, options and configuration, ports and queues,
 * worker lcores, the control loop (stats, idle exit, signals) and the
 * teardown, in the order of DPDK's l3fwd.
 */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_version.h>

#include "endpoint.h"
#include "ingest.h"

RTE_LOG_REGISTER(ingest_logtype, user.crossings.ingest, INFO);

#define EXIT_USAGE 2
#define RX_DESC 1024
#define MBUF_CACHE 256
#define PORT_QUEUES_MAX 64

struct options {
	const char *config;
	const char *redis;
	bool no_redis;
	double idle_exit_s;		/* 0: run until a signal */
	double stats_interval_s;	/* 0: final stats only */
	uint64_t dedup_prefill;
	unsigned int mbufs;		/* 0: derived from queues and lcores */
	bool record_cycles;
};

static volatile sig_atomic_t signalled;
static volatile sig_atomic_t reload_asked;

static void
on_signal(int sig)
{
	signalled = sig;
}

static void
on_reload(int sig)
{
	(void)sig;
	reload_asked = 1;
}

static void
usage(FILE *out)
{
	fprintf(out,
"usage: crossings-ingest [EAL options] -- [options]\n"
"       crossings-ingest --check-config FILE   check a configuration, exit 0 or 2\n"
"       crossings-ingest --version\n"
"options (after the EAL's and --):\n"
"  --config FILE          configuration (INI); built-in defaults without it\n"
"  --redis HOST:PORT      Redis to publish to (or [IPV6]:PORT, unix:PATH);\n"
"                         overrides [redis]\n"
"  --no-redis             do not publish; print the counts as JSON at exit\n"
"  --idle-exit SECONDS    stop after this long without a packet\n"
"  --stats-interval SECONDS  print a stats line this often (default 10, 0: at exit only)\n"
"  --dedup-prefill N      benchmarks: fill the deduplication tables with N keys\n"
"  --mbufs N              mempool size (the pcap vdev's infinite_rx holds a\n"
"                         whole capture in mbufs)\n"
"  --record-core-cycles   benchmarks: time per frame in the ports' receive\n"
"                         and in the rest of the worker, in the stats\n"
"  --version\n"
"  --help\n"
"signals: SIGINT, SIGTERM, SIGHUP stop cleanly; SIGUSR2 reloads the scanners\n"
"and checkpoints of the --config file\n");
}

/* The EAL's --help ends with this: our options, after its own. */
static void
usage_after_eal(const char *prgname)
{
	(void)prgname;
	usage(stdout);
}

static void
print_version(void)
{
	printf("crossings-ingest %s (%s)\n", CROSSINGS_VERSION, rte_version());
}

/*
 * Whether the EAL would keep hugepage files: by default it leaves them
 * in hugetlbfs after the process ends, to be re-created at the next
 * start, so after a crash or a SIGKILL they hold what the mempool held,
 * MRZ text of real documents included. Not when the command line chose
 * otherwise: --huge-unlink=..., --in-memory, or --no-huge (no files).
 */
static bool
keeps_hugepage_files(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strncmp(argv[i], "--huge-unlink", strlen("--huge-unlink")) == 0 ||
		    strcmp(argv[i], "--in-memory") == 0 ||
		    strcmp(argv[i], "--no-huge") == 0)
			return false;
	return true;
}

/* argv with --huge-unlink before the "--" that ends the EAL's part. It
 * lives as long as the process: the EAL may keep pointers into it. */
static char **
with_huge_unlink(int argc, char **argv)
{
	static char huge_unlink[] = "--huge-unlink";
	char **out = calloc((size_t)argc + 2, sizeof(*out));
	int end = 1;

	if (out == NULL)
		return NULL;
	while (end < argc && strcmp(argv[end], "--") != 0)
		end++;
	memcpy(out, argv, (size_t)end * sizeof(*out));
	out[end] = huge_unlink;
	memcpy(out + end + 1, argv + end, (size_t)(argc - end) * sizeof(*out));
	return out;
}

static int
bad_option(const char *opt, const char *what)
{
	fprintf(stderr, "crossings-ingest: %s: %s\n", opt, what);
	return -EINVAL;
}

static int
parse_seconds(const char *opt, const char *v, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(v, &end);
	if (errno || end == v || *end != '\0' || !(*out >= 0) || *out > 1e9)
		return bad_option(opt, "expected a number of seconds >= 0");
	return 0;
}

static int
parse_options(int argc, char **argv, struct options *o)
{
	enum {
		CONFIG = 256, REDIS, NO_REDIS, IDLE, STATS, PREFILL, MBUFS,
		CYCLES, VERSION, HELP
	};
	static const struct option longs[] = {
		{ "config", required_argument, NULL, CONFIG },
		{ "redis", required_argument, NULL, REDIS },
		{ "no-redis", no_argument, NULL, NO_REDIS },
		{ "idle-exit", required_argument, NULL, IDLE },
		{ "stats-interval", required_argument, NULL, STATS },
		{ "dedup-prefill", required_argument, NULL, PREFILL },
		{ "mbufs", required_argument, NULL, MBUFS },
		{ "record-core-cycles", no_argument, NULL, CYCLES },
		{ "version", no_argument, NULL, VERSION },
		{ "help", no_argument, NULL, HELP },
		{ NULL, 0, NULL, 0 },
	};
	int opt, rc = 0;
	char *end;

	o->stats_interval_s = 10;
	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		switch (opt) {
		case CONFIG:
			if (*optarg == '\0')
				return bad_option("--config", "expected a file");
			o->config = optarg;
			break;
		case REDIS:
			o->redis = optarg;
			break;
		case NO_REDIS:
			o->no_redis = true;
			break;
		case IDLE:
			rc = parse_seconds("--idle-exit", optarg, &o->idle_exit_s);
			break;
		case STATS:
			rc = parse_seconds("--stats-interval", optarg,
					   &o->stats_interval_s);
			break;
		case PREFILL:
			errno = 0;
			o->dedup_prefill = strtoull(optarg, &end, 10);
			if (errno || *end != '\0' || *optarg == '-')
				rc = bad_option("--dedup-prefill", "expected a count");
			break;
		case MBUFS:
			errno = 0;
			o->mbufs = strtoul(optarg, &end, 10);
			if (errno || *end != '\0' || o->mbufs < 1024 || o->mbufs > (1u << 26))
				rc = bad_option("--mbufs", "expected 1024..67108864");
			break;
		case CYCLES:
			o->record_cycles = true;
			break;
		case VERSION:
			print_version();
			exit(0);
		case HELP:
			usage(stdout);
			exit(0);
		default:
			return bad_option(argv[optind - 1],
					  optopt ? "needs a value" : "unknown option");
		}
		if (rc)
			return rc;
	}
	if (optind < argc)
		return bad_option(argv[optind], "unexpected argument");
	/* Which one was meant cannot be told: counts printed and lost, or
	 * published. */
	if (o->no_redis && o->redis != NULL)
		return bad_option("--redis", "and --no-redis: one or the other");
	return 0;
}

/* --redis HOST:PORT, [IPV6]:PORT or unix:PATH over the [redis] section. */
static int
apply_redis_option(struct conf *conf, const char *v)
{
	struct endpoint e;
	int rc = endpoint_parse(&e, v);

	if (rc == -ERANGE)
		return bad_option("--redis", "expected a port 1..65535");
	if (rc != 0)
		return bad_option("--redis", "expected HOST:PORT, [IPV6]:PORT or "
				  "unix:PATH");
	conf_redis_set_endpoint(&conf->redis, &e);
	return 0;
}

/* The file may hold the Redis password: one other users can read
 * gives it away, so it is said at start. */
static void
warn_if_password_readable(const char *path, const struct conf *conf)
{
	struct stat st;

	if (conf->redis.password[0] != '\0' && stat(path, &st) == 0 &&
	    (st.st_mode & (S_IRGRP | S_IROTH)) != 0)
		INGEST_LOG(WARNING, "%s holds the Redis password and other users "
			   "may read it: chmod 600 %s", path, path);
}

/* The RX queues a port gets: one per worker where the port spreads
 * traffic by RSS; otherwise each queue is its own input (a capture
 * file of the pcap vdev, a qpair of af_packet) and all are used. */
static uint16_t
port_queue_count(const struct rte_eth_dev_info *info, unsigned int workers)
{
	uint16_t max = RTE_MIN(info->max_rx_queues, PORT_QUEUES_MAX);

	if (info->flow_type_rss_offloads != 0)
		return RTE_MIN(max, workers);
	return max;
}

static int
port_setup(struct ingest *ing, uint16_t port, uint16_t queues, uint16_t rxd,
	   struct rte_mempool *pool, unsigned int *next_worker)
{
	struct rte_eth_dev_info info;
	struct rte_eth_conf pc = { 0 };
	uint64_t offloads = RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM;
	struct rx_queue q = { .port = port };
	int rc;

	rc = rte_eth_dev_info_get(port, &info);
	if (rc)
		return rc;
	if (info.flow_type_rss_offloads && queues > 1) {
		pc.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		pc.rx_adv_conf.rss_conf.rss_hf = (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP) &
			info.flow_type_rss_offloads;
	}
	/* Checksums the port checks are trusted; the others are done in
	 * software by the decoder, so that a virtual device drops what a
	 * NIC would (a UDP checksum also guards nationality and sex, which
	 * no MRZ check digit covers). */
	pc.rxmode.offloads = info.rx_offload_capa & offloads;
	q.hw_checksum = pc.rxmode.offloads != 0;
	if (!(pc.rxmode.offloads & RTE_ETH_RX_OFFLOAD_IPV4_CKSUM))
		q.checks |= WIRE_CHECK_IP_CHECKSUM;
	if (!(pc.rxmode.offloads & RTE_ETH_RX_OFFLOAD_UDP_CKSUM))
		q.checks |= WIRE_CHECK_UDP_CHECKSUM;
	/* Only the pcap vdev is known to stamp capture time in µs. */
	q.timestamps = ing->timestamp_offset >= 0 &&
		strcmp(info.driver_name, "net_pcap") == 0;
	rc = rte_eth_dev_configure(port, queues, 0, &pc);
	if (rc)
		return rc;
	for (uint16_t i = 0; i < queues; i++) {
		struct worker *w = ing->workers[*next_worker % ing->worker_count];

		rc = rte_eth_rx_queue_setup(port, i, rxd,
					    rte_eth_dev_socket_id(port), NULL, pool);
		if (rc)
			return rc;
		if (w->queue_count == WORKER_QUEUES_MAX)
			return -E2BIG;
		q.queue = i;
		w->queues[w->queue_count++] = q;
		(*next_worker)++;
	}
	rte_eth_promiscuous_enable(port);
	rc = rte_eth_dev_start(port);
	if (rc)
		return rc;
	INGEST_LOG(INFO, "port %u (%s): %u RX queues x %u descriptors, RSS %s, "
		   "IP checksum %s, UDP checksum %s, time from %s", port,
		   info.driver_name, queues, rxd,
		   pc.rxmode.mq_mode == RTE_ETH_MQ_RX_RSS ? "on" : "off",
		   q.checks & WIRE_CHECK_IP_CHECKSUM ? "in software" : "by the port",
		   q.checks & WIRE_CHECK_UDP_CHECKSUM ? "in software" : "by the port",
		   q.timestamps ? "capture timestamps" : "the host clock");
	return 0;
}

/* Which queues each worker polls, as l3fwd says at start. A worker
 * with none (more workers than queues) still owns its share of the
 * documents and counts what the others send it, but receives nothing:
 * a core spent on counting alone, which its operator should know of. */
static void
log_worker_queues(const struct ingest *ing, const unsigned int *lcores)
{
	for (unsigned int i = 0; i < ing->worker_count; i++) {
		const struct worker *w = ing->workers[i];
		/* ", port 65535 queue 65535" at most, each. */
		char list[WORKER_QUEUES_MAX * 26] = "";
		size_t len = 0;

		if (w->queue_count == 0) {
			INGEST_LOG(WARNING, "lcore %u polls no RX queue (more worker "
				   "lcores than queues): it only counts its share of "
				   "the documents, sent by the others", lcores[i]);
			continue;
		}
		for (unsigned int q = 0; q < w->queue_count; q++)
			len += snprintf(list + len, sizeof(list) - len, "%s port %u queue %u",
					q ? "," : "", w->queues[q].port, w->queues[q].queue);
		INGEST_LOG(INFO, "lcore %u polls%s", lcores[i], list);
	}
}

/* Fills the document tables with random keys, as if a busy checkpoint
 * had been running: the benchmark measures lookups in a full table. */
static void
prefill(struct ingest *ing, uint64_t n)
{
	struct dedup_secret s;
	int64_t now = ingest_wall_ms();

	dedup_secret_draw(&s);
	for (uint64_t i = 0; i < n; i++) {
		uint64_t key = dedup_siphash(&s, &i, sizeof(i));
		dedup_seen(ing->workers[ingest_owner_of(ing, key)]->dedup, key, now);
	}
}

static double
seconds_since(uint64_t tsc)
{
	return (double)(rte_rdtsc() - tsc) / rte_get_tsc_hz();
}

/*
 * SIGUSR2: the configuration file read again, its scanners and
 * checkpoints put in place while the node runs, keeping every count and
 * the deduplication windows (a restart would forget who was scanned in
 * the last window_s, and count their re-scans again). Anything else
 * that changed needs a restart: the reload is refused, naming it, and
 * the node goes on as it was.
 */
static void
refuse_reload(struct ingest *ing, const char *why)
{
	INGEST_LOG(ERR, "reload refused, the configuration in use stays: %s", why);
	__atomic_fetch_add(&ing->reloads_refused, 1, __ATOMIC_RELAXED);
}

static void
reload(struct ingest *ing, const struct options *o, struct output *out)
{
	struct registry *reg, *old;
	struct conf next;
	char err[512];
	int rc;

	if (o->config == NULL) {
		refuse_reload(ing, "no --config file to read again");
		return;
	}
	conf_defaults(&next);
	rc = conf_load(&next, o->config, err, sizeof(err));
	/* The same override as at start: it parsed then, so it does now. */
	if (rc == 0 && o->redis != NULL)
		apply_redis_option(&next, o->redis);
	if (rc == 0)
		rc = conf_reload(&ing->conf, &next, err, sizeof(err));
	if (rc != 0) {
		refuse_reload(ing, rc == -ENOMEM ? "out of memory" : err);
		conf_free(&next);
		return;
	}
	reg = registry_create(&next, rte_socket_id());
	if (reg == NULL || output_name_checkpoints(out, &next) != 0) {
		if (reg == NULL)
			snprintf(err, sizeof(err), "scanner registry: %s",
				 rte_strerror(rte_errno));
		refuse_reload(ing, reg == NULL ? err : "out of memory");
		registry_free(reg);
		conf_free(&next);
		return;
	}
	old = ing->registry;
	__atomic_store_n(&ing->registry, reg, __ATOMIC_RELEASE);
	/* Once every worker has ended the round that may have read it. */
	rte_rcu_qsbr_synchronize(ing->registry_readers, RTE_QSBR_THRID_INVALID);
	registry_free(old);
	/* Only the main lcore reads checkpoints and scanners of the conf
	 * (the output names checkpoints by place); its other settings are
	 * the same. */
	free(ing->conf.checkpoints);
	free(ing->conf.scanners);
	ing->conf.checkpoints = next.checkpoints;
	ing->conf.checkpoint_count = next.checkpoint_count;
	ing->conf.scanners = next.scanners;
	ing->conf.scanner_count = next.scanner_count;
	__atomic_fetch_add(&ing->reloads, 1, __ATOMIC_RELAXED);
	INGEST_LOG(INFO, "reload: %s: %u checkpoints, %u scanners", o->config,
		   ing->conf.checkpoint_count, ing->conf.scanner_count);
}

/* How often the main lcore looks at the workers' counters. */
#define CONTROL_POLL_US 10000

/*
 * Runs until a signal, or until no frame came for idle_exit_s. Returns
 * the seconds from the first frame it saw arrive to the last, to a poll
 * (0 when none came): the final rate is over the time traffic flowed,
 * not over a wait for a replay to begin or an --idle-exit wait after it.
 */
static double
control_loop(struct ingest *ing, const struct options *o, struct output *out)
{
	uint64_t start = rte_rdtsc(), last_change = start, last_stats = start;
	uint64_t first_change = start, frames_seen = 0;
	struct ingest_counters at_stats = { 0 };

	while (!signalled) {
		struct ingest_counters c;
		uint64_t frames;

		usleep(CONTROL_POLL_US);
		if (reload_asked) {
			reload_asked = 0;
			reload(ing, o, out);
		}
		output_tick(out, ing);
		stats_sum(ing, &c);
		frames = stats_frames(&c);
		if (frames != frames_seen) {
			last_change = rte_rdtsc();
			if (frames_seen == 0)
				first_change = last_change;
			frames_seen = frames;
		}
		if (o->stats_interval_s > 0 &&
		    seconds_since(last_stats) >= o->stats_interval_s) {
			stats_line(ing, "stats", seconds_since(last_stats),
				   &at_stats);
			last_stats = rte_rdtsc();
			at_stats = c;
		}
		if (o->idle_exit_s > 0 && seconds_since(last_change) >= o->idle_exit_s) {
			INGEST_LOG(INFO, "idle for %.1f s: stopping", o->idle_exit_s);
			break;
		}
	}
	if (signalled)
		INGEST_LOG(INFO, "SIG%s: stopping", sigabbrev_np((int)signalled));
	/* The first frames came during the poll before they were seen. */
	return frames_seen == 0 ? 0 : (double)(last_change - first_change) /
		rte_get_tsc_hz() + CONTROL_POLL_US / 1e6;
}

/* Workers stop receiving, send what they hold to its owners, and every
 * owner counts everything sent before it stops. */
static void
stop_workers(struct ingest *ing)
{
	ing->stop_rx = true;
	for (unsigned int i = 0; i < ing->worker_count; i++)
		while (!__atomic_load_n(&ing->workers[i]->rx_done, __ATOMIC_ACQUIRE))
			rte_pause();
	__atomic_store_n(&ing->quit, true, __ATOMIC_RELEASE);
	rte_eal_mp_wait_lcore();
}

/* What main() set up after the EAL, then the EAL: on either way out. */
static void
release(struct ingest *ing, struct output *output)
{
	output_free(output);
	for (unsigned int i = 0; i < ing->worker_count; i++)
		worker_free(ing->workers[i]);
	registry_free(ing->registry);
	rte_free(ing->registry_readers);
	conf_free(&ing->conf);
	rte_eal_cleanup();
}

/* The workers, as readers of the registry a reload replaces. */
static int
registry_readers_create(struct ingest *ing)
{
	size_t size = rte_rcu_qsbr_get_memsize(ing->worker_count);

	ing->registry_readers = rte_zmalloc("registry_readers", size,
					    RTE_CACHE_LINE_SIZE);
	if (ing->registry_readers == NULL ||
	    rte_rcu_qsbr_init(ing->registry_readers, ing->worker_count) != 0)
		return -ENOMEM;
	for (unsigned int i = 0; i < ing->worker_count; i++)
		if (rte_rcu_qsbr_thread_register(ing->registry_readers, i) != 0)
			return -ENOMEM;
	return 0;
}

static void
port_summary(uint16_t port)
{
	struct rte_eth_stats s;

	if (rte_eth_stats_get(port, &s) == 0)
		INGEST_LOG(INFO, "port %u: ipackets %" PRIu64 " imissed %" PRIu64
			   " ierrors %" PRIu64 " rx_nombuf %" PRIu64, port,
			   s.ipackets, s.imissed, s.ierrors, s.rx_nombuf);
}

/*
 * Keeps every page of the process out of swap: hugepages never swap,
 * but worker stacks, the pcap vdev's buffers and malloc'd memory are
 * ordinary pages, and they hold MRZ text while it is parsed. Pages are
 * locked as they are touched (MCL_ONFAULT), so a --no-huge -m 512 arena
 * is not faulted in whole at start. Refused without CAP_IPC_LOCK when
 * RLIMIT_MEMLOCK is smaller than the process: a checkpoint server runs
 * as root, or with systemd's LimitMEMLOCK=infinity.
 */
static int
lock_memory(void)
{
	struct rlimit limit;
	int err;

	if (mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) == 0)
		return 0;
	err = errno;
	if (getrlimit(RLIMIT_MEMLOCK, &limit) == 0 &&
	    limit.rlim_cur != RLIM_INFINITY)
		fprintf(stderr, "crossings-ingest: cannot lock memory against "
			"swap (mlockall: %s; RLIMIT_MEMLOCK %llu KiB): run as "
			"root, or raise the limit (ulimit -l unlimited, systemd "
			"LimitMEMLOCK=infinity)\n", strerror(err),
			(unsigned long long)limit.rlim_cur / 1024);
	else
		fprintf(stderr, "crossings-ingest: cannot lock memory against "
			"swap (mlockall: %s)\n", strerror(err));
	return -1;
}

/*
 * --check-config FILE: the file read as a start would read it, without
 * the EAL, ports or Redis, so that an edit can be checked before the
 * service restarts on it (as nginx -t or sshd -t). Exit 0 or 2.
 */
static int
check_config(const char *path)
{
	static struct conf conf;
	char err[512];

	if (*path == '\0') {
		bad_option("--check-config", "expected a file");
		return EXIT_USAGE;
	}
	conf_defaults(&conf);
	if (conf_load(&conf, path, err, sizeof(err)) != 0) {
		fprintf(stderr, "crossings-ingest: %s\n", err);
		return EXIT_USAGE;
	}
	warn_if_password_readable(path, &conf);
	printf("%s: ok: node %s; checkpoints %u, scanners %u, UDP ports %u; "
	       "window %u s, capacity %u documents\n", path, conf.node,
	       conf.checkpoint_count, conf.scanner_count, conf.udp_port_count,
	       conf.window_s, conf.capacity);
	conf_free(&conf);
	return EXIT_SUCCESS;
}

int
main(int argc, char **argv)
{
	static struct ingest ing;
	static struct output output;
	struct options opts = { 0 };
	struct rte_mempool *pool;
	char err[512];
	uint16_t port, port_count, queues[RTE_MAX_ETHPORTS], rxd[RTE_MAX_ETHPORTS];
	unsigned int lcore, worker_lcore[WORKERS_MAX];
	unsigned int next_worker = 0, mbufs;
	double receiving_s;
	int rc, status = 0;
	/* Personal data never reaches a file (docs/deployment.md). */
	bool unlink_hugepages = keeps_hugepage_files(argc, argv);
	const struct rlimit no_core = { 0, 0 };

	/* A reload asked for while the node starts (systemd takes a unit
	 * of Type=simple as started at once) must not end it, as SIGUSR2's
	 * default would: it is done when the control loop begins. */
	signal(SIGUSR2, on_reload);
	/* Asked alone, as of any program; "-- --version" works too. */
	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		print_version();
		return EXIT_SUCCESS;
	}
	if (argc == 3 && strcmp(argv[1], "--check-config") == 0)
		return check_config(argv[2]);
	/* A core dump would hold the packets and records being parsed. */
	if (setrlimit(RLIMIT_CORE, &no_core) != 0) {
		perror("crossings-ingest: setrlimit(RLIMIT_CORE)");
		return EXIT_FAILURE;
	}
	if (unlink_hugepages) {
		argv = with_huge_unlink(argc, argv);
		if (argv == NULL) {
			fprintf(stderr, "crossings-ingest: out of memory\n");
			return EXIT_FAILURE;
		}
		argc++;
	}
	/* Logs go to stderr: stdout carries the counts with --no-redis. */
	rte_openlog_stream(stderr);
	rte_set_application_usage_hook(usage_after_eal);
	rc = rte_eal_init(argc, argv);
	if (rc < 0) {
		fprintf(stderr, "crossings-ingest: EAL: %s\n", rte_strerror(rte_errno));
		return EXIT_USAGE;
	}
	argc -= rc;
	argv += rc;
	argv[0] = "crossings-ingest";
	if (unlink_hugepages)
		INGEST_LOG(INFO, "EAL --huge-unlink: no hugepage file keeps packets "
			   "after the process ends");
	if (parse_options(argc, argv, &opts) != 0)
		goto usage_error;

	conf_defaults(&ing.conf);
	if (opts.config != NULL &&
	    conf_load(&ing.conf, opts.config, err, sizeof(err)) != 0) {
		fprintf(stderr, "crossings-ingest: %s\n", err);
		goto usage_error;
	}
	if (opts.config != NULL)
		warn_if_password_readable(opts.config, &ing.conf);
	/* Keys beyond what the tables hold only push each other out: the
	 * same full table, after as long a fill as asked for. */
	if (opts.dedup_prefill > ing.conf.capacity) {
		snprintf(err, sizeof(err), "expected at most the [dedup] capacity, %" PRIu32,
			 ing.conf.capacity);
		bad_option("--dedup-prefill", err);
		goto usage_error;
	}
	if (opts.redis != NULL && apply_redis_option(&ing.conf, opts.redis) != 0)
		goto usage_error;
	for (unsigned int i = 0; i < ing.conf.udp_port_count; i++)
		wire_ports_add(&ing.ports, ing.conf.udp_ports[i]);
	ing.record_cycles = opts.record_cycles;

	RTE_LCORE_FOREACH_WORKER(lcore) {
		if (ing.worker_count == WORKERS_MAX) {
			bad_option("EAL -l", "at most " RTE_STR(WORKERS_MAX)
				   " worker lcores besides the main one");
			goto usage_error;
		}
		worker_lcore[ing.worker_count++] = lcore;
	}
	if (ing.worker_count == 0) {
		bad_option("EAL -l", "needs a worker lcore besides the main one, "
			   "e.g. -l 0,1");
		goto usage_error;
	}
	port_count = rte_eth_dev_count_avail();
	if (port_count == 0) {
		bad_option("EAL", "no port: give one with --vdev or a PCI address "
			   "(a --vdev whose capture file or interface cannot be "
			   "opened gives none)");
		goto usage_error;
	}

	/* Before a port starts: no record is read into a page that could
	 * be written to swap. Restarting would not help: exit 2. */
	if (lock_memory() != 0)
		goto usage_error;

	/* Enough mbufs for every descriptor of every queue, as many as
	 * each port takes (it may round RX_DESC up to its limits), plus
	 * each lcore's cache and a burst in flight. */
	mbufs = 0;
	RTE_ETH_FOREACH_DEV(port) {
		struct rte_eth_dev_info info;
		uint16_t txd = 0;

		rxd[port] = RX_DESC;
		if (rte_eth_dev_info_get(port, &info) != 0 ||
		    rte_eth_dev_adjust_nb_rx_tx_desc(port, &rxd[port], &txd) != 0)
			queues[port] = 0;
		else
			queues[port] = port_queue_count(&info, ing.worker_count);
		mbufs += queues[port] * rxd[port];
	}
	mbufs += (ing.worker_count + 1) * (MBUF_CACHE + 64) + 1024;
	if (opts.mbufs != 0)
		mbufs = opts.mbufs;
	pool = rte_pktmbuf_pool_create("mbufs", mbufs, MBUF_CACHE, 0,
				       RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
	if (pool == NULL) {
		fprintf(stderr, "crossings-ingest: cannot allocate %u mbufs "
			"(%u MiB): give the EAL more memory (-m, --socket-mem, "
			"hugepages), or fewer queues or --mbufs\n", mbufs,
			(unsigned int)((uint64_t)mbufs * (RTE_MBUF_DEFAULT_BUF_SIZE + 192) >> 20));
		goto usage_error;
	}
	INGEST_LOG(INFO, "%u worker lcores, %u ports, mempool %u mbufs of %u B",
		   ing.worker_count, port_count, mbufs, RTE_MBUF_DEFAULT_BUF_SIZE);

	ing.timestamp_offset = -1;
	if (rte_mbuf_dyn_rx_timestamp_register(&ing.timestamp_offset,
					       &ing.timestamp_flag) != 0)
		ing.timestamp_offset = -1;
	if (dedup_secret_draw(&ing.secret) != 0) {
		fprintf(stderr, "crossings-ingest: no random source for the "
			"deduplication secret\n");
		return EXIT_FAILURE;
	}
	ing.registry = registry_create(&ing.conf, rte_socket_id());
	if (ing.registry == NULL) {
		fprintf(stderr, "crossings-ingest: scanner registry: %s\n",
			rte_strerror(rte_errno));
		goto usage_error;
	}
	if (registry_readers_create(&ing) != 0) {
		fprintf(stderr, "crossings-ingest: out of memory\n");
		goto usage_error;
	}
	for (unsigned int i = 0; i < ing.worker_count; i++) {
		ing.workers[i] = worker_create(&ing, i, worker_lcore[i]);
		if (ing.workers[i] == NULL) {
			fprintf(stderr, "crossings-ingest: cannot allocate the "
				"tables of worker %u ([dedup] capacity = %u): give "
				"the EAL more memory (-m, --socket-mem, hugepages)\n",
				i, ing.conf.capacity);
			goto usage_error;
		}
	}
	RTE_ETH_FOREACH_DEV(port) {
		rc = port_setup(&ing, port, queues[port], rxd[port], pool, &next_worker);
		if (rc != 0) {
			fprintf(stderr, "crossings-ingest: port %u: %s\n", port,
				strerror(-rc));
			goto usage_error;
		}
	}
	log_worker_queues(&ing, worker_lcore);
	/* Redis refusing us is a configuration error; Redis away is not. */
	rc = output_init(&output, &ing, !opts.no_redis, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "crossings-ingest: %s\n", err);
		goto usage_error;
	}
	ing.output = &output;
	prefill(&ing, opts.dedup_prefill);
	if (stats_telemetry_register(&ing) != 0)
		INGEST_LOG(WARNING, "telemetry command /crossings/stats not registered");

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	/* A hangup (the terminal of a run by hand closing) would end the
	 * process where it stands, with what it counted since the last
	 * flush: it stops cleanly instead. Under nohup it stays ignored. */
	if (signal(SIGHUP, SIG_IGN) != SIG_IGN)
		signal(SIGHUP, on_signal);
	/* A Redis that goes away mid-write is an error to handle, not a
	 * reason to die. */
	signal(SIGPIPE, SIG_IGN);
	for (unsigned int i = 0; i < ing.worker_count; i++)
		rte_eal_remote_launch(worker_main, ing.workers[i], worker_lcore[i]);

	receiving_s = control_loop(&ing, &opts, &output);

	/* Teardown as l3fwd: workers, final stats, ports, pools, then the
	 * last flush (or the JSON). */
	stop_workers(&ing);
	stats_line(&ing, "final", receiving_s, NULL);
	RTE_ETH_FOREACH_DEV(port) {
		port_summary(port);
		rte_eth_dev_stop(port);
		rte_eth_dev_close(port);
	}
	/* With the ports closed every mbuf is back: one missing was lost
	 * on the data path. */
	if (!rte_mempool_full(pool))
		INGEST_LOG(WARNING, "%u mbufs never came back to the pool",
			   rte_mempool_in_use_count(pool));
	rte_mempool_free(pool);
	if (output_finish(&output, &ing) != 0) {
		if (opts.no_redis)
			fprintf(stderr, "crossings-ingest: cannot write the counts\n");
		status = EXIT_FAILURE;
	}
	ing.output = NULL;
	release(&ing, &output);
	return status;

usage_error:
	release(&ing, &output);
	return EXIT_USAGE;
}
