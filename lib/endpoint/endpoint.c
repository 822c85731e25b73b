/* SPDX-License-Identifier: BSD-3-Clause */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "endpoint.h"

static int
set_text(char *dst, size_t size, const char *src, size_t len)
{
	if (len == 0 || len >= size)
		return -EINVAL;
	memcpy(dst, src, len);
	dst[len] = '\0';
	return 0;
}

int
endpoint_parse(struct endpoint *e, const char *text)
{
	const char *host = text, *host_end, *port;
	unsigned long n;
	char *end;

	memset(e, 0, sizeof(*e));
	if (strncmp(text, "unix:", 5) == 0)
		return set_text(e->unix_path, sizeof(e->unix_path), text + 5,
				strlen(text + 5));
	if (text[0] == '[') {
		host++;
		host_end = strchr(host, ']');
		if (host_end == NULL || host_end[1] != ':')
			return -EINVAL;
		port = host_end + 2;
	} else {
		host_end = strrchr(text, ':');
		if (host_end == NULL)
			return -EINVAL;
		port = host_end + 1;
	}
	if (set_text(e->host, sizeof(e->host), host, (size_t)(host_end - host)) != 0)
		return -EINVAL;
	/* strtoul would take a sign or leading blanks. */
	if (*port < '0' || *port > '9')
		return -ERANGE;
	errno = 0;
	n = strtoul(port, &end, 10);
	if (*end != '\0' || errno != 0 || n == 0 || n > 65535)
		return -ERANGE;
	e->port = (uint16_t)n;
	return 0;
}
