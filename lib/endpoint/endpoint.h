/* SPDX-License-Identifier: BSD-3-Clause */

#ifndef ENDPOINT_H
#define ENDPOINT_H

/**
 * @file
 * Where a Redis listens, as both programs take it on their command
 * line (`--redis`): HOST:PORT, [IPV6]:PORT, or unix:PATH. A bare IPv6
 * address takes its last colon as the port's (`::1:6379`); brackets
 * make the split plain, as in URLs. Needs no EAL.
 */

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct endpoint {
	char host[256];		/**< empty with unix_path */
	uint16_t port;
	char unix_path[108];	/**< set: a unix socket; sun_path's size */
};

/**
 * Reads an endpoint.
 *
 * @return 0; -EINVAL when text is none of the three forms, or a host
 *   or path is empty or too long; -ERANGE when the port is not 1..65535.
 */
int endpoint_parse(struct endpoint *e, const char *text);

#ifdef __cplusplus
}
#endif

#endif /* ENDPOINT_H */
