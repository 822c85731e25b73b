/* SPDX-License-Identifier: BSD-3-Clause */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_lpm.h>
#include <rte_lpm6.h>
#include <rte_malloc.h>

#include "registry.h"

/* A checkpoint id and the index of its section. */
struct registry_id {
	uint32_t id;
	uint32_t checkpoint;
};

struct registry {
	struct rte_lpm *lpm4;
	struct rte_lpm6 *lpm6;
	struct conf_scanner *scanners;	/* the lpm next hops index these */
	unsigned int id_count;
	struct registry_id ids[];	/* sorted by id */
};

static int
by_id(const void *a, const void *b)
{
	const struct registry_id *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

struct registry *
registry_create(const struct conf *conf, int socket_id)
{
	/* rte_lpm names are global to the process. */
	static unsigned int instance;
	unsigned int v4 = 0, v6 = 0, n = 0;
	struct registry *reg;
	char name[RTE_LPM_NAMESIZE];
	int rc = 0;

	reg = rte_zmalloc_socket("registry", sizeof(*reg) +
				 conf->checkpoint_count * sizeof(reg->ids[0]),
				 0, socket_id);
	if (reg != NULL)
		reg->scanners = rte_malloc_socket("registry_scanners",
			(conf->scanner_count + 1) * sizeof(reg->scanners[0]), 0,
			socket_id);
	if (reg == NULL || reg->scanners == NULL) {
		registry_free(reg);
		rte_errno = ENOMEM;
		return NULL;
	}
	/* Without a file there are no scanners, nor an array of them. */
	if (conf->scanner_count > 0)
		memcpy(reg->scanners, conf->scanners,
		       conf->scanner_count * sizeof(reg->scanners[0]));
	for (unsigned int i = 0; i < conf->checkpoint_count; i++)
		if (conf->checkpoints[i].has_id)
			reg->ids[n++] = (struct registry_id){
				conf->checkpoints[i].id, i };
	qsort(reg->ids, n, sizeof(reg->ids[0]), by_id);
	reg->id_count = n;

	for (unsigned int i = 0; i < conf->scanner_count; i++) {
		if (conf->scanners[i].family == 4)
			v4++;
		else
			v6++;
	}
	instance++;
	if (v4) {
		struct rte_lpm_config c = {
			.max_rules = v4, .number_tbl8s = v4 < 256 ? 256 : v4,
		};

		snprintf(name, sizeof(name), "registry4_%u", instance);
		reg->lpm4 = rte_lpm_create(name, socket_id, &c);
		if (reg->lpm4 == NULL)
			goto fail;
	}
	if (v6) {
		struct rte_lpm6_config c = {
			.max_rules = v6, .number_tbl8s = v6 * 16 < 256 ? 256 : v6 * 16,
		};

		snprintf(name, sizeof(name), "registry6_%u", instance);
		reg->lpm6 = rte_lpm6_create(name, socket_id, &c);
		if (reg->lpm6 == NULL)
			goto fail;
	}
	for (unsigned int i = 0; i < conf->scanner_count && rc == 0; i++) {
		const struct conf_scanner *s = &conf->scanners[i];

		if (s->family == 4) {
			uint32_t ip;

			memcpy(&ip, s->addr, 4);
			rc = rte_lpm_add(reg->lpm4, rte_be_to_cpu_32(ip),
					 s->prefix_len, i);
		} else {
			rc = rte_lpm6_add(reg->lpm6, s->addr, s->prefix_len, i);
		}
	}
	if (rc == 0)
		return reg;
	rte_errno = -rc;
fail:
	registry_free(reg);
	return NULL;
}

void
registry_free(struct registry *reg)
{
	if (reg == NULL)
		return;
	rte_lpm_free(reg->lpm4);
	rte_lpm6_free(reg->lpm6);
	rte_free(reg->scanners);
	rte_free(reg);
}

const struct conf_scanner *
registry_scanner(const struct registry *reg, uint8_t family,
		 const uint8_t addr[16])
{
	uint32_t hop;

	if (family == 4) {
		uint32_t ip;

		memcpy(&ip, addr, 4);
		if (reg->lpm4 != NULL &&
		    rte_lpm_lookup(reg->lpm4, rte_be_to_cpu_32(ip), &hop) == 0)
			return &reg->scanners[hop];
	} else if (reg->lpm6 != NULL && rte_lpm6_lookup(reg->lpm6, addr, &hop) == 0) {
		return &reg->scanners[hop];
	}
	return NULL;
}

int
registry_checkpoint(const struct registry *reg, uint32_t id)
{
	unsigned int lo = 0, hi = reg->id_count;

	while (lo < hi) {
		unsigned int mid = (lo + hi) / 2;

		if (reg->ids[mid].id == id)
			return reg->ids[mid].checkpoint;
		if (reg->ids[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}
