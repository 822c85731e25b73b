/* SPDX-License-Identifier: BSD-3-Clause */

#include <errno.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "wire.h"

#define ETHERTYPE_IPV4	0x0800
#define ETHERTYPE_IPV6	0x86dd
#define ETHERTYPE_VLAN	0x8100
#define ETHERTYPE_QINQ	0x88a8
#define IPPROTO_UDP_	17
#define IPV6_NEXT_FRAGMENT 44

static const char *const verdict_names[WIRE_VERDICT_COUNT] = {
	[WIRE_DELIVERED] = "delivered",
	[WIRE_DROP_NOT_IP] = "not_ip",
	[WIRE_DROP_NOT_UDP] = "not_udp",
	[WIRE_DROP_OTHER_PORT] = "other_port",
	[WIRE_DROP_FRAGMENT] = "fragment",
	[WIRE_DROP_IPV6_EXTENSION] = "ipv6_extension",
	[WIRE_DROP_TRUNCATED] = "truncated",
	[WIRE_DROP_BAD_IP_HEADER] = "bad_ip_header",
	[WIRE_DROP_BAD_IP_CHECKSUM] = "bad_ip_checksum",
	[WIRE_DROP_BAD_UDP_LENGTH] = "bad_udp_length",
	[WIRE_DROP_BAD_UDP_CHECKSUM] = "bad_udp_checksum",
};

const char *
wire_verdict_name(enum wire_verdict v)
{
	return (unsigned int)v < WIRE_VERDICT_COUNT ? verdict_names[v] : NULL;
}

static inline uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		(uint32_t)p[2] << 8 | p[3];
}

/*
 * The Internet checksum (RFC 1071), into 64 bits: payloads 16 bytes at
 * a time, headers and the rest 4 bytes at a time. A ones' complement
 * sum is the same in either byte order, so words are added as they lie
 * in memory; values the caller adds (lengths, protocol) go in network
 * order, and the result is only ever tested by sums_to_ones(): whether
 * it folds to 0xffff, which reads the same both ways.
 */
static inline uint64_t
sum_bytes(const uint8_t *p, size_t n, uint64_t sum)
{
	uint32_t w;
	uint16_t h;

#ifdef __SSE2__
	/*
	 * A multiply-add of eight words with ones sums pairs into 32-bit
	 * lanes. It takes words as signed, so each is first biased (xor
	 * 0x8000 makes w into w - 0x8000), and the bias of every word is
	 * added back at the end. A lane moves by at most 2^16 a block; a
	 * datagram has fewer than 4096 blocks, so the four lanes add up
	 * within 32 bits. Below 32 bytes (an IPv4 header) the setup and
	 * the final adds cost more than the words loop.
	 */
	if (n >= 32) {
		const __m128i bias = _mm_set1_epi16((short)0x8000);
		const __m128i ones = _mm_set1_epi16(1);
		__m128i acc = _mm_setzero_si128();
		uint64_t blocks = n / 16;
		const uint8_t *end = p + 16 * blocks;

#pragma GCC unroll 2
		for (; p != end; p += 16)
			acc = _mm_add_epi32(_mm_madd_epi16(_mm_xor_si128(
				_mm_loadu_si128((const __m128i *)(const void *)p),
				bias), ones), acc);
		n %= 16;
		acc = _mm_add_epi32(acc, _mm_shuffle_epi32(acc, 0x4e));
		acc = _mm_add_epi32(acc, _mm_shuffle_epi32(acc, 0xb1));
		sum += (uint64_t)((int64_t)_mm_cvtsi128_si32(acc) +
				  (int64_t)(blocks * 8 * 0x8000));
	}
#endif
	for (; n >= 4; p += 4, n -= 4) {
		memcpy(&w, p, 4);
		sum += w;
	}
	if (n >= 2) {
		memcpy(&h, p, 2);
		sum += h;
		p += 2;
		n -= 2;
	}
	/* An odd byte is the first of a 16-bit word padded with zero. */
	if (n == 1) {
		uint8_t pad[2] = { p[0], 0 };

		memcpy(&h, pad, 2);
		sum += h;
	}
	return sum;
}

/*
 * Whether a sum of words is a right checksum: whether it folds (end
 * around carry) to 0xffff. Folding keeps the sum's remainder modulo
 * 0xffff, since 2^16 is 1 modulo 0xffff, and folds only a zero sum to
 * 0; so the fold is 0xffff exactly when the sum is a non-zero multiple
 * of 0xffff. No sum here is 0: an IPv4 header starts with version 4,
 * and the UDP pseudo header holds the protocol, 17. An odd d divides x
 * exactly when x times the inverse of d modulo 2^64 is at most
 * (2^64 - 1) / d (Granlund and Montgomery): a multiply and a compare,
 * where four rounds of folding took 25 instructions, and gcc compiles
 * x % 0xffff into a division.
 */
