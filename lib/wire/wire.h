/* SPDX-License-Identifier: BSD-3-Clause */

#ifndef WIRE_H
#define WIRE_H

/**
 * @file
 * Scanner traffic decoding (docs/wire.md): Ethernet II with 0-2 VLAN
 * tags, IPv4 or IPv6, UDP to the configured ports; then the datagram's
 * payload as framed records ("MRZ1" frames) or raw MRZ text.
 *
 * Works on plain byte buffers, without DPDK, so that the pipeline and
 * the tests share one decoder. Every frame gets exactly one verdict.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** What became of a frame: delivered, or dropped for one reason. */
enum wire_verdict {
	WIRE_DELIVERED = 0,		/**< a UDP datagram to our ports */
	WIRE_DROP_NOT_IP,		/**< ARP, other EtherTypes, 3+ VLAN tags */
	WIRE_DROP_NOT_UDP,		/**< TCP, ICMP ... */
	WIRE_DROP_OTHER_PORT,		/**< UDP to a port not configured */
	WIRE_DROP_FRAGMENT,		/**< IPv4 fragment, IPv6 fragment header */
	WIRE_DROP_IPV6_EXTENSION,	/**< other IPv6 extension headers */
	WIRE_DROP_TRUNCATED,		/**< shorter than its headers say */
	WIRE_DROP_BAD_IP_HEADER,	/**< version, header or total length */
	WIRE_DROP_BAD_IP_CHECKSUM,
	WIRE_DROP_BAD_UDP_LENGTH,
	WIRE_DROP_BAD_UDP_CHECKSUM,
	WIRE_VERDICT_COUNT
};

/** Returns the counter name of a verdict ("delivered", "not_ip" ...). */
const char *wire_verdict_name(enum wire_verdict v);

/** The UDP ports scanners send to: one bit per port. */
struct wire_ports {
	uint64_t bits[65536 / 64];
};

static inline void
wire_ports_add(struct wire_ports *ports, uint16_t port)
{
	ports->bits[port / 64] |= UINT64_C(1) << (port % 64);
}

static inline bool
wire_ports_has(const struct wire_ports *ports, uint16_t port)
{
	return (ports->bits[port / 64] >> (port % 64)) & 1;
}

/* Checks to do in software, for ports that do not flag bad checksums. */
#define WIRE_CHECK_IP_CHECKSUM	(1u << 0)
#define WIRE_CHECK_UDP_CHECKSUM	(1u << 1)

/** A delivered UDP datagram; payload points into the frame. */
struct wire_datagram {
	uint8_t family;			/**< 4 or 6 */
	uint8_t src_addr[16];		/**< IPv4 in the first 4 bytes */
	uint16_t src_port;
	uint16_t dst_port;
	const uint8_t *payload;
	uint16_t payload_len;
};

/**
 * Decode one Ethernet frame.
 *
 * @param frame
 *   The frame from its destination MAC address on, without FCS.
 * @param len
 *   Bytes in frame.
 * @param ports
 *   Destination ports to deliver.
 * @param checks
 *   WIRE_CHECK_* bits: checksums to verify in software.
 * @param dgram
 *   Filled when the verdict is WIRE_DELIVERED.
 * @return
 *   The frame's verdict.
 */
enum wire_verdict wire_decode(const uint8_t *frame, size_t len,
			      const struct wire_ports *ports, uint32_t checks,
			      struct wire_datagram *dgram);

/** Framed record header size and limits (docs/wire.md). */
#define WIRE_FRAME_HEADER_LEN	28
#define WIRE_FRAME_MRZ_MAX	256
#define WIRE_FRAME_VERSION	1

/** Directions on the wire and in the configuration. */
enum wire_direction {
	WIRE_DIRECTION_UNKNOWN = 0,
	WIRE_DIRECTION_ENTRY = 1,
	WIRE_DIRECTION_EXIT = 2,
};

/** One framed record; mrz points into the datagram. */
struct wire_frame {
	uint8_t direction;
	uint32_t checkpoint;
	uint32_t scanner;
	uint32_t sequence;
	uint64_t time_ms;
	const uint8_t *mrz;
	uint16_t mrz_len;
};

/** Returns true when a payload is framed records (starts "MRZ1"). */
static inline bool
wire_is_framed(const uint8_t *payload, size_t len)
{
	return len >= 4 && payload[0] == 'M' && payload[1] == 'R' &&
		payload[2] == 'Z' && payload[3] == '1';
}

/**
 * Read the next frame of a framed datagram.
 *
 * @param pos
 *   In: where the next frame starts; out: past it.
 * @param end
 *   End of the payload.
 * @param frame
 *   Filled when 1 is returned.
 * @return
 *   1 for a frame, 0 at the end of the datagram, -EBADMSG for a frame
 *   whose magic, version, direction or length does not fit: the rest
 *   of the datagram is then unusable.
 */
int wire_next_frame(const uint8_t **pos, const uint8_t *end,
		    struct wire_frame *frame);

/**
 * Read the next line of raw MRZ text. A line ends at CR, LF, CRLF, STX,
 * ETX or the end of the datagram (serial-device servers that send one
 * line per datagram may leave out the terminator); STX and ETX are
 * skipped.
 *
 * @param pos
 *   In: where to read from; out: past the line and its terminator.
 * @param end
 *   End of the payload.
 * @param line
 *   Set to the line's first byte.
 * @return
 *   The line's length (0 for an empty line), or -1 when nothing but
 *   STX/ETX is left.
 */
int wire_next_line(const uint8_t **pos, const uint8_t *end,
		   const uint8_t **line);

#ifdef __cplusplus
}
#endif

#endif /* WIRE_H */
