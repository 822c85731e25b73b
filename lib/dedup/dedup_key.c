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
#define SIPROUND do { \
	v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32); \
	v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2; \
	v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0; \
	v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32); \
} while (0)

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

/*
 * SipHash-1-3: one round per message word, three to finish. Inlined, so
 * that a key of constant length becomes straight-line code.
 */
static inline __attribute__((always_inline)) uint64_t
siphash13(const struct dedup_secret *secret, const void *data, size_t len)
{
	const uint8_t *p = data, *end = p + (len & ~(size_t)7);
	uint64_t v0 = secret->k0 ^ UINT64_C(0x736f6d6570736575);
	uint64_t v1 = secret->k1 ^ UINT64_C(0x646f72616e646f6d);
	uint64_t v2 = secret->k0 ^ UINT64_C(0x6c7967656e657261);
	uint64_t v3 = secret->k1 ^ UINT64_C(0x7465646279746573);
	uint64_t m, b = (uint64_t)len << 56;

	for (; p != end; p += 8) {
		m = load_le64(p);
		v3 ^= m;
		SIPROUND;
		v0 ^= m;
	}
	for (size_t i = 0; i < (len & 7); i++)
		b |= (uint64_t)p[i] << (8 * i);
	v3 ^= b;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

uint64_t
dedup_siphash(const struct dedup_secret *secret, const void *data, size_t len)
{
	return siphash13(secret, data, len);
}

/* Where the parts of a document key sit in the hashed bytes. */
enum {
	DOC_DIRECTION = 0,
	DOC_STATE = 1,
	DOC_NATIONALITY = 4,
	DOC_BIRTH = 7,
	DOC_NUMBER_LEN = 13,
	DOC_CHECKPOINT = 14,
	DOC_NUMBER = 22,
	/* Numbers of up to 10 characters (all but long TD1/TD2 ones) fit
	 * in four message words, the rest in six. */
	DOC_SHORT = 32,
	DOC_LONG = 48,
};

uint64_t
dedup_document_key(const struct dedup_secret *secret,
		   const struct mrz_fields *doc, uint64_t checkpoint,
		   uint8_t direction)
{
	/* Fixed offsets and the number's length, so distinct documents
	 * never make the same bytes. The fields are NUL-padded (mrz.h),
	 * so fixed-size copies need no length. */
	uint8_t buf[DOC_LONG];

	buf[DOC_DIRECTION] = direction;
	memcpy(buf + DOC_STATE, doc->issuing_state, 3);
	memcpy(buf + DOC_NATIONALITY, doc->nationality, 3);
	memcpy(buf + DOC_BIRTH, doc->birth_date, 6);
	buf[DOC_NUMBER_LEN] = doc->document_number_len;
	memcpy(buf + DOC_CHECKPOINT, &checkpoint, 8);
	if (doc->document_number_len <= DOC_SHORT - DOC_NUMBER) {
		memcpy(buf + DOC_NUMBER, doc->document_number,
		       DOC_SHORT - DOC_NUMBER);
		return siphash13(secret, buf, DOC_SHORT);
	}
	memcpy(buf + DOC_NUMBER, doc->document_number,
	       sizeof(doc->document_number));
	memset(buf + DOC_NUMBER + sizeof(doc->document_number), 0,
	       DOC_LONG - DOC_NUMBER - sizeof(doc->document_number));
	return siphash13(secret, buf, DOC_LONG);
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
