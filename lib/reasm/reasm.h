/* SPDX-License-Identifier: BSD-3-Clause */

#ifndef REASM_H
#define REASM_H

/**
 * @file
 * Raw MRZ text into records (docs/wire.md, form 2). Serial-device
 * servers may send a record whole, several per datagram, or one line
 * per datagram; lines of one source (address and port) are joined in
 * arrival order. The first line's length says how many lines make the
 * record (30: three, 36 or 44: two); a line of 72, 88 or 90 characters
 * is a record written without separators. A partial record older than
 * the timeout, in event time, is dropped as incomplete.
 *
 * One reassembler belongs to one lcore. Memory is bounded: at most
 * max_sources partial records of at most three lines are held. Needs
 * no EAL.
 */

#include <stdint.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Where raw text came from. */
struct reasm_source {
	uint8_t family;			/**< 4 or 6 */
	uint8_t addr[16];
	uint16_t port;
};

/** The longest line that can be part of a record of several lines. */
#define REASM_LINE_MAX 44

/** The longest record a reassembler joins: three lines of 44 and LFs.
 * A line that joins nothing is passed on in place, however long. */
#define REASM_RECORD_MAX (3 * REASM_LINE_MAX + 2)

/** Receives each record (lines joined by LF) and its event time. */
typedef void (*reasm_record_fn)(void *arg, const uint8_t *record,
				size_t len, int64_t time_ms);

struct reasm;

/**
 * Create a reassembler.
 *
 * @param max_sources
 *   Partial records held at most; beyond, a new one is incomplete.
 * @param timeout_ms
 *   Event time after its first line at which a partial record is
 *   dropped as incomplete.
 * @return
 *   The reassembler, or NULL with errno = ENOMEM.
 */
struct reasm *reasm_create(uint32_t max_sources, int64_t timeout_ms,
			   reasm_record_fn emit, void *arg);

/** Frees a reassembler; NULL is accepted. */
void reasm_free(struct reasm *r);

/**
 * Feed the raw text of one datagram.
 *
 * @return
 *   The number of partial records dropped as incomplete meanwhile.
 */
unsigned int reasm_datagram(struct reasm *r, const struct reasm_source *src,
			    int64_t time_ms, const uint8_t *payload, size_t len);

/**
 * Drop partial records whose first line is older than the timeout
 * before now_ms; with now_ms = INT64_MAX, drop them all (at shutdown).
 *
 * @return
 *   The number dropped as incomplete.
 */
unsigned int reasm_expire(struct reasm *r, int64_t now_ms);

/** Returns 1 when a partial record of src is held, else 0. */
int reasm_has_partial(struct reasm *r, const struct reasm_source *src);

/** Partial records held now. */
uint32_t reasm_pending(const struct reasm *r);

#ifdef __cplusplus
}
#endif

#endif /* REASM_H */
