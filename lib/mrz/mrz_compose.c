/* SPDX-License-Identifier: BSD-3-Clause */

/* Writing MRZ records, from the same layouts the parser reads. */

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "mrz.h"
#include "mrz_internal.h"

/* Copies text into a field, anything but A-Z and 0-9 becoming '<'. */
static size_t
put(char *field, size_t room, const char *text)
{
	size_t n = 0;

	for (; text[n] != '\0' && n < room; n++) {
		char c = text[n];

		field[n] = (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ?
			c : '<';
	}
	return text[n] == '\0' ? n : room + 1;
}

static char *
span(char lines[3][44], struct mrz_span s)
{
	return lines[s.line] + s.start;
}

int
mrz_compose(const struct mrz_compose_params *p, const char *line_end,
	    char *out, size_t size)
{
	char lines[3][44];
	const struct mrz_layout *lay;
	size_t number_len = strlen(p->document_number), optional_at = 0;

	if (p->format < MRZ_FORMAT_TD1 || p->format > MRZ_FORMAT_MRVB)
		return -EINVAL;
	lay = &mrz_layouts[p->format];
	memset(lines, '<', sizeof(lines));

	if (put(span(lines, lay->code), 2, p->document_code) > 2 ||
	    put(span(lines, lay->state), 3, p->issuing_state) > 3 ||
	    put(span(lines, lay->nationality), 3, p->nationality) > 3)
		return -EINVAL;

	/* Surname, "<<", given names; cut to the field. */
	char name[2 * MRZ_NAME_MAX + 3];
	size_t room = lay->name.len;

	snprintf(name, sizeof(name), "%.*s%s%.*s", MRZ_NAME_MAX, p->surname,
		 p->given_names[0] != '\0' ? "  " : "", MRZ_NAME_MAX,
		 p->given_names);
	name[room] = '\0';
	put(span(lines, lay->name), room, name);

	char *number = span(lines, lay->number);

	if (number_len <= lay->number.len) {
		put(number, lay->number.len, p->document_number);
		number[lay->number_check - lay->number.start] =
			mrz_check_digit(number, lay->number.len);
	} else {
		/* Long number: the rest and its check digit open the
		 * optional data, then a filler. */
		size_t overflow = number_len - lay->number.len;
		char *opt = span(lines, lay->optional);

		if ((p->format != MRZ_FORMAT_TD1 &&
		     p->format != MRZ_FORMAT_TD2) ||
		    overflow + 2 > lay->optional.len)
			return -EINVAL;
		memcpy(number, p->document_number, lay->number.len);
		memcpy(opt, p->document_number + lay->number.len, overflow);

		char whole[MRZ_DOCUMENT_NUMBER_MAX];

		memcpy(whole, p->document_number, number_len);
		opt[overflow] = mrz_check_digit(whole, number_len);
		optional_at = overflow + 2;
	}
	if (put(span(lines, lay->optional) + optional_at,
		lay->optional.len - optional_at, p->optional_data) >
	    lay->optional.len - optional_at)
		return -EINVAL;

	char *date_line = lines[lay->birth.line];

	if (put(span(lines, lay->birth), 6, p->birth_date) != 6 ||
	    put(span(lines, lay->expiry), 6, p->expiry_date) != 6)
		return -EINVAL;
	date_line[lay->birth_check] = mrz_check_digit(span(lines, lay->birth), 6);
	date_line[lay->expiry_check] =
		mrz_check_digit(span(lines, lay->expiry), 6);
	date_line[lay->sex] = p->sex;

	if (lay->optional_check.len > 0) {
		const char *opt = span(lines, lay->optional);
		bool empty = true;

		for (size_t i = 0; i < lay->optional.len; i++)
			empty = empty && opt[i] == '<';
		/* ICAO lets an empty personal number have '<' as its digit. */
		*span(lines, lay->optional_check) = empty ?
			'<' : mrz_check_digit(opt, lay->optional.len);
	}
	if (lay->composite_segments > 0) {
		char all[88];
		size_t n = 0;

		for (unsigned int i = 0; i < lay->composite_segments; i++) {
			memcpy(all + n, span(lines, lay->composite[i]),
			       lay->composite[i].len);
			n += lay->composite[i].len;
		}
		*span(lines, lay->composite_check) = mrz_check_digit(all, n);
	}

	size_t end_len = strlen(line_end), total = 0;

	if ((size_t)lay->lines * (lay->line_len + end_len) + 1 > size)
		return -ENOSPC;
	for (unsigned int i = 0; i < lay->lines; i++) {
		memcpy(out + total, lines[i], lay->line_len);
		total += lay->line_len;
		memcpy(out + total, line_end, end_len);
		total += end_len;
	}
	out[total] = '\0';
	return (int)total;
}
