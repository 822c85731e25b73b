/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * lib/wire: every frame variant of docs/wire.md gets the verdict it
 * should; framed records and raw lines are read as sent; random and
 * truncated frames never crash (ASan run in tools/test.sh).
 */

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check_run.h"
#include "inet_sum.h"
#include "wire.h"

static struct wire_ports ports;

static void
setup(void)
{
	memset(&ports, 0, sizeof(ports));
	wire_ports_add(&ports, 7470);
}

/* A frame under construction. */
struct frame {
	uint8_t b[65600];	/* the largest datagram with its headers */
	size_t len;
};

static void
put16(uint8_t *p, unsigned int v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t
csum(const uint8_t *p, size_t n, uint32_t sum)
{
	return (uint16_t)~inet_sum(p, n, sum);
}

struct spec {
	int vlans;		/* 0, 1 or 2 tags */
	int v6;
	uint8_t proto;		/* 17 for UDP */
	uint16_t dport;
	unsigned int frag;	/* IPv4 flags+offset field */
	int zero_udp_csum;
	const char *payload;
	size_t payload_len;
};

/* Ethernet, VLAN tags, IPv4/IPv6, UDP with correct checksums. */
static void
build(struct frame *f, const struct spec *s)
{
	uint8_t *p = f->b;
	size_t plen = s->payload_len ? s->payload_len : strlen(s->payload);
	size_t udp_len = 8 + plen;
	uint8_t *udp;
	uint32_t pseudo = 0;

	memset(f->b, 0, sizeof(f->b));
	memcpy(p, "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02", 12);
	p += 12;
	for (int i = 0; i < s->vlans; i++) {
		put16(p, i == 0 && s->vlans == 2 ? 0x88a8 : 0x8100);
		put16(p + 2, 100 + i);
		p += 4;
	}
	put16(p, s->v6 ? 0x86dd : 0x0800);
	p += 2;
	if (!s->v6) {
		p[0] = 0x45;
		put16(p + 2, (unsigned int)(20 + udp_len));
		put16(p + 6, s->frag);
		p[8] = 64;
		p[9] = s->proto;
		memcpy(p + 12, "\x0a\x11\x00\x15\x0a\x11\x00\x01", 8);
		put16(p + 10, csum(p, 20, 0));
		for (int i = 0; i < 8; i += 2)
			pseudo += (uint32_t)(p[12 + i] << 8 | p[13 + i]);
		p += 20;
	} else {
		p[0] = 0x60;
		put16(p + 4, (unsigned int)udp_len);
		p[6] = s->proto;
		p[7] = 64;
		memcpy(p + 8, "\x20\x01\x0d\xb8\x00\x17\x00\x00"
			      "\x00\x00\x00\x00\x00\x00\x00\x21", 16);
		memcpy(p + 24, "\x20\x01\x0d\xb8\x00\x17\x00\x00"
			       "\x00\x00\x00\x00\x00\x00\x00\x01", 16);
		for (int i = 0; i < 32; i += 2)
			pseudo += (uint32_t)(p[8 + i] << 8 | p[9 + i]);
		p += 40;
	}
	udp = p;
	put16(udp, 40000);
	put16(udp + 2, s->dport);
	put16(udp + 4, (unsigned int)udp_len);
	memcpy(udp + 8, s->payload, plen);
	if (!s->zero_udp_csum)
		put16(udp + 6, csum(udp, udp_len, pseudo + 17 + (uint32_t)udp_len));
	f->len = (size_t)(udp + udp_len - f->b);
}

static enum wire_verdict
decode(const struct frame *f, uint32_t checks, struct wire_datagram *d)
{
	/* An exact-size copy, so ASan sees reads past the frame. */
	uint8_t *copy = malloc(f->len ? f->len : 1);
	enum wire_verdict v;

	memcpy(copy, f->b, f->len);
	v = wire_decode(copy, f->len, &ports, checks, d);
	if (v == WIRE_DELIVERED)
		d->payload = f->b + (d->payload - copy);
	free(copy);
	return v;
}

#define ALL_CHECKS (WIRE_CHECK_IP_CHECKSUM | WIRE_CHECK_UDP_CHECKSUM)

START_TEST(udp_variants_delivered)
{
	struct frame f;
	struct wire_datagram d;

	for (int v6 = 0; v6 <= 1; v6++)
		for (int vlans = 0; vlans <= 2; vlans++) {
			struct spec s = { .vlans = vlans, .v6 = v6, .proto = 17,
					  .dport = 7470, .payload = "HELLO" };

			build(&f, &s);
			ck_assert_int_eq(decode(&f, ALL_CHECKS, &d), WIRE_DELIVERED);
			ck_assert_int_eq(d.family, v6 ? 6 : 4);
			ck_assert_uint_eq(d.payload_len, 5);
			ck_assert_mem_eq(d.payload, "HELLO", 5);
			ck_assert_uint_eq(d.src_port, 40000);
			ck_assert_uint_eq(d.dst_port, 7470);
			if (v6)
				ck_assert_uint_eq(d.src_addr[15], 0x21);
			else
				ck_assert_mem_eq(d.src_addr, "\x0a\x11\x00\x15", 4);
		}
}
END_TEST

/*
 * The checksums over every payload length (odd and even, each tail of
 * the word loop) in both families: correct ones pass, any one bit
 * flipped in the payload fails.
 */
START_TEST(checksums_every_length)
{
	static uint8_t payload[300];
	struct frame f;
	struct wire_datagram d;
	unsigned int seed = 7;

	for (size_t i = 0; i < sizeof(payload); i++) {
		seed = seed * 1103515245 + 12345;
		payload[i] = (uint8_t)(seed >> 16);
	}
	for (int v6 = 0; v6 <= 1; v6++)
		for (size_t len = 1; len <= sizeof(payload); len++) {
			struct spec s = { .v6 = v6, .proto = 17, .dport = 7470,
					  .payload = (const char *)payload,
					  .payload_len = len };
			size_t bit = (len * 37) % (8 * len);

			build(&f, &s);
			ck_assert_int_eq(decode(&f, ALL_CHECKS, &d), WIRE_DELIVERED);
			ck_assert_uint_eq(d.payload_len, len);
			f.b[f.len - len + bit / 8] ^= (uint8_t)(1u << (bit % 8));
			ck_assert_int_eq(decode(&f, ALL_CHECKS, &d),
					 WIRE_DROP_BAD_UDP_CHECKSUM);
		}
}
END_TEST

/*
 * The largest datagrams, of words that are all 0x0000 or all 0xffff:
 * the sums furthest from zero that the checksum's vector lanes take.
 */
START_TEST(checksums_largest_datagrams)
{
	static uint8_t payload[65535 - 8];
	static struct frame f;
	struct wire_datagram d;

	for (int v6 = 0; v6 <= 1; v6++)
		for (int fill = 0; fill <= 0xff; fill += 0xff) {
			struct spec s = { .v6 = v6, .proto = 17, .dport = 7470,
					  .payload = (const char *)payload,
					  .payload_len = sizeof(payload) - (v6 ? 0 : 20) };

			memset(payload, fill, sizeof(payload));
			build(&f, &s);
			ck_assert_int_eq(decode(&f, ALL_CHECKS, &d), WIRE_DELIVERED);
			ck_assert_uint_eq(d.payload_len, s.payload_len);
			f.b[f.len - s.payload_len / 2] ^= 0x10;
			ck_assert_int_eq(decode(&f, ALL_CHECKS, &d),
					 WIRE_DROP_BAD_UDP_CHECKSUM);
		}
}
END_TEST

START_TEST(ethernet_padding_ignored)
{
	struct frame f;
	struct wire_datagram d;
	struct spec s = { .proto = 17, .dport = 7470, .payload = "AB" };

	build(&f, &s);
	f.len = 60;	/* minimum Ethernet frame: padding after IP */
	ck_assert_int_eq(decode(&f, ALL_CHECKS, &d), WIRE_DELIVERED);
	ck_assert_uint_eq(d.payload_len, 2);
}
END_TEST

START_TEST(drops_by_reason)
{
	struct frame f;
	struct wire_datagram d;
	struct spec s = { .proto = 17, .dport = 7470, .payload = "X" };

	build(&f, &s);
	put16(f.b + 12, 0x0806);		/* ARP */
	ck_assert_int_eq(decode(&f, 0, &d), WIRE_DROP_NOT_IP);

	s.vlans = 2;
	build(&f, &s);
	put16(f.b + 20, 0x8100);		/* a third tag */
	ck_assert_int_eq(decode(&f, 0, &d), WIRE_DROP_NOT_IP);
	s.vlans = 0;

	s.proto = 6;
	build(&f, &s);
	ck_assert_int_eq(decode(&f, ALL_CHECKS, &d), WIRE_DROP_NOT_UDP);
	s.proto = 17;

	s.dport = 53;
	build(&f, &s);
	ck_assert_int_eq(decode(&f, ALL_CHECKS, &d), WIRE_DROP_OTHER_PORT);
	s.dport = 7470;

	s.frag = 0x2000;			/* more fragments */
	build(&f, &s);
	ck_assert_int_eq(decode(&f, ALL_CHECKS, &d), WIRE_DROP_FRAGMENT);
	s.frag = 0x0010;			/* offset 128 */
	build(&f, &s);
	ck_assert_int_eq(decode(&f, ALL_CHECKS, &d), WIRE_DROP_FRAGMENT);
	s.frag = 0x4000;			/* don't fragment: fine */
	build(&f, &s);
	ck_assert_int_eq(decode(&f, ALL_CHECKS, &d), WIRE_DELIVERED);
	s.frag = 0;

	s.v6 = 1;
	s.proto = 44;
	build(&f, &s);
	ck_assert_int_eq(decode(&f, ALL_CHECKS, &d), WIRE_DROP_FRAGMENT);
	s.proto = 0;
	build(&f, &s);
	ck_assert_int_eq(decode(&f, ALL_CHECKS, &d), WIRE_DROP_IPV6_EXTENSION);
	s.proto = 58;
	build(&f, &s);
	ck_assert_int_eq(decode(&f, ALL_CHECKS, &d), WIRE_DROP_NOT_UDP);
}
END_TEST

START_TEST(bad_headers_and_checksums)
{
	struct frame f;
	struct wire_datagram d;
	struct spec s = { .proto = 17, .dport = 7470, .payload = "PAYLOAD" };

	build(&f, &s);
	f.b[14] = 0x44;				/* IHL 4 */
	ck_assert_int_eq(decode(&f, 0, &d), WIRE_DROP_BAD_IP_HEADER);
	build(&f, &s);
	f.b[14] = 0x55;				/* version 5 */
	ck_assert_int_eq(decode(&f, 0, &d), WIRE_DROP_BAD_IP_HEADER);
	build(&f, &s);
	put16(f.b + 16, 19);			/* total < header */
	ck_assert_int_eq(decode(&f, 0, &d), WIRE_DROP_BAD_IP_HEADER);
	build(&f, &s);
	put16(f.b + 16, 400);			/* a length that lies */
	ck_assert_int_eq(decode(&f, 0, &d), WIRE_DROP_TRUNCATED);

	build(&f, &s);
	f.b[22] ^= 1;				/* TTL: header checksum */
	ck_assert_int_eq(decode(&f, ALL_CHECKS, &d), WIRE_DROP_BAD_IP_CHECKSUM);
	ck_assert_int_eq(decode(&f, 0, &d), WIRE_DELIVERED);

	build(&f, &s);
	f.b[f.len - 1] ^= 1;			/* payload: UDP checksum */
	ck_assert_int_eq(decode(&f, ALL_CHECKS, &d), WIRE_DROP_BAD_UDP_CHECKSUM);
	ck_assert_int_eq(decode(&f, WIRE_CHECK_IP_CHECKSUM, &d), WIRE_DELIVERED);

	s.zero_udp_csum = 1;			/* IPv4: no checksum, fine */
	build(&f, &s);
	ck_assert_int_eq(decode(&f, ALL_CHECKS, &d), WIRE_DELIVERED);
	s.v6 = 1;				/* IPv6: mandatory */
	build(&f, &s);
	ck_assert_int_eq(decode(&f, ALL_CHECKS, &d), WIRE_DROP_BAD_UDP_CHECKSUM);
	s.v6 = 0;
	s.zero_udp_csum = 0;

	build(&f, &s);
	put16(f.b + 14 + 20 + 4, 7);		/* UDP length < 8 */
	ck_assert_int_eq(decode(&f, 0, &d), WIRE_DROP_BAD_UDP_LENGTH);
	build(&f, &s);
	put16(f.b + 14 + 20 + 4, 200);		/* beyond the IP payload */
	ck_assert_int_eq(decode(&f, 0, &d), WIRE_DROP_TRUNCATED);
}
END_TEST

/* Every prefix of a valid frame is dropped as truncated, never read past. */
START_TEST(every_truncation)
{
	struct frame f, cut;
	struct wire_datagram d;

	for (int v6 = 0; v6 <= 1; v6++) {
		struct spec s = { .vlans = 2, .v6 = v6, .proto = 17,
				  .dport = 7470, .payload = "0123456789" };

		build(&f, &s);
		for (size_t n = 0; n < f.len; n++) {
			cut = f;
			cut.len = n;
			ck_assert_int_eq(decode(&cut, ALL_CHECKS, &d),
					 WIRE_DROP_TRUNCATED);
		}
	}
}
END_TEST

START_TEST(random_frames_get_one_verdict)
{
	struct frame f;
	struct wire_datagram d;
	uint64_t x = 88172645463325252ULL;
	unsigned int seen[WIRE_VERDICT_COUNT] = { 0 };

	for (int i = 0; i < 200000; i++) {
		struct spec s = { .vlans = i % 3, .v6 = i % 2, .proto = 17,
				  .dport = 7470, .payload = "ABCDEFGH" };

		build(&f, &s);
		/* Corrupt a few bytes of a valid frame, or make it all noise. */
		for (int k = 0; k < 1 + i % 4; k++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			f.b[x % f.len] = (uint8_t)(x >> 32);
		}
		if (i % 10 == 0)
			f.len = (size_t)(x >> 40) % 100;
		enum wire_verdict v = decode(&f, ALL_CHECKS, &d);

		ck_assert_int_lt(v, WIRE_VERDICT_COUNT);
		seen[v]++;
	}
	ck_assert_uint_gt(seen[WIRE_DELIVERED], 0);
	ck_assert_uint_gt(seen[WIRE_DROP_TRUNCATED], 0);
	ck_assert_uint_gt(seen[WIRE_DROP_BAD_IP_CHECKSUM], 0);
}
END_TEST

/* A framed record header followed by its MRZ text. */
static size_t
put_frame(uint8_t *p, uint8_t direction, uint32_t checkpoint,
	  uint32_t scanner, uint32_t sequence, uint64_t time_ms,
	  const char *mrz)
{
	size_t n = strlen(mrz);

	memcpy(p, "MRZ1", 4);
	p[4] = 1;
	p[5] = direction;
	put16(p + 6, (unsigned int)n);
	for (int i = 0; i < 4; i++) {
		p[8 + i] = (uint8_t)(checkpoint >> (24 - 8 * i));
		p[12 + i] = (uint8_t)(scanner >> (24 - 8 * i));
		p[16 + i] = (uint8_t)(sequence >> (24 - 8 * i));
	}
	for (int i = 0; i < 8; i++)
		p[20 + i] = (uint8_t)(time_ms >> (56 - 8 * i));
	memcpy(p + 28, mrz, n);
	return 28 + n;
}

START_TEST(framed_records)
{
	uint8_t buf[1024];
	size_t n = 0;
	const uint8_t *pos = buf;
	struct wire_frame f;

	n += put_frame(buf, 2, 17, 3, 0xfffffffe, 1664280000123ULL, "LINE1\nLINE2");
	n += put_frame(buf + n, 0, 0, 4, 7, 0, "X");
	ck_assert(wire_is_framed(buf, n));
	ck_assert_int_eq(wire_next_frame(&pos, buf + n, &f), 1);
	ck_assert_uint_eq(f.direction, 2);
	ck_assert_uint_eq(f.checkpoint, 17);
	ck_assert_uint_eq(f.scanner, 3);
	ck_assert_uint_eq(f.sequence, 0xfffffffe);
	ck_assert_uint_eq(f.time_ms, 1664280000123ULL);
	ck_assert_uint_eq(f.mrz_len, 11);
	ck_assert_mem_eq(f.mrz, "LINE1\nLINE2", 11);
	ck_assert_int_eq(wire_next_frame(&pos, buf + n, &f), 1);
	ck_assert_uint_eq(f.scanner, 4);
	ck_assert_int_eq(wire_next_frame(&pos, buf + n, &f), 0);
}
END_TEST

START_TEST(malformed_frames)
{
	uint8_t buf[1024];
	struct wire_frame f;
	size_t n;
	const uint8_t *pos;
	char big[300];

#define EXPECT_BAD(mutate)						\
	do {								\
		n = put_frame(buf, 1, 1, 1, 1, 1, "ABC");		\
		mutate;							\
		pos = buf;						\
		ck_assert_int_eq(wire_next_frame(&pos, buf + n, &f),	\
				 -EBADMSG);				\
	} while (0)

	EXPECT_BAD(buf[3] = '2');		/* magic */
	EXPECT_BAD(buf[4] = 2);			/* version */
	EXPECT_BAD(buf[5] = 3);			/* direction */
	EXPECT_BAD(put16(buf + 6, 0));		/* mrz_len 0 */
	EXPECT_BAD(put16(buf + 6, 4));		/* beyond the datagram */
	EXPECT_BAD(n = 20);			/* header cut */
	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	EXPECT_BAD(n = put_frame(buf, 1, 1, 1, 1, 1, big));	/* 299 > 256 */
#undef EXPECT_BAD

	/* A good frame then garbage: the first is read, then the error. */
	n = put_frame(buf, 1, 1, 1, 1, 1, "ABC");
	memcpy(buf + n, "JUNK", 4);
	pos = buf;
	ck_assert_int_eq(wire_next_frame(&pos, buf + n + 4, &f), 1);
	ck_assert_int_eq(wire_next_frame(&pos, buf + n + 4, &f), -EBADMSG);
}
END_TEST

static int
lines_of(const char *payload, char out[][64])
{
	const uint8_t *pos = (const uint8_t *)payload;
	const uint8_t *end = pos + strlen(payload), *line;
	int count = 0, n;

	while ((n = wire_next_line(&pos, end, &line)) >= 0) {
		memcpy(out[count], line, (size_t)n);
		out[count++][n] = '\0';
	}
	return count;
}

START_TEST(raw_lines)
{
	char l[8][64];

	ck_assert_int_eq(lines_of("\x02" "AAA\r\nBBB\r\n\x03", l), 2);
	ck_assert_str_eq(l[0], "AAA");
	ck_assert_str_eq(l[1], "BBB");
	ck_assert_int_eq(lines_of("AAA\rBBB\nCCC", l), 3);
	ck_assert_str_eq(l[2], "CCC");
	ck_assert_int_eq(lines_of("\x02" "AAA\rBBB\x03\x02" "CCC\x03", l), 3);
	ck_assert_str_eq(l[1], "BBB");
	/* An empty line between records is returned as such. */
	ck_assert_int_eq(lines_of("AAA\n\nBBB\n", l), 3);
	ck_assert_str_eq(l[1], "");
	ck_assert_int_eq(lines_of("ONE LINE", l), 1);
	ck_assert_int_eq(lines_of("\x02\x03", l), 0);
	ck_assert_int_eq(lines_of("", l), 0);
}
END_TEST

START_TEST(verdict_names)
{
	ck_assert_str_eq(wire_verdict_name(WIRE_DELIVERED), "delivered");
	ck_assert_str_eq(wire_verdict_name(WIRE_DROP_OTHER_PORT), "other_port");
	for (int v = 0; v < WIRE_VERDICT_COUNT; v++)
		ck_assert_ptr_nonnull(wire_verdict_name((enum wire_verdict)v));
	ck_assert_ptr_null(wire_verdict_name(WIRE_VERDICT_COUNT));
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("wire");
	TCase *tc = tcase_create("decode");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, udp_variants_delivered);
	tcase_add_test(tc, ethernet_padding_ignored);
	tcase_add_test(tc, drops_by_reason);
	tcase_add_test(tc, bad_headers_and_checksums);
	tcase_add_test(tc, checksums_every_length);
	tcase_add_test(tc, checksums_largest_datagrams);
	tcase_add_test(tc, every_truncation);
	tcase_add_test(tc, random_frames_get_one_verdict);
	tcase_add_test(tc, verdict_names);
	suite_add_tcase(s, tc);
	tc = tcase_create("payload");
	tcase_add_test(tc, framed_records);
	tcase_add_test(tc, malformed_frames);
	tcase_add_test(tc, raw_lines);
	suite_add_tcase(s, tc);

	return check_run(s);
}
