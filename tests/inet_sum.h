/* SPDX-License-Identifier: BSD-3-Clause */

#ifndef INET_SUM_H
#define INET_SUM_H

#include <stddef.h>
#include <stdint.h>

/*
 * The Internet checksum's ones' complement sum (RFC 1071), folded to
 * 16 bits, a byte at a time in network order as the RFC writes it: the
 * reference the tests hold the decoder's word and vector sums to. sum
 * is what to start from (a pseudo header's sum): below 2^31, it leaves
 * room in 32 bits for the words of n <= 65535 bytes.
 */
static inline uint32_t
inet_sum(const uint8_t *p, size_t n, uint32_t sum)
{
	for (size_t i = 0; i < n; i++)
		sum += i % 2 ? p[i] : (uint32_t)p[i] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

#endif /* INET_SUM_H */
