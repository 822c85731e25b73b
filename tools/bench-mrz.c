/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * bench-mrz: parse and validate a realistic mix of records in a loop on
 * one core; prints records/s and ns/record for the data-path entry point
 * (mrz_check) and the full parser (mrz_parse).
 *
 *   bench-mrz [SECONDS-PER-FIGURE]
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mrz.h"

#define RECORDS 4096	/* distinct records, cycled: they stay in cache */

struct sample {
	char text[100];
	int len;
};

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t
rng(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void
random_chars(char *out, size_t n, const char *alphabet)
{
	size_t k = strlen(alphabet);

	for (size_t i = 0; i < n; i++)
		out[i] = alphabet[rng() % k];
	out[n] = '\0';
}

/* A valid record: share_td1 percent TD1 cards, the rest TD3 passports. */
static void
make_sample(struct sample *s, unsigned int share_td1)
{
	static const char *const states[] = {
		"RUS", "RUS", "RUS", "RUS", "KAZ", "GEO", "FIN", "D", "UKR", "BLR"
	};
	char number[10], surname[16], given[12], birth[7], expiry[7];
	int td1 = rng() % 100 < share_td1;
	const char *state = states[rng() % 10];
	struct mrz_compose_params p = {
		.format = td1 ? MRZ_FORMAT_TD1 : MRZ_FORMAT_TD3,
		.document_code = td1 ? "ID" : "P",
		.issuing_state = state,
		.nationality = state,
		.surname = surname,
		.given_names = given,
		.document_number = number,
		.birth_date = birth,
		.expiry_date = expiry,
		.sex = rng() % 2 ? 'M' : 'F',
		.optional_data = "",
	};

	random_chars(number, 9, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ");
	random_chars(surname, 4 + rng() % 10, "ABCDEFGHIJKLMNOPQRSTUVWXYZ");
	random_chars(given, 3 + rng() % 8, "ABCDEFGHIJKLMNOPQRSTUVWXYZ");
	snprintf(birth, sizeof(birth), "%02u%02u%02u",
		 (unsigned int)(rng() % 100), (unsigned int)(1 + rng() % 12),
		 (unsigned int)(1 + rng() % 28));
	snprintf(expiry, sizeof(expiry), "%02u%02u%02u",
		 (unsigned int)(25 + rng() % 10), (unsigned int)(1 + rng() % 12),
		 (unsigned int)(1 + rng() % 28));
	s->len = mrz_compose(&p, "\n", s->text, sizeof(s->text));
	if (s->len < 0) {
		fprintf(stderr, "bench-mrz: cannot compose a sample\n");
		exit(1);
	}
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void
run(const char *what, const struct sample *samples, int full, double seconds)
{
	uint64_t done = 0, valid = 0;
	double start = now(), elapsed;
	struct mrz_fields f;
	struct mrz_record r;

	do {
		for (int rep = 0; rep < 64; rep++)
			for (int i = 0; i < RECORDS; i++) {
				uint32_t e = full ?
					mrz_parse(samples[i].text,
						  (size_t)samples[i].len, &r) :
					mrz_check(samples[i].text,
						  (size_t)samples[i].len, &f);

				valid += e == 0;
			}
		done += 64 * RECORDS;
		elapsed = now() - start;
	} while (elapsed < seconds);
	if (valid != done) {
		fprintf(stderr, "bench-mrz: %s: %llu of %llu records invalid\n",
			what, (unsigned long long)(done - valid),
			(unsigned long long)done);
		exit(1);
	}
	printf("%-34s %8.2f M records/s  %6.1f ns/record\n", what,
	       (double)done / elapsed / 1e6, elapsed * 1e9 / (double)done);
}

int
main(int argc, char **argv)
{
	static struct sample td3[RECORDS], mix[RECORDS];
	double seconds = argc > 1 ? atof(argv[1]) : 2.0;

	if (seconds <= 0) {
		fprintf(stderr, "usage: %s [SECONDS-PER-FIGURE]\n", argv[0]);
		return 2;
	}
	for (int i = 0; i < RECORDS; i++) {
		make_sample(&td3[i], 0);
		make_sample(&mix[i], 20);
	}
	printf("bench-mrz: %d distinct records, one core, %.1f s per figure\n",
	       RECORDS, seconds);
	run("mrz_check TD3", td3, 0, seconds);
	run("mrz_check 80% TD3 + 20% TD1", mix, 0, seconds);
	run("mrz_parse TD3 (names too)", td3, 1, seconds);
	run("mrz_parse 80% TD3 + 20% TD1", mix, 1, seconds);
	return 0;
}
