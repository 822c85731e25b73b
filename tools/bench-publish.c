/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * bench-publish HOST:PORT|[IPV6]:PORT|unix:PATH [FIELDS...]: the latency of one
 * flush of each size, as crossings-ingest sends it (one EVALSHA, one
 * round trip): median and maximum of 50 flushes per size.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "endpoint.h"
#include "publish.h"

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
	static const unsigned int default_sizes[] = { 100, 1000, 10000 };
	struct conf_redis r = { .timeout_ms = 10000 };
	enum { ROUNDS = 50 };
	char err[512], run[32];
	struct endpoint e;

	if (argc < 2 || endpoint_parse(&e, argv[1]) != 0) {
		fprintf(stderr, "usage: bench-publish HOST:PORT|[IPV6]:PORT|unix:PATH "
			"[FIELDS...]\n");
		return 2;
	}
	conf_redis_set_endpoint(&r, &e);
	snprintf(run, sizeof(run), "bench-%ld", (long)time(NULL));
	for (int s = 0; s < (argc > 2 ? argc - 2 : 3); s++) {
		unsigned int fields = argc > 2 ? (unsigned int)atoi(argv[s + 2]) :
			default_sizes[s];
		struct publish *p = publish_create(&r, "bench", run, "bench");
		double lat[ROUNDS];

		if (publish_connect(p, err, sizeof(err)) != 0) {
			fprintf(stderr, "bench-publish: %s\n", err);
			return 2;
		}
		for (int i = 0; i < ROUNDS; i++) {
			struct agg_increment *inc = calloc(fields, sizeof(*inc));
			struct publish_stats st;

			/* Fields spread as a busy node's: 24 hours x checkpoints. */
			for (unsigned int f = 0; f < fields; f++) {
				snprintf(inc[f].key, sizeof(inc[f].key),
					 "crossings:bench-%u:exit:h:20220927%02u", f % 7, f % 24);
				snprintf(inc[f].field, sizeof(inc[f].field), "x:R%02u:M:%u",
					 f / 168 % 100, f / 168 / 100);
				inc[f].n = 1;
			}
			/* Distinct and sorted, as agg_expand() gives them. */
			qsort(inc, fields, sizeof(*inc), (int (*)(const void *, const void *))strcmp);
			publish_submit(p, inc, fields, NULL, 0, (int64_t)now_ms());
			if (publish_run(p, (int64_t)now_ms(), err, sizeof(err)) != 0) {
				fprintf(stderr, "bench-publish: %s\n", err);
				return 1;
			}
			publish_stats(p, &st);
			lat[i] = st.last_latency_ms;
		}
		qsort(lat, ROUNDS, sizeof(lat[0]), by_value);
		printf("flush of %5u fields: median %7.2f ms, max %7.2f ms (%d flushes, "
		       "one EVALSHA each)\n", fields, lat[ROUNDS / 2], lat[ROUNDS - 1], ROUNDS);
		publish_free(p);
	}
	return 0;
}
