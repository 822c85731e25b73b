/* SPDX-License-Identifier: BSD-3-Clause */

#ifndef DEDUP_KEY_H
#define DEDUP_KEY_H

/**
 * @file
 * Deduplication keys: SipHash-1-3 of what identifies a document or a
 * frame, under a secret drawn at start. The key is all the tables keep,
 * so no document number outlives the parsing of its record, and nobody
 * without the secret can test whether a document was seen. Needs no EAL.
 */

#include <stddef.h>
#include <stdint.h>

#include "mrz.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The secret of a run. */
struct dedup_secret {
	uint64_t k0, k1;
};

/** Draw a secret from the kernel's random source; 0 or -errno. */
int dedup_secret_draw(struct dedup_secret *secret);

/**
 * SipHash-1-3 of data under a secret: the variant hash tables use
 * (Python, Rust), at about half the rounds of SipHash-2-4. A key
 * guards which documents were seen and spreads table buckets; it is
 * never a signature.
 */
uint64_t dedup_siphash(const struct dedup_secret *secret, const void *data,
		       size_t len);

/**
 * Key of a document within a scope: issuing state, document number,
 * nationality and birth date, plus the scope's context (checkpoint and
 * direction, or direction alone, as the caller passes them): a
 * checkpoint below 2^33, or UINT64_MAX for any checkpoint.
 *
 * document_hash receives a keyed hash of the document alone, the same
 * at every checkpoint and direction, its high bits spread evenly: a
 * node picks the lcore that owns a document by it, so that where a
 * scanner counts (which a reload may change) never moves a document's
 * records away from the tables that saw them before.
 */
uint64_t dedup_document_key(const struct dedup_secret *secret,
			    const struct mrz_fields *doc, uint64_t checkpoint,
			    uint8_t direction, uint64_t *document_hash);

/** Key of a framed record: (checkpoint, scanner, sequence) as sent. */
uint64_t dedup_frame_key(const struct dedup_secret *secret,
			 uint32_t checkpoint, uint32_t scanner,
			 uint32_t sequence);

#ifdef __cplusplus
}
#endif

#endif /* DEDUP_KEY_H */
