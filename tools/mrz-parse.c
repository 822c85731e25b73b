/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * mrz-parse: check MRZ text by hand. Records are consecutive lines,
 * separated by one or more blank lines; one JSON object per record.
 * Exit status: 0 all valid, 1 any invalid, 2 usage or I/O error.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mrz.h"

/*
 * Longer than any MRZ record; a longer one is reported as line_length
 * without being kept, so memory stays bounded whatever the input.
 */
#define RECORD_MAX 4096

struct record_buffer {
	char text[RECORD_MAX];
	size_t len;
	int overflow;
	int lines;
};

/* JSON string: UTF-8 passes through, other bytes become \u00XX. */
static void
json_string(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', out);
	while (*p != '\0') {
		unsigned char c = *p;
		size_t seq = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 :
			(c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
		size_t i = 1;

		while (i < seq && (p[i] & 0xc0) == 0x80)
			i++;
		if (seq > 1 && i == seq) {
			fwrite(p, 1, seq, out);
			p += seq;
			continue;
		}
		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
		p++;
	}
	fputc('"', out);
}

static void
json_field(FILE *out, const char *name, const char *value)
{
	fprintf(out, ",\"%s\":", name);
	json_string(out, value);
}

/* Prints one record's JSON line; returns 1 when it is valid. */
static int
print_record(FILE *out, const struct record_buffer *rb)
{
	struct mrz_record r;
	uint32_t errors;
	char sex[2] = { 0, 0 };
	int first = 1;

	if (rb->overflow) {
		memset(&r, 0, sizeof(r));
		errors = MRZ_ERR_LINE_LENGTH;
	} else {
		errors = mrz_parse(rb->text, rb->len, &r);
	}
	sex[0] = r.fields.sex;
	fprintf(out, "{\"format\":\"%s\",\"valid\":%s",
		mrz_format_name(r.fields.format), errors ? "false" : "true");
	json_field(out, "document_code", r.fields.document_code);
	json_field(out, "issuing_state", r.fields.issuing_state);
	json_field(out, "surname", r.surname);
	json_field(out, "given_names", r.given_names);
	json_field(out, "document_number", r.fields.document_number);
	json_field(out, "nationality", r.fields.nationality);
	json_field(out, "birth_date", r.fields.birth_date);
	json_field(out, "sex", sex);
	json_field(out, "expiry_date", r.fields.expiry_date);
	json_field(out, "optional_data", r.optional_data);
	json_field(out, "optional_data_2", r.optional_data_2);
	fputs(",\"errors\":[", out);
	for (uint32_t bit = 1; bit < (1u << MRZ_ERR_COUNT); bit <<= 1) {
		if (!(errors & bit))
			continue;
		fprintf(out, "%s\"%s\"", first ? "" : ",", mrz_error_name(bit));
		first = 0;
	}
	fputs("]}\n", out);
	return errors == 0;
}

static void
append_line(struct record_buffer *rb, const char *line, size_t n)
{
	size_t need = n + (rb->lines > 0 ? 1 : 0);

	if (rb->overflow || rb->len + need > sizeof(rb->text)) {
		rb->overflow = 1;
		rb->lines++;
		return;
	}
	if (rb->lines > 0)
		rb->text[rb->len++] = '\n';
	memcpy(rb->text + rb->len, line, n);
	rb->len += n;
	rb->lines++;
}

/*
 * One line, without its LF, into buf: at most size bytes of it, the
 * rest read and dropped. getline() would grow its buffer to the longest
 * line, however long the input makes it. Returns the bytes kept, or -1
 * at the end of the input.
 */
static ssize_t
read_line(FILE *in, char *buf, size_t size)
{
	size_t n = 0;
	int c, any = 0;

	while ((c = getc_unlocked(in)) != EOF) {
		any = 1;
		if (c == '\n')
			break;
		if (n < size)
			buf[n++] = (char)c;
	}
	return any ? (ssize_t)n : -1;
}

static int
usage(const char *prog)
{
	fprintf(stderr, "usage: %s [FILE]\n", prog);
	return 2;
}

int
main(int argc, char **argv)
{
	const char *path = NULL;
	FILE *in = stdin;
	struct record_buffer rb = { .len = 0 };
	/* A line that fills this, CR or not, is longer than a record can
	 * be: what it had past that changes no verdict. */
	static char line[RECORD_MAX + 2];
	ssize_t n;
	int all_valid = 1;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			fprintf(stdout, "usage: %s [FILE] | --version\n"
				"Reads MRZ records (blank-line separated) from FILE "
				"or standard input,\nwrites one JSON object per record.\n",
				argv[0]);
			return 0;
		}
		if (strcmp(argv[i], "--version") == 0) {
			printf("mrz-parse %s\n", CROSSINGS_VERSION);
			return 0;
		}
		if (argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr, "%s: unknown option '%s'\n", argv[0], argv[i]);
			return usage(argv[0]);
		}
		if (path != NULL) {
			fprintf(stderr, "%s: one FILE at most\n", argv[0]);
			return usage(argv[0]);
		}
		path = argv[i];
	}
	if (path != NULL && strcmp(path, "-") != 0) {
		in = fopen(path, "rb");
		if (in == NULL) {
			fprintf(stderr, "%s: %s: %s\n", argv[0], path,
				strerror(errno));
			return 2;
		}
	}

	while ((n = read_line(in, line, sizeof(line))) >= 0) {
		size_t len = (size_t)n;

		if (len > 0 && line[len - 1] == '\r')
			len--;
		if (len == 0) {
			if (rb.lines > 0)
				all_valid &= print_record(stdout, &rb);
			rb = (struct record_buffer){ .len = 0 };
			continue;
		}
		append_line(&rb, line, len);
	}
	if (rb.lines > 0)
		all_valid &= print_record(stdout, &rb);
	/* Which side failed, and why: a directory given as FILE fails at
	 * its first read, a full disk at the last write. */
	if (ferror(in)) {
		fprintf(stderr, "%s: %s: %s\n", argv[0],
			path != NULL ? path : "standard input", strerror(errno));
		return 2;
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "%s: standard output: %s\n", argv[0], strerror(errno));
		return 2;
	}
	if (in != stdin)
		fclose(in);
	return all_valid ? 0 : 1;
}
