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

uint64_t
dedup_siphash(const struct dedup_secret *secret, const void *data, size_t len)
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
		SIPROUND;
		v0 ^= m;
	}
	for (size_t i = 0; i < (len & 7); i++)
		b |= (uint64_t)p[i] << (8 * i);
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

/* The first byte of what is hashed says which kind of key it is. */
enum { KEY_DOCUMENT = 'D', KEY_FRAME = 'F' };

uint64_t
dedup_document_key(const struct dedup_secret *secret,
		   const struct mrz_fields *doc, uint64_t checkpoint,
		   uint8_t direction)
{
	/* Fixed offsets, zero padded, so distinct documents never make
	 * the same bytes. */
	uint8_t buf[64] = { KEY_DOCUMENT, direction };

	memcpy(buf + 2, &checkpoint, 8);
	memcpy(buf + 10, doc->issuing_state, strnlen(doc->issuing_state, 3));
	memcpy(buf + 13, doc->nationality, strnlen(doc->nationality, 3));
	memcpy(buf + 16, doc->birth_date, 6);
	buf[22] = doc->document_number_len;
	memcpy(buf + 23, doc->document_number, doc->document_number_len);
	return dedup_siphash(secret, buf, 23 + doc->document_number_len);
}

uint64_t
dedup_frame_key(const struct dedup_secret *secret, uint32_t checkpoint,
		uint32_t scanner, uint32_t sequence)
{
	uint8_t buf[13] = { KEY_FRAME };

	memcpy(buf + 1, &checkpoint, 4);
	memcpy(buf + 5, &scanner, 4);
	memcpy(buf + 9, &sequence, 4);
	return dedup_siphash(secret, buf, sizeof(buf));
}
