/* SPDX-License-Identifier: BSD-3-Clause */

#ifndef CHECK_RUN_H
#define CHECK_RUN_H

/* The main of every Check test program: run one suite, exit 0 or 1. */

#include <check.h>
#include <stdlib.h>

static inline int
check_run(Suite *suite)
{
	SRunner *sr = srunner_create(suite);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif /* CHECK_RUN_H */
