/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * pcap-write FILE: writes an Ethernet capture with libpcap from lines
 * "SECONDS.MICROSECONDS HEX" on standard input, one frame per line.
 * The integration tests build their frames in Python and write the
 * capture with this, so the files are what libpcap itself produces.
 */

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int
main(int argc, char **argv)
{
	static char line[2 * 65536 + 64];
	static u_char frame[65536];
	pcap_t *p;
	pcap_dumper_t *d;
	unsigned long lineno = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: pcap-write FILE < frames\n");
		return 2;
	}
	p = pcap_open_dead(DLT_EN10MB, 65535);
	d = p ? pcap_dump_open(p, argv[1]) : NULL;
	if (d == NULL) {
		fprintf(stderr, "pcap-write: %s: %s\n", argv[1],
			p ? pcap_geterr(p) : "cannot open");
		return 2;
	}
	while (fgets(line, sizeof(line), stdin) != NULL) {
		struct pcap_pkthdr h = { 0 };
		unsigned long long sec, usec;
		char *hex;
		size_t n = 0;

		lineno++;
		if (sscanf(line, "%llu.%llu", &sec, &usec) != 2 ||
		    (hex = strchr(line, ' ')) == NULL) {
			fprintf(stderr, "pcap-write: line %lu: expected "
				"SECONDS.MICROSECONDS HEX\n", lineno);
			return 2;
		}
		for (hex++; hex_value(hex[0]) >= 0 && hex_value(hex[1]) >= 0; hex += 2)
			frame[n++] = hex_value(hex[0]) << 4 | hex_value(hex[1]);
		h.ts.tv_sec = sec;
		h.ts.tv_usec = usec;
		h.caplen = h.len = n;
		pcap_dump((u_char *)d, &h, frame);
	}
	pcap_dump_close(d);
	pcap_close(p);
	return 0;
}
