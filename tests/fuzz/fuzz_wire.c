/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * libFuzzer target: decoding a frame as the workers do, on any bytes:
 * wire_decode(), then the framed records of a datagram or the lines of
 * raw text, each record through mrz_check(). Whatever the verdict, a
 * delivered payload lies inside the frame, every record or line inside
 * the payload, and each step moves forward; AddressSanitizer catches a
 * read outside the frame, libFuzzer a loop that never ends.
 *
 * The first input byte chooses the software checks (WIRE_CHECK_* in
 * its low bits); the rest is the frame. With bit 2 of that byte set,
 * the rest is instead the payload of a datagram (IPv6 with bit 3)
 * whose checksums are made byte by byte as RFC 1071 writes them: the
 * decoder's word and vector sums must take it, and refuse it with its
 * UDP checksum changed.
 */

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../inet_sum.h"
#include "mrz.h"
#include "wire.h"

#define INSIDE(p, n, lo, hi) ((p) >= (lo) && (p) + (n) <= (hi))

static void
framed_records(const uint8_t *pos, const uint8_t *end)
{
	const uint8_t *frame = pos;
	struct wire_frame f;
	struct mrz_fields fields;
	int rc;

	while ((rc = wire_next_frame(&pos, end, &f)) == 1) {
		if (pos <= frame || pos > end || !INSIDE(f.mrz, f.mrz_len, frame, pos))
			abort();
		mrz_check((const char *)f.mrz, f.mrz_len, &fields);
		frame = pos;
	}
	if (rc != 0 && rc != -EBADMSG)
		abort();
}

static void
raw_lines(const uint8_t *pos, const uint8_t *end)
{
	const uint8_t *start = pos, *line;
	struct mrz_fields fields;
	int n;

	mrz_check((const char *)pos, (size_t)(end - pos), &fields);
	while ((n = wire_next_line(&pos, end, &line)) >= 0) {
		if (!INSIDE(line, (size_t)n, start, end) || pos > end ||
		    pos <= line)
			abort();
	}
}

static void
put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
checksums(const uint8_t *payload, size_t len, bool v6)
{
	static uint8_t f[14 + 40 + 8 + 65535];
	uint8_t *ip = f + 14, *udp = ip + (v6 ? 40 : 20);
	size_t udp_len = 8 + len;
	struct wire_ports ports = { 0 };
	struct wire_datagram d;
	uint32_t pseudo;
	uint16_t sum, bad;

	if (udp_len + (v6 ? 0 : 20) > 65535)
		return;
	wire_ports_add(&ports, 7470);
	memset(f, 0, (size_t)(udp - f) + 8);
	put16(f + 12, v6 ? 0x86dd : 0x0800);
	if (v6) {
		ip[0] = 0x60;
		put16(ip + 4, (uint32_t)udp_len);
		ip[6] = 17;
		ip[7] = 64;
		memset(ip + 8, 0xfd, 32);
		pseudo = inet_sum(ip + 8, 32, 0);
	} else {
		ip[0] = 0x45;
		put16(ip + 2, (uint32_t)(20 + udp_len));
		ip[8] = 64;
		ip[9] = 17;
		memcpy(ip + 12, "\x0a\x11\xff\x15\x0a\x00\xfe\x01", 8);
		put16(ip + 10, ~inet_sum(ip, 20, 0));
		pseudo = inet_sum(ip + 12, 8, 0);
	}
	put16(udp, 40000);
	put16(udp + 2, 7470);
	put16(udp + 4, (uint32_t)udp_len);
	memcpy(udp + 8, payload, len);
	sum = (uint16_t)~inet_sum(udp, udp_len, pseudo + 17 + (uint32_t)udp_len);
	put16(udp + 6, sum ? sum : 0xffff);
	if (wire_decode(f, (size_t)(udp - f) + udp_len, &ports,
			WIRE_CHECK_IP_CHECKSUM | WIRE_CHECK_UDP_CHECKSUM, &d) !=
	    WIRE_DELIVERED || d.payload_len != len)
		abort();
	/* Changed by 256, never a multiple of 0xffff: wrong, unless it
	 * became 0, which IPv4 reads as no checksum. */
	bad = (uint16_t)((sum ? sum : 0xffff) ^ 0x0100);
	put16(udp + 6, bad);
	if ((bad != 0 || v6) &&
	    wire_decode(f, (size_t)(udp - f) + udp_len, &ports,
			WIRE_CHECK_IP_CHECKSUM | WIRE_CHECK_UDP_CHECKSUM, &d) !=
	    WIRE_DROP_BAD_UDP_CHECKSUM)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wire_ports ports = { 0 };
	struct wire_datagram d;
	const uint8_t *frame = data + 1;

	if (size == 0)
		return 0;
	if (data[0] & 4) {
		checksums(data + 1, size - 1, data[0] & 8);
		return 0;
	}
	wire_ports_add(&ports, 7470);
	wire_ports_add(&ports, 5000);
	if (wire_decode(frame, size - 1, &ports, data[0] & 3, &d) != WIRE_DELIVERED)
		return 0;
	if (!INSIDE(d.payload, d.payload_len, frame, frame + size - 1) ||
	    (d.family != 4 && d.family != 6))
		abort();
	if (wire_is_framed(d.payload, d.payload_len))
		framed_records(d.payload, d.payload + d.payload_len);
	else
		raw_lines(d.payload, d.payload + d.payload_len);
	return 0;
}