static inline bool
sums_to_ones(uint64_t sum)
{
	const uint64_t inverse = UINT64_C(0xfffefffefffeffff);

	return sum * inverse <= UINT64_MAX / 0xffff;
}

/* A 16-bit value as it lies in memory in network order. */
static inline uint16_t
net16(uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };
	uint16_t h;

	memcpy(&h, b, 2);
	return h;
}

/* Inlined into both IP decoders, with its seven arguments: as a call
 * it took 18 instructions a frame. */
static inline __attribute__((always_inline)) enum wire_verdict
decode_udp(const uint8_t *udp, size_t avail, uint64_t pseudo, bool v6,
	   const struct wire_ports *ports, uint32_t checks,
	   struct wire_datagram *d)
{
	uint16_t udp_len;

	if (avail < 8)
		return WIRE_DROP_TRUNCATED;
	udp_len = be16(udp + 4);
	if (udp_len < 8)
		return WIRE_DROP_BAD_UDP_LENGTH;
	if (udp_len > avail)
		return WIRE_DROP_TRUNCATED;
	d->src_port = be16(udp);
	d->dst_port = be16(udp + 2);
	if (!wire_ports_has(ports, d->dst_port))
		return WIRE_DROP_OTHER_PORT;
	/* IPv4 may leave the checksum out (0); IPv6 may not. */
	if (checks & WIRE_CHECK_UDP_CHECKSUM) {
		uint16_t stored = be16(udp + 6);

		if ((stored != 0 || v6) &&
		    !sums_to_ones(sum_bytes(udp, udp_len, pseudo + net16(udp_len) +
					    net16(IPPROTO_UDP_))))
			return WIRE_DROP_BAD_UDP_CHECKSUM;
	}
	d->payload = udp + 8;
	d->payload_len = (uint16_t)(udp_len - 8);
	return WIRE_DELIVERED;
}

static enum wire_verdict
decode_ipv4(const uint8_t *ip, size_t avail, const struct wire_ports *ports,
	    uint32_t checks, struct wire_datagram *d)
{
	size_t header_len, total_len;

	if (avail < 20)
		return WIRE_DROP_TRUNCATED;
	header_len = (size_t)(ip[0] & 0x0f) * 4;
	total_len = be16(ip + 2);
	if (ip[0] >> 4 != 4 || header_len < 20 || total_len < header_len)
		return WIRE_DROP_BAD_IP_HEADER;
	/* The header lies within the total length, checked above. */
	if (total_len > avail)
		return WIRE_DROP_TRUNCATED;
	if ((checks & WIRE_CHECK_IP_CHECKSUM) &&
	    !sums_to_ones(sum_bytes(ip, header_len, 0)))
		return WIRE_DROP_BAD_IP_CHECKSUM;
	/* More-fragments flag or a fragment offset. */
	if (be16(ip + 6) & 0x3fff)
		return WIRE_DROP_FRAGMENT;
	if (ip[9] != IPPROTO_UDP_)
		return WIRE_DROP_NOT_UDP;
	d->family = 4;
	memset(d->src_addr, 0, sizeof(d->src_addr));
	memcpy(d->src_addr, ip + 12, 4);
	return decode_udp(ip + header_len, total_len - header_len,
			  sum_bytes(ip + 12, 8, 0), false, ports, checks, d);
}

static bool
ipv6_extension(uint8_t next)
{
	/* Hop-by-hop, routing, destination options, AH, ESP, mobility,
	 * HIP, shim6: anything that is not the upper layer directly. */
	return next == 0 || next == 43 || next == 60 || next == 51 ||
		next == 50 || next == 135 || next == 139 || next == 140;
}

