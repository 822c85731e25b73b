/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * bench-core: how much of its core the calling thread gets now.
 *
 * On a shared virtual machine a vCPU may be one hardware thread of a
 * core whose other thread runs someone else's work: the two then split
 * the core's execution units, and code that keeps many of them busy
 * (the worker's parsing and hashing) runs up to half as fast, while a
 * loop that mostly waits for memory (testpmd's) hardly notices. This
 * measures both sides of that:
 *
 * - one chain of dependent adds runs one add a cycle, however busy the
 *   other thread is: its rate is the clock;
 * - six independent chains run as many adds a cycle as the core's
 *   integer units give this thread: about 3 on a core with four ALUs
 *   to itself (six adds and the loop's two operations in two cycles),
 *   about half that when the other thread competes.
 *
 * Printed: adds per cycle and the clock, over SECONDS, half of them
 * each kind, taken in turns of an eighth. Benchmarks print it next to
 * their rates.
 *
 * usage: bench-core [SECONDS]	(default 1)
 */

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define ROUNDS 1000000

/*
 * The loops are written in assembly where we can, so that the compiler
 * adds no copies between the adds: each round is the adds, a decrement
 * and a branch.
 */
#if defined(__x86_64__)
static void
chain_block(void)
{
	unsigned long a = 0, n = ROUNDS;

	__asm__ volatile("1:\n\t"
			 "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\t"
			 "sub $1, %1\n\tjnz 1b"
			 : "+r"(a), "+r"(n));
}

static void
parallel_block(void)
{
	unsigned long a = 0, b = 0, c = 0, d = 0, e = 0, f = 0, n = ROUNDS;

	__asm__ volatile("1:\n\t"
			 "add $1, %0\n\tadd $1, %1\n\tadd $1, %2\n\t"
			 "add $1, %3\n\tadd $1, %4\n\tadd $1, %5\n\t"
			 "sub $1, %6\n\tjnz 1b"
			 : "+r"(a), "+r"(b), "+r"(c), "+r"(d), "+r"(e), "+r"(f),
			   "+r"(n));
}
#else
/* Elsewhere, opaque values keep the compiler from folding the adds. */
#define ADD1(x) do { (x)++; __asm__ volatile("" : "+r"(x)); } while (0)

static void
chain_block(void)
{
	unsigned long a = 0;

	for (int i = 0; i < ROUNDS; i++) {
		ADD1(a);
		ADD1(a);
		ADD1(a);
		ADD1(a);
	}
}

static void
parallel_block(void)
{
	unsigned long a = 0, b = 0, c = 0, d = 0, e = 0, f = 0;

	for (int i = 0; i < ROUNDS; i++) {
		ADD1(a);
		ADD1(b);
		ADD1(c);
		ADD1(d);
		ADD1(e);
		ADD1(f);
	}
}
#endif

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Adds per second of a block's rounds, run for about seconds. */
static double
rate(void (*block)(void), unsigned int adds_per_round, double seconds)
{
	double start = now_s(), t;
	unsigned long n = 0;

	do {
		block();
		n += (unsigned long)adds_per_round * ROUNDS;
	} while ((t = now_s() - start) < seconds);
	return (double)n / t;
}

int
main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 1.0;
	double clock = 0, parallel = 0;

	if (argc > 2 || !(seconds > 0 && seconds <= 3600)) {
		fprintf(stderr, "usage: bench-core [SECONDS]\n");
		return 2;
	}
	/* In turns, so that both see about the same neighbour. */
	for (int i = 0; i < 4; i++) {
		clock += rate(chain_block, 4, seconds / 8);
		parallel += rate(parallel_block, 6, seconds / 8);
	}
	printf("%.2f adds/cycle at %.2f GHz\n", parallel / clock, clock / 4 / 1e9);
	return 0;
}
