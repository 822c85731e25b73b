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
 * its low bits); the rest is the frame.
 */

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

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

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wire_ports ports = { 0 };
	struct wire_datagram d;
	const uint8_t *frame = data + 1;

	if (size == 0)
		return 0;
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