static enum wire_verdict
decode_ipv6(const uint8_t *ip, size_t avail, const struct wire_ports *ports,
	    uint32_t checks, struct wire_datagram *d)
{
	size_t payload_len;
	uint8_t next;

	if (avail < 40)
		return WIRE_DROP_TRUNCATED;
	if (ip[0] >> 4 != 6)
		return WIRE_DROP_BAD_IP_HEADER;
	payload_len = be16(ip + 4);
	if (40 + payload_len > avail)
		return WIRE_DROP_TRUNCATED;
	next = ip[6];
	if (next == IPV6_NEXT_FRAGMENT)
		return WIRE_DROP_FRAGMENT;
	if (ipv6_extension(next))
		return WIRE_DROP_IPV6_EXTENSION;
	if (next != IPPROTO_UDP_)
		return WIRE_DROP_NOT_UDP;
	d->family = 6;
	memcpy(d->src_addr, ip + 8, 16);
	return decode_udp(ip + 40, payload_len, sum_bytes(ip + 8, 32, 0), true,
			  ports, checks, d);
}

enum wire_verdict
wire_decode(const uint8_t *frame, size_t len, const struct wire_ports *ports,
	    uint32_t checks, struct wire_datagram *d)
{
	size_t off = 12;
	uint16_t type;

	if (len < 14)
		return WIRE_DROP_TRUNCATED;
	type = be16(frame + off);
	for (int tags = 0; type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ;
	     tags++) {
		if (tags == 2)
			return WIRE_DROP_NOT_IP;
		if (len < off + 6)
			return WIRE_DROP_TRUNCATED;
		off += 4;
		type = be16(frame + off);
	}
	off += 2;
	if (type == ETHERTYPE_IPV4)
		return decode_ipv4(frame + off, len - off, ports, checks, d);
	if (type == ETHERTYPE_IPV6)
		return decode_ipv6(frame + off, len - off, ports, checks, d);
	return WIRE_DROP_NOT_IP;
}

int
wire_next_frame(const uint8_t **pos, const uint8_t *end,
		struct wire_frame *f)
{
	const uint8_t *p = *pos;
	size_t left = (size_t)(end - p);

	if (left == 0)
		return 0;
	if (left < WIRE_FRAME_HEADER_LEN || !wire_is_framed(p, left) ||
	    p[4] != WIRE_FRAME_VERSION || p[5] > WIRE_DIRECTION_EXIT)
		return -EBADMSG;
	f->mrz_len = be16(p + 6);
	if (f->mrz_len == 0 || f->mrz_len > WIRE_FRAME_MRZ_MAX ||
	    f->mrz_len > left - WIRE_FRAME_HEADER_LEN)
		return -EBADMSG;
	f->direction = p[5];
	f->checkpoint = be32(p + 8);
	f->scanner = be32(p + 12);
	f->sequence = be32(p + 16);
	f->time_ms = (uint64_t)be32(p + 20) << 32 | be32(p + 24);
	f->mrz = p + WIRE_FRAME_HEADER_LEN;
	*pos = f->mrz + f->mrz_len;
	return 1;
}

#define STX 0x02
#define ETX 0x03

static inline bool
is_line_end(uint8_t c)
{
	return c == '\r' || c == '\n' || c == STX || c == ETX;
}

/* The first CR, LF, STX or ETX at or after p, or end. Lines are 30 to
 * 44 bytes, so this is on every raw datagram's path: 16 bytes at once. */
static inline const uint8_t *
line_end(const uint8_t *p, const uint8_t *end)
{
#ifdef __SSE2__
	const __m128i cr = _mm_set1_epi8('\r'), lf = _mm_set1_epi8('\n');
	const __m128i stx = _mm_set1_epi8(STX), etx = _mm_set1_epi8(ETX);

	for (; end - p >= 16; p += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)p);
		__m128i hit = _mm_or_si128(
			_mm_or_si128(_mm_cmpeq_epi8(v, cr), _mm_cmpeq_epi8(v, lf)),
			_mm_or_si128(_mm_cmpeq_epi8(v, stx), _mm_cmpeq_epi8(v, etx)));
		int mask = _mm_movemask_epi8(hit);

		if (mask != 0)
			return p + __builtin_ctz(mask);
	}
#endif
	while (p < end && !is_line_end(*p))
		p++;
	return p;
}

int
wire_next_line(const uint8_t **pos, const uint8_t *end, const uint8_t **line)
{
	const uint8_t *p = *pos, *start;
	int n;

	/* STX/ETX wrap records; they carry nothing for the lines. */
	while (p < end && (*p == STX || *p == ETX))
		p++;
	if (p == end) {
		*pos = p;
		return -1;
	}
	start = p;
	p = line_end(p, end);
	*line = start;
	n = (int)(p - start);
	if (p < end && *p == '\r') {
		p++;
		if (p < end && *p == '\n')
			p++;
	} else if (p < end && *p == '\n') {
		p++;
	}
	*pos = p;
	return n;
}
