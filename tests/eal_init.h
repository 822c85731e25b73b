/* SPDX-License-Identifier: BSD-3-Clause */

#ifndef EAL_INIT_H
#define EAL_INIT_H

/* EAL for a test binary: no hugepages, no PCI, a prefix of its own so
 * that parallel runs never collide. The EAL initialises once per
 * process, so these suites run with CK_FORK=no. No shared files and no
 * telemetry socket: the runtime directory the EAL makes for the prefix
 * stays empty, and goes at exit (the EAL leaves it behind). */

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <rte_eal.h>

static inline void
remove_runtime_dir(void)
{
	rmdir(rte_eal_get_runtime_dir());
}

static inline void
eal_init_for_test(const char *name)
{
	char prefix[64];
	char *argv[] = { (char *)name, "--no-huge", "-m", "256", "--no-pci",
		"--no-shconf", "--no-telemetry", "-l", "0", "--log-level",
		"lib.eal:error", "--file-prefix", prefix, NULL };

	snprintf(prefix, sizeof(prefix), "%s-%d", name, (int)getpid());
	setenv("CK_FORK", "no", 1);
	if (rte_eal_init(sizeof(argv) / sizeof(argv[0]) - 1, argv) < 0) {
		fprintf(stderr, "%s: EAL initialisation failed\n", name);
		exit(EXIT_FAILURE);
	}
	atexit(remove_runtime_dir);
}

#endif /* EAL_INIT_H */
