/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * libFuzzer target: the configuration file, read by conf_load() (and
 * rte_cfgfile under it) from any bytes. docs/configuration.md promises
 * that any error is one line naming the file and, where there is one,
 * its line and key, and that a file that loads is consistent: every
 * scanner's checkpoint exists, names are [a-z0-9-], the bands start at
 * 0. Anything else aborts; LeakSanitizer checks conf_free().
 *
 * The input is the file, written to a memfd so that no file is left
 * behind.
 */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "conf.h"

static bool
name_ok(const char *name)
{
	if (name[0] == '\0')
		return false;
	for (const char *p = name; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
			return false;
	return true;
}

static void
check_loaded(const struct conf *conf)
{
	if (conf->udp_port_count == 0 || conf->udp_port_count > CONF_PORTS_MAX ||
	    conf->window_s == 0 || conf->bands.count == 0 ||
	    conf->bands.lower[0] != 0)
		abort();
	for (unsigned int i = 0; i < conf->checkpoint_count; i++)
		if (!name_ok(conf->checkpoints[i].name))
			abort();
	for (unsigned int i = 0; i < conf->scanner_count; i++) {
		const struct conf_scanner *s = &conf->scanners[i];

		if (s->checkpoint >= conf->checkpoint_count ||
		    (s->family != 4 && s->family != 6) ||
		    s->prefix_len > (s->family == 4 ? 32 : 128))
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64], err[512] = "";
	struct conf conf;
	int fd = memfd_create("crossings.ini", 0), rc;

	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	conf_defaults(&conf);
	rc = conf_load(&conf, path, err, sizeof(err));
	if (rc == 0) {
		check_loaded(&conf);
	} else if (!(rc == -EINVAL || rc == -ENOMEM) ||
		   strncmp(err, path, strlen(path)) != 0 ||
		   strchr(err, '\n') != NULL) {
		abort();
	}
	conf_free(&conf);
	close(fd);
	return 0;
}
