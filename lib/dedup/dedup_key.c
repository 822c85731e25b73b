/* SPDX-License-Identifier: BSD-3-Clause */

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "dedup_key.h"

int
dedup_secret_draw(struct dedup_secret *secret)
{
	ssize_t n = getrandom(secret, sizeof(*secret), 0);

	return n == (ssize_t)sizeof(*secret) ? 0 : -EIO;
}

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

/*
 * SipHash-1-3: one round per message word, three to finish. Inlined, so
 * that a key of constant length becomes straight-line code with the
 * state in registers.
 */
struct sip {
	uint64_t v0, v1, v2, v3;
};

static inline __attribute__((always_inline)) void
sip_round(struct sip *s)
{
	uint64_t v0 = s->v0, v1 = s->v1, v2 = s->v2, v3 = s->v3;

	v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);
	v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;
	v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;
	v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);
	*s = (struct sip){ v0, v1, v2, v3 };
}

static inline __attribute__((always_inline)) struct sip
sip_start(const struct dedup_secret *secret)
{
	return (struct sip){
		.v0 = secret->k0 ^ UINT64_C(0x736f6d6570736575),
		.v1 = secret->k1 ^ UINT64_C(0x646f72616e646f6d),
		.v2 = secret->k0 ^ UINT64_C(0x6c7967656e657261),
		.v3 = secret->k1 ^ UINT64_C(0x7465646279746573),
	};
}

static inline __attribute__((always_inline)) void
sip_word(struct sip *s, uint64_t m)
{
	s->v3 ^= m;
	sip_round(s);
	s->v0 ^= m;
}

/* last: the message's tail bytes, its length in the top byte. */
static inline __attribute__((always_inline)) uint64_t
sip_finish(struct sip *s, uint64_t last)
{
	sip_word(s, last);
	s->v2 ^= 0xff;
	sip_round(s);
	sip_round(s);
	sip_round(s);
	return s->v0 ^ s->v1 ^ s->v2 ^ s->v3;
}

static inline uint64_t
load_le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

static inline __attribute__((always_inline)) uint64_t
siphash13(const struct dedup_secret *secret, const void *data, size_t len)
{
	const uint8_t *p = data, *end = p + (len & ~(size_t)7);
	struct sip s = sip_start(secret);
	uint64_t last = (uint64_t)len << 56;

	for (; p != end; p += 8)
		sip_word(&s, load_le64(p));
	for (size_t i = 0; i < (len & 7); i++)
		last |= (uint64_t)p[i] << (8 * i);
	return sip_finish(&s, last);
}

uint64_t
dedup_siphash(const struct dedup_secret *secret, const void *data, size_t len)
{
	return siphash13(secret, data, len);
}

/* Little-endian loads of 1, 2 and 4 bytes, each one load. */
static inline uint64_t
load_le8(const void *p)
{
	return *(const uint8_t *)p;
}

static inline uint64_t
load_le16(const void *p)
{
	const uint8_t *b = p;

	return (uint64_t)b[0] | (uint64_t)b[1] << 8;
}

static inline uint64_t
load_le32(const void *p)
{
	return load_le16(p) | load_le16((const uint8_t *)p + 2) << 16;
}

/*
 * SipHash-1-3 over message words and a last block of up to 7 bytes, for
 * keys laid out in registers: bytes stored one field at a time and read
 * back as words would stall the loads (no store forwarding across
 * several stores). *words_hash receives a hash of the words alone: the
 * state after them, folded and multiplied so that a difference in any
 * of its bits reaches the high ones.
 */
static inline __attribute__((always_inline)) uint64_t
siphash13_words(const struct dedup_secret *secret, const uint64_t *w,
		size_t n, uint64_t tail, uint64_t *words_hash)
{
	struct sip s = sip_start(secret);

	for (size_t i = 0; i < n; i++)
		sip_word(&s, w[i]);
	*words_hash = (s.v0 ^ s.v1 ^ s.v2 ^ s.v3) * UINT64_C(0x9e3779b97f4a7c15);
	return sip_finish(&s, tail | (uint64_t)(8 * n + 7) << 56);
}

/* The scope, in the message's last block (whose eighth byte is the
 * length): the checkpoint's low six bytes, which keep every value
 * callers pass apart (an index, AGG_CHECKPOINT_UNNAMED | id, or
 * UINT64_MAX for any checkpoint), and the direction. A message of whole
 * words would need a block of the length alone: a SipHash round more. */
#define CHECKPOINT_BYTES UINT64_C(0x0000ffffffffffff)

uint64_t
dedup_document_key(const struct dedup_secret *secret,
		   const struct mrz_fields *doc, uint64_t checkpoint,
		   uint8_t direction, uint64_t *document_hash)
{
	/*
	 * Fixed places and the number's length, so distinct documents
	 * never make the same words. The fields are NUL-padded (mrz.h):
	 * fixed-size loads need no length. The document comes first, so
	 * that the state after it is a hash of the document alone.
	 */
	const char *number = doc->document_number;
	uint64_t scope = (checkpoint & CHECKPOINT_BYTES) | (uint64_t)direction << 48;
	uint64_t w[5] = {
		load_le32(doc->issuing_state) | load_le32(doc->nationality) << 32 |
			(uint64_t)doc->document_number_len << 56,
		load_le32(doc->birth_date) | load_le16(doc->birth_date + 4) << 32 |
			load_le16(number + 8) << 48,
		load_le64((const uint8_t *)number),
	};

	/* Numbers of up to 10 characters, all but long TD1/TD2 ones, fit
	 * in three words. */
	if (doc->document_number_len <= 10)
		return siphash13_words(secret, w, 3, scope, document_hash);
	w[3] = load_le64((const uint8_t *)number + 10);
	w[4] = load_le32(number + 18) | load_le8(number + 22) << 32;
	return siphash13_words(secret, w, 5, scope, document_hash);
}

uint64_t
dedup_frame_key(const struct dedup_secret *secret, uint32_t checkpoint,
		uint32_t scanner, uint32_t sequence)
{
	uint8_t buf[12];

	memcpy(buf, &checkpoint, 4);
	memcpy(buf + 4, &scanner, 4);
	memcpy(buf + 8, &sequence, 4);
	return siphash13(secret, buf, sizeof(buf));
}
