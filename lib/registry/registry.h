/* SPDX-License-Identifier: BSD-3-Clause */

#ifndef REGISTRY_H
#define REGISTRY_H

/**
 * @file
 * The scanner registry: which configured scanner a source address
 * belongs to (exact address or CIDR prefix, longest prefix wins, with
 * rte_lpm and rte_lpm6), and which configured checkpoint a numeric id
 * names. Read-only once created, so every lcore may look up at once.
 * It holds its own copy of the scanners, so that a reload can build a
 * new registry while lcores still look up in the old one.
 */

#include <stdint.h>

#include "conf.h"

#ifdef __cplusplus
extern "C" {
#endif

struct registry;

/**
 * Build the registry of a configuration. Needs the EAL.
 *
 * @return
 *   The registry, or NULL with rte_errno set (ENOMEM, EINVAL).
 */
struct registry *registry_create(const struct conf *conf, int socket_id);

/** Frees a registry; NULL is accepted. */
void registry_free(struct registry *reg);

/**
 * The scanner of a source address.
 *
 * @param family
 *   4 or 6.
 * @param addr
 *   The address in network byte order (IPv4 in the first 4 bytes).
 * @return
 *   The most specific match, the registry's copy of its conf.scanners
 *   entry (valid while the registry is), or NULL.
 */
const struct conf_scanner *registry_scanner(const struct registry *reg,
					    uint8_t family,
					    const uint8_t addr[16]);

/** Returns the index into conf.checkpoints with that id, or -1. */
int registry_checkpoint(const struct registry *reg, uint32_t id);

#ifdef __cplusplus
}
#endif

#endif /* REGISTRY_H */
