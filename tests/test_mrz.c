/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * lib/mrz: ICAO 9303 specimens, one test per error with a record that
 * has exactly that fault, our policy on real-world variants, long
 * document numbers, framing, and random input (run under ASan/UBSan by
 * tools/test.sh). Positions in comments are 1-based as in Doc 9303.
 */

#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check_run.h"
#include "mrz.h"
#include "mrz_internal.h"

static const char *const td1_specimen =
	"I<UTOD231458907<<<<<<<<<<<<<<<\n"
	"7408122F1204159UTO<<<<<<<<<<<6\n"
	"ERIKSSON<<ANNA<MARIA<<<<<<<<<<";
static const char *const td2_specimen =
	"I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<\n"
	"D231458907UTO7408122F1204159<<<<<<<6";
static const char *const td3_specimen =
	"P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n"
	"L898902C36UTO7408122F1204159ZE184226B<<<<<10";
static const char *const mrva_specimen =
	"V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n"
	"L8988901C4XXX4009078F96121096ZE184226B<<<<<<";
static const char *const mrvb_specimen =
	"V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<\n"
	"L8988901C4XXX4009078F9612109<<<<<<<<";
static const char *const td1_long_specimen =
	"I<UTOD23145890<7349<<<<<<<<<<<\n"
	"3407127M9507122UTO<<<<<<<<<<<2\n"
	"STEVENSON<<PETER<JOHN<<<<<<<<<";
static const char *const td2_long_specimen =
	"I<UTOSTEVENSON<<PETER<JOHN<<<<<<<<<<\n"
	"D23145890<UTO3407127M95071227349<<<8";

/* Both entry points must give the same verdict and the same fields. */
static uint32_t
check_both(const char *text, size_t len, struct mrz_record *r)
{
	struct mrz_fields f;
	uint32_t fast = mrz_check(text, len, &f);
	uint32_t full = mrz_parse(text, len, r);

	ck_assert_uint_eq(fast, full);
	ck_assert_int_eq(f.format, r->fields.format);
	if (fast == 0) {
		/* Whole arrays: keys are made of fixed-size copies, so the
		 * NUL padding must agree too. */
		ck_assert_mem_eq(f.document_code, r->fields.document_code,
				 sizeof(f.document_code));
		ck_assert_mem_eq(f.issuing_state, r->fields.issuing_state,
				 sizeof(f.issuing_state));
		ck_assert_mem_eq(f.nationality, r->fields.nationality,
				 sizeof(f.nationality));
		ck_assert_mem_eq(f.birth_date, r->fields.birth_date,
				 sizeof(f.birth_date));
		ck_assert_mem_eq(f.expiry_date, r->fields.expiry_date,
				 sizeof(f.expiry_date));
		ck_assert_mem_eq(f.document_number, r->fields.document_number,
				 sizeof(f.document_number));
		ck_assert_uint_eq(f.document_number_len,
				  r->fields.document_number_len);
		ck_assert_int_eq(f.sex, r->fields.sex);
	}
	return full;
}

static uint32_t
errors_of(const char *text)
{
	struct mrz_record r;

	return check_both(text, strlen(text), &r);
}

START_TEST(specimens_are_valid)
{
	static const struct {
		const char *const *text;
		enum mrz_format format;
		const char *number, *nationality, *surname, *given;
	} cases[] = {
		{ &td1_specimen, MRZ_FORMAT_TD1, "D23145890", "UTO",
		  "ERIKSSON", "ANNA MARIA" },
		{ &td2_specimen, MRZ_FORMAT_TD2, "D23145890", "UTO",
		  "ERIKSSON", "ANNA MARIA" },
		{ &td3_specimen, MRZ_FORMAT_TD3, "L898902C3", "UTO",
		  "ERIKSSON", "ANNA MARIA" },
		{ &mrva_specimen, MRZ_FORMAT_MRVA, "L8988901C", "XXX",
		  "ERIKSSON", "ANNA MARIA" },
		{ &mrvb_specimen, MRZ_FORMAT_MRVB, "L8988901C", "XXX",
		  "ERIKSSON", "ANNA MARIA" },
		{ &td1_long_specimen, MRZ_FORMAT_TD1, "D23145890734", "UTO",
		  "STEVENSON", "PETER JOHN" },
		{ &td2_long_specimen, MRZ_FORMAT_TD2, "D23145890734", "UTO",
		  "STEVENSON", "PETER JOHN" },
	};
	struct mrz_record r;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *t = *cases[i].text;

		ck_assert_uint_eq(check_both(t, strlen(t), &r), 0);
		ck_assert_int_eq(r.fields.format, cases[i].format);
		ck_assert_str_eq(r.fields.document_number, cases[i].number);
		ck_assert_str_eq(r.fields.nationality, cases[i].nationality);
		ck_assert_str_eq(r.fields.issuing_state, "UTO");
		ck_assert_str_eq(r.surname, cases[i].surname);
		ck_assert_str_eq(r.given_names, cases[i].given);
	}
}
END_TEST

START_TEST(td3_specimen_fields)
{
	struct mrz_record r;

	ck_assert_uint_eq(mrz_parse(td3_specimen, strlen(td3_specimen), &r), 0);
	ck_assert_str_eq(r.fields.document_code, "P");
	ck_assert_str_eq(r.fields.birth_date, "740812");
	ck_assert_str_eq(r.fields.expiry_date, "120415");
	ck_assert_int_eq(r.fields.sex, 'F');
	ck_assert_str_eq(r.optional_data, "ZE184226B");
	ck_assert_str_eq(r.optional_data_2, "");
	ck_assert_str_eq(mrz_format_name(r.fields.format), "TD3");
}
END_TEST

START_TEST(check_digit_vectors)
{
	static const struct { const char *in; char digit; } v[] = {
		{ "L898902C3", '6' }, { "740812", '2' }, { "120415", '9' },
		{ "D23145890", '7' }, { "D23145890734", '9' },
		{ "L898902C<", '3' }, { "AB2134<<<", '5' },
		{ "<<<<<<<<<<<<<<", '0' },
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		ck_assert_int_eq(mrz_check_digit(v[i].in, strlen(v[i].in)),
				 v[i].digit);
	ck_assert_int_eq(mrz_char_value('<'), 0);
	ck_assert_int_eq(mrz_char_value('Z'), 35);
	ck_assert_int_eq(mrz_char_value('a'), -1);
	ck_assert_int_eq(mrz_char_value(0xd0), -1);
}
END_TEST

/* mrz_compose writes the specimens exactly: its layout is the parser's. */
START_TEST(compose_reproduces_specimens)
{
	char out[128];
	struct mrz_compose_params td3 = {
		.format = MRZ_FORMAT_TD3, .document_code = "P",
		.issuing_state = "UTO", .nationality = "UTO",
		.surname = "ERIKSSON", .given_names = "ANNA MARIA",
		.document_number = "L898902C3", .birth_date = "740812",
		.expiry_date = "120415", .sex = 'F',
		.optional_data = "ZE184226B",
	};
	struct mrz_compose_params td1_long = {
		.format = MRZ_FORMAT_TD1, .document_code = "I",
		.issuing_state = "UTO", .nationality = "UTO",
		.surname = "STEVENSON", .given_names = "PETER JOHN",
		.document_number = "D23145890734", .birth_date = "340712",
		.expiry_date = "950712", .sex = 'M', .optional_data = "",
	};
	struct mrz_compose_params td2_long = td1_long;
	struct mrz_compose_params mrvb = td3;

	td2_long.format = MRZ_FORMAT_TD2;
	mrvb.format = MRZ_FORMAT_MRVB;
	mrvb.document_code = "V";
	mrvb.nationality = "XXX";
	mrvb.document_number = "L8988901C";
	mrvb.birth_date = "400907";
	mrvb.expiry_date = "961210";
	mrvb.optional_data = "";

	ck_assert_int_eq(mrz_compose(&td3, "\n", out, sizeof(out)), 90);
	ck_assert_mem_eq(out, td3_specimen, 89);
	ck_assert_int_gt(mrz_compose(&td1_long, "\n", out, sizeof(out)), 0);
	ck_assert_mem_eq(out, td1_long_specimen, 92);
	ck_assert_int_gt(mrz_compose(&td2_long, "\n", out, sizeof(out)), 0);
	ck_assert_mem_eq(out, td2_long_specimen, 73);
	ck_assert_int_gt(mrz_compose(&mrvb, "\n", out, sizeof(out)), 0);
	ck_assert_mem_eq(out, mrvb_specimen, 73);
	ck_assert_int_eq(mrz_compose(&td3, "\n", out, 20), -ENOSPC);
	td3.document_number = "L898902C3X";
	ck_assert_int_eq(mrz_compose(&td3, "\n", out, sizeof(out)), -EINVAL);
}
END_TEST

START_TEST(line_separators)
{
	static const char *const forms[] = {
		"P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\r\n"
		"L898902C36UTO7408122F1204159ZE184226B<<<<<10\r\n",
		"P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\r"
		"L898902C36UTO7408122F1204159ZE184226B<<<<<10\r",
		"P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n"
		"L898902C36UTO7408122F1204159ZE184226B<<<<<10\n",
		"P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<"
		"L898902C36UTO7408122F1204159ZE184226B<<<<<10",
		"I<UTOD231458907<<<<<<<<<<<<<<<"
		"7408122F1204159UTO<<<<<<<<<<<6"
		"ERIKSSON<<ANNA<MARIA<<<<<<<<<<",
		"I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<\r\n"
		"D231458907UTO7408122F1204159<<<<<<<6",
	};

	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++)
		ck_assert_uint_eq(errors_of(forms[i]), 0);
	/* A second terminator is an empty third line. */
	ck_assert_uint_eq(errors_of(
		"P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n"
		"L898902C36UTO7408122F1204159ZE184226B<<<<<10\n\n"),
		MRZ_ERR_LINE_LENGTH);
	ck_assert_uint_eq(errors_of(""), MRZ_ERR_LINE_LENGTH);
	ck_assert_uint_eq(errors_of("\n"), MRZ_ERR_LINE_LENGTH);
	ck_assert_uint_eq(errors_of("a\nb\nc\nd\n"), MRZ_ERR_LINE_LENGTH);
}
END_TEST

/*
 * Records with exactly one fault: a character is edited in place and
 * the composite recomputed (positions from Doc 9303, written here
 * independently of the library's layout tables).
 */
static void
set_char(char *text, int line, int pos, int line_len, char c)
{
	text[(line - 1) * (line_len + 1) + (pos - 1)] = c;
}

/* Composite over TD3 line 2 positions 1-10, 14-20, 22-43 (ICAO P4). */
static void
fix_td3_composite(char *text)
{
	char all[64];
	const char *l2 = text + 45;
	size_t n = 0;

	memcpy(all + n, l2, 10);
	n += 10;
	memcpy(all + n, l2 + 13, 7);
	n += 7;
	memcpy(all + n, l2 + 21, 22);
	n += 22;
	text[45 + 43] = mrz_check_digit(all, n);
}

/* TD1: line 1 positions 6-30, line 2 positions 1-7, 9-15, 19-29. */
static void
fix_td1_composite(char *text)
{
	char all[64];
	size_t n = 0;

	memcpy(all + n, text + 5, 25);
	n += 25;
	memcpy(all + n, text + 31, 7);
	n += 7;
	memcpy(all + n, text + 31 + 8, 7);
	n += 7;
	memcpy(all + n, text + 31 + 18, 11);
	n += 11;
	text[31 + 29] = mrz_check_digit(all, n);
}

/* A TD3 record with one field edited and every check digit recomputed,
 * into out (128 bytes); returns its length. */
static size_t
compose_td3_with(const char *field, const char *value, char *out)
{
	struct mrz_compose_params p = {
		.format = MRZ_FORMAT_TD3, .document_code = "P",
		.issuing_state = "UTO", .nationality = "UTO",
		.surname = "ERIKSSON", .given_names = "ANNA MARIA",
		.document_number = "L898902C3", .birth_date = "740812",
		.expiry_date = "120415", .sex = 'F',
		.optional_data = "ZE184226B",
	};
	int n;

	if (strcmp(field, "code") == 0)
		p.document_code = value;
	else if (strcmp(field, "state") == 0)
		p.issuing_state = value;
	else if (strcmp(field, "nationality") == 0)
		p.nationality = value;
	else if (strcmp(field, "birth") == 0)
		p.birth_date = value;
	else if (strcmp(field, "expiry") == 0)
		p.expiry_date = value;
	else if (strcmp(field, "sex") == 0)
		p.sex = value[0];
	else if (strcmp(field, "optional") == 0)
		p.optional_data = value;
	else if (strcmp(field, "number") == 0)
		p.document_number = value;
	n = mrz_compose(&p, "\n", out, 128);
	ck_assert_int_gt(n, 0);
	return (size_t)n;
}

static uint32_t
td3_with(const char *field, const char *value)
{
	char out[128];

	compose_td3_with(field, value, out);
	return errors_of(out);
}

START_TEST(each_error_alone_td3)
{
	char t[128];

	/* line_length: line 2 one character short. */
	ck_assert_uint_eq(errors_of(
		"P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n"
		"L898902C36UTO7408122F1204159ZE184226B<<<<1"),
		MRZ_ERR_LINE_LENGTH);
	/* charset: a lowercase letter in the name. */
	ck_assert_uint_eq(errors_of(
		"P<UTOERIKSSON<<ANNa<MARIA<<<<<<<<<<<<<<<<<<<\n"
		"L898902C36UTO7408122F1204159ZE184226B<<<<<10"),
		MRZ_ERR_CHARSET);
	/* format_unknown: 2x44 starting with neither P nor V. */
	strcpy(t, td3_specimen);
	t[0] = 'X';
	ck_assert_uint_eq(errors_of(t), MRZ_ERR_FORMAT_UNKNOWN);
	ck_assert_uint_eq(td3_with("code", "P1"),
			  MRZ_ERR_DOCUMENT_CODE_INVALID);
	ck_assert_uint_eq(td3_with("state", "RVS"),
			  MRZ_ERR_ISSUING_STATE_INVALID);
	ck_assert_uint_eq(td3_with("nationality", "RVS"),
			  MRZ_ERR_NATIONALITY_INVALID);
	/* name_invalid: a digit (OCR 0 for O) in the name. */
	strcpy(t, td3_specimen);
	t[9] = '0';
	ck_assert_uint_eq(errors_of(t), MRZ_ERR_NAME_INVALID);
	ck_assert_uint_eq(td3_with("number", "<<<<<<<<<"),
			  MRZ_ERR_DOCUMENT_NUMBER_INVALID);
	/* Check digits: a wrong digit, composite recomputed. */
	strcpy(t, td3_specimen);
	set_char(t, 2, 10, 44, '7');
	fix_td3_composite(t);
	ck_assert_uint_eq(errors_of(t), MRZ_ERR_DOCUMENT_NUMBER_CHECK);
	strcpy(t, td3_specimen);
	set_char(t, 2, 20, 44, '3');
	fix_td3_composite(t);
	ck_assert_uint_eq(errors_of(t), MRZ_ERR_BIRTH_DATE_CHECK);
	strcpy(t, td3_specimen);
	set_char(t, 2, 28, 44, '0');
	fix_td3_composite(t);
	ck_assert_uint_eq(errors_of(t), MRZ_ERR_EXPIRY_DATE_CHECK);
	strcpy(t, td3_specimen);
	set_char(t, 2, 43, 44, '2');
	fix_td3_composite(t);
	ck_assert_uint_eq(errors_of(t), MRZ_ERR_OPTIONAL_DATA_CHECK);
	strcpy(t, td3_specimen);
	set_char(t, 2, 44, 44, '1');
	ck_assert_uint_eq(errors_of(t), MRZ_ERR_COMPOSITE_CHECK);
	ck_assert_uint_eq(td3_with("birth", "740230"),
			  MRZ_ERR_BIRTH_DATE_INVALID);
	ck_assert_uint_eq(td3_with("expiry", "121315"),
			  MRZ_ERR_EXPIRY_DATE_INVALID);
	ck_assert_uint_eq(td3_with("sex", "Q"), MRZ_ERR_SEX_INVALID);
}
END_TEST

START_TEST(check_digit_positions_hold_digits)
{
	char t[128];

	/* TD3 position 10: '<' is simply a wrong check digit. */
	strcpy(t, td3_specimen);
	set_char(t, 2, 10, 44, '<');
	fix_td3_composite(t);
	ck_assert_uint_eq(errors_of(t), MRZ_ERR_DOCUMENT_NUMBER_CHECK);
	/* A letter whose value mod 10 matches is still not a digit. */
	strcpy(t, td3_specimen);
	set_char(t, 2, 20, 44, 'M');		/* M = 22, digit is 2 */
	fix_td3_composite(t);
	ck_assert_uint_eq(errors_of(t), MRZ_ERR_BIRTH_DATE_CHECK);
	/* '<' for the date check digit (value 0) is not allowed. */
	ck_assert_uint_eq(td3_with("birth", "740810") & MRZ_ERR_BIRTH_DATE_CHECK,
			  0);
	strcpy(t, td3_specimen);
	set_char(t, 2, 44, 44, '<');
	ck_assert_uint_eq(errors_of(t), MRZ_ERR_COMPOSITE_CHECK);
}
END_TEST

START_TEST(document_codes)
{
	char t[128];

	ck_assert_uint_eq(td3_with("code", "PD"), 0);
	ck_assert_uint_eq(td3_with("code", "P"), 0);
	/* TD1: told by its three lines, so its first letter is checked. */
	strcpy(t, td1_specimen);
	t[0] = 'P';
	fix_td1_composite(t);
	ck_assert_uint_eq(errors_of(t), MRZ_ERR_DOCUMENT_CODE_INVALID);
	strcpy(t, td1_specimen);
	t[1] = 'V';
	ck_assert_uint_eq(errors_of(t), MRZ_ERR_DOCUMENT_CODE_INVALID);
	strcpy(t, td1_specimen);
	t[0] = 'A';
	t[1] = 'I';
	ck_assert_uint_eq(errors_of(t), MRZ_ERR_DOCUMENT_CODE_INVALID);
	t[1] = 'C';
	ck_assert_uint_eq(errors_of(t), 0);
	/* TD2 excludes AC; a 2x36 record starting with P is no format. */
	strcpy(t, td2_specimen);
	t[0] = 'A';
	t[1] = 'C';
	ck_assert_uint_eq(errors_of(t), MRZ_ERR_DOCUMENT_CODE_INVALID);
	t[0] = 'P';
	t[1] = '<';
	ck_assert_uint_eq(errors_of(t), MRZ_ERR_FORMAT_UNKNOWN);
	/* A 2x44 record starting with V is a visa, without composite. */
	ck_assert_uint_eq(errors_of(mrva_specimen), 0);
}
END_TEST

START_TEST(state_codes)
{
	ck_assert_uint_eq(td3_with("state", "D"), 0);	/* D<< */
	ck_assert_uint_eq(td3_with("nationality", "D"), 0);
	ck_assert_uint_eq(td3_with("nationality", "DEU"), 0);
	ck_assert_uint_eq(td3_with("nationality", "RUS"), 0);
	ck_assert_uint_eq(td3_with("nationality", "RKS"), 0);
	ck_assert_uint_eq(td3_with("nationality", "XXA"), 0);
	ck_assert_uint_eq(td3_with("nationality", "GBD"), 0);
	ck_assert_uint_eq(td3_with("state", "EUE"), 0);
	ck_assert_uint_eq(td3_with("state", "XPO"), 0);
	ck_assert_int_eq(mrz_state_code_valid("D<<"), 1);
	ck_assert_int_eq(mrz_state_code_valid("<<D"), 0);
	ck_assert_int_eq(mrz_state_code_valid("U<O"), 0);
	ck_assert_int_eq(mrz_state_code_valid("UTO"), 1);
	ck_assert_int_eq(mrz_state_code_valid("ZWE"), 1);
	ck_assert_int_eq(mrz_state_code_valid("ABW"), 1);
	ck_assert_int_eq(mrz_state_code_valid("XYZ"), 0);
	ck_assert_int_eq(mrz_state_code_valid("RU1"), 0);
	ck_assert_int_eq(mrz_state_code_valid("ru\xd0"), 0);
	/* Codes are looked up by the low five bits of their characters,
	 * which a digit shares with a letter ('5' with 'U'): a code with a
	 * digit is refused on lines that hold digits too. */
	ck_assert_uint_eq(td3_with("nationality", "R5S"),
			  MRZ_ERR_NATIONALITY_INVALID);
	ck_assert_int_eq(mrz_state_code_valid("R5S"), 0);

	struct mrz_compose_params td1 = {
		.format = MRZ_FORMAT_TD1, .document_code = "I",
		.issuing_state = "R5S", .nationality = "UTO",
		.surname = "ERIKSSON", .given_names = "ANNA MARIA",
		.document_number = "D23145890", .birth_date = "740812",
		.expiry_date = "120415", .sex = 'F', .optional_data = "",
	};
	char out[128];

	ck_assert_int_gt(mrz_compose(&td1, "\n", out, sizeof(out)), 0);
	ck_assert_uint_eq(errors_of(out), MRZ_ERR_ISSUING_STATE_INVALID);
	td1.issuing_state = "RUS";
	ck_assert_int_gt(mrz_compose(&td1, "\n", out, sizeof(out)), 0);
	ck_assert_uint_eq(errors_of(out), 0);
}
END_TEST

static uint32_t
td3_name(const char *name39)
{
	char t[128];

	strcpy(t, td3_specimen);
	memcpy(t + 5, name39, strlen(name39));
	return errors_of(t);
}

START_TEST(names)
{
	/* Longest: the field full, a letter in the last position. */
	ck_assert_uint_eq(td3_name("ABCDEFGHIJKLMNOPQRSTUVWXY<<ABCDEFGHIJKL"), 0);
	/* Only a primary identifier. */
	ck_assert_uint_eq(td3_name("ARKFREITH<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<"), 0);
	ck_assert_uint_eq(td3_name("ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJKLM"), 0);
	ck_assert_uint_eq(td3_name("<ERIKSSON<<ANNA<<<<<<<<<<<<<<<<<<<<<<<<"),
			  MRZ_ERR_NAME_INVALID);
	ck_assert_uint_eq(td3_name("ERIKSSON<<<ANNA<<<<<<<<<<<<<<<<<<<<<<<<"),
			  MRZ_ERR_NAME_INVALID);
	ck_assert_uint_eq(td3_name("ERIKSSON<<ANNA<<MARIA<<<<<<<<<<<<<<<<<<"),
			  MRZ_ERR_NAME_INVALID);
	ck_assert_uint_eq(td3_name("<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<"),
			  MRZ_ERR_NAME_INVALID);
	ck_assert_uint_eq(td3_name("ERIKSS0N<<ANNA<<<<<<<<<<<<<<<<<<<<<<<<<"),
			  MRZ_ERR_NAME_INVALID);
}
END_TEST

START_TEST(policy_variants)
{
	char t[128];

	/* X in the sex field (VIZ marker printed in the MRZ). */
	ck_assert_uint_eq(td3_with("sex", "X"), 0);
	ck_assert_uint_eq(td3_with("sex", "<"), 0);
	/* TD3 personal number check digit '<' when the field is empty. */
	ck_assert_uint_eq(td3_with("optional", ""), 0);
	strcpy(t, td3_specimen);
	set_char(t, 2, 43, 44, '<');
	fix_td3_composite(t);
	ck_assert_uint_eq(errors_of(t), MRZ_ERR_OPTIONAL_DATA_CHECK);
	/* ... or 0. */
	ck_assert_uint_eq(td3_with("optional", ""), 0);
	strcpy(t, "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n"
		  "L898902C36UTO7408122F1204159<<<<<<<<<<<<<<0?");
	fix_td3_composite(t);
	ck_assert_uint_eq(errors_of(t), 0);
	/* Unknown birth date parts, only in the forms ICAO allows. */
	ck_assert_uint_eq(td3_with("birth", "7408<<"), 0);
	ck_assert_uint_eq(td3_with("birth", "74<<<<"), 0);
	ck_assert_uint_eq(td3_with("birth", "<<<<<<"), 0);
	ck_assert_uint_eq(td3_with("birth", "74<<12"),
			  MRZ_ERR_BIRTH_DATE_INVALID);
	ck_assert_uint_eq(td3_with("birth", "7413<<"),
			  MRZ_ERR_BIRTH_DATE_INVALID);
	ck_assert_uint_eq(td3_with("expiry", "1204<<"),
			  MRZ_ERR_EXPIRY_DATE_INVALID);
	/* Feb 29 only in years divisible by 4, 00 included. */
	ck_assert_uint_eq(td3_with("birth", "000229"), 0);
	ck_assert_uint_eq(td3_with("birth", "960229"), 0);
	ck_assert_uint_eq(td3_with("birth", "970229"),
			  MRZ_ERR_BIRTH_DATE_INVALID);
	ck_assert_uint_eq(td3_with("expiry", "300431"),
			  MRZ_ERR_EXPIRY_DATE_INVALID);
}
END_TEST

/* A specimen's lines joined by sep, the last one followed by it too
 * when trailing is set. */
static size_t
rejoin(const char *text, const char *sep, int trailing, char *out)
{
	size_t n = 0;

	for (const char *p = text; *p != '\0'; p++) {
		if (*p == '\n') {
			memcpy(out + n, sep, strlen(sep));
			n += strlen(sep);
		} else {
			out[n++] = *p;
		}
	}
	if (trailing) {
		memcpy(out + n, sep, strlen(sep));
		n += strlen(sep);
	}
	return n;
}

/*
 * The vector path takes every format in the shapes real traffic has: it
 * only ever accepts, so a shape it turned away would still be parsed
 * right, only several times slower. Exact-size copies, so that ASan
 * sees any read past the record.
 */
START_TEST(vector_path_takes_usual_shapes)
{
	static const char *const *specimens[] = {
		&td1_specimen, &td2_specimen, &td3_specimen, &mrva_specimen,
		&mrvb_specimen,
	};
	static const char *const seps[] = { "\n", "\r\n", "\r", "" };
	char text[128];
	struct mrz_fields f;

	for (size_t i = 0; i < sizeof(specimens) / sizeof(specimens[0]); i++)
		for (size_t j = 0; j < sizeof(seps) / sizeof(seps[0]); j++)
			for (int trailing = 0; trailing <= (seps[j][0] != '\0');
			     trailing++) {
				size_t n = rejoin(*specimens[i], seps[j],
						  trailing, text);
				char *exact = malloc(n);

				memcpy(exact, text, n);
				ck_assert_msg(mrz_fast_check(exact, n, &f),
					      "specimen %zu, separator %zu, "
					      "trailing %d", i, j, trailing);
				free(exact);
			}
	/* Separators that differ between lines are the reference's. */
	ck_assert(!mrz_fast_check(
		"I<UTOD231458907<<<<<<<<<<<<<<<\r\n"
		"7408122F1204159UTO<<<<<<<<<<<6\n"
		"ERIKSSON<<ANNA<MARIA<<<<<<<<<<", 92, &f));
	ck_assert_uint_eq(errors_of(
		"I<UTOD231458907<<<<<<<<<<<<<<<\r\n"
		"7408122F1204159UTO<<<<<<<<<<<6\n"
		"ERIKSSON<<ANNA<MARIA<<<<<<<<<<"), 0);
}
END_TEST

/* Whether 20YY-MM-DD exists, by the C library's calendar: timegm()
 * moves a day that does not exist into the next month. */
static int
calendar_has(unsigned int yy, unsigned int mm, unsigned int dd)
{
	struct tm t = { .tm_year = 100 + (int)yy, .tm_mon = (int)mm - 1,
			.tm_mday = (int)dd, .tm_hour = 12 };
	time_t when;

	if (mm < 1 || mm > 12 || dd < 1 || dd > 31)
		return 0;
	when = timegm(&t);
	gmtime_r(&when, &t);
	return t.tm_mon == (int)mm - 1 && t.tm_mday == (int)dd;
}

/* Every month and day number, in leap and common years, against the
 * calendar: both entry points (check_both), both date fields, and the
 * vector path alone, which must take every valid date. */
START_TEST(dates_against_calendar)
{
	static const unsigned int years[] = { 0, 1, 4, 23, 96, 97, 99 };
	struct mrz_fields f;
	char date[7], text[128];
	size_t n;

	for (size_t y = 0; y < sizeof(years) / sizeof(years[0]); y++)
		for (unsigned int mm = 0; mm <= 20; mm++)
			for (unsigned int dd = 0; dd <= 40; dd++) {
				int ok = calendar_has(years[y], mm, dd);

				snprintf(date, sizeof(date), "%02u%02u%02u",
					 years[y], mm, dd);
				ck_assert_uint_eq(td3_with("birth", date),
					ok ? 0 : MRZ_ERR_BIRTH_DATE_INVALID);
				ck_assert_uint_eq(td3_with("expiry", date),
					ok ? 0 : MRZ_ERR_EXPIRY_DATE_INVALID);
				n = compose_td3_with("birth", date, text);
				ck_assert_msg(mrz_fast_check(text, n, &f) == ok,
					      "birth %s", date);
				n = compose_td3_with("expiry", date, text);
				ck_assert_msg(mrz_fast_check(text, n, &f) == ok,
					      "expiry %s", date);
			}
}
END_TEST

/* TD1/TD2 long numbers of every length the optional data can hold. */
START_TEST(long_numbers_every_length)
{
	const char *digits = "D23145890ABCDEFGHIJKLM";
	struct mrz_compose_params p = {
		.document_code = "I", .issuing_state = "UTO",
		.nationality = "UTO", .surname = "STEVENSON",
		.given_names = "PETER", .birth_date = "340712",
		.expiry_date = "950712", .sex = 'M', .optional_data = "",
	};
	char number[32], out[128];
	struct mrz_record r;

	for (int format = MRZ_FORMAT_TD1; format <= MRZ_FORMAT_TD2; format++) {
		int max = format == MRZ_FORMAT_TD1 ? 22 : 14;

		p.format = (enum mrz_format)format;
		for (int n = 1; n <= max; n++) {
			memcpy(number, digits, (size_t)n);
			number[n] = '\0';
			p.document_number = number;
			ck_assert_int_gt(mrz_compose(&p, "\n", out, sizeof(out)), 0);
			ck_assert_uint_eq(check_both(out, strlen(out), &r), 0);
			ck_assert_str_eq(r.fields.document_number, number);
			ck_assert_str_eq(r.optional_data, "");
		}
		memcpy(number, digits, (size_t)max);
		number[max] = 'N';
		number[max + 1] = '\0';
		ck_assert_int_eq(mrz_compose(&p, "\n", out, sizeof(out)), -EINVAL);
	}
	/* Optional data may follow the long number's terminating '<'. */
	p.format = MRZ_FORMAT_TD1;
	p.document_number = "D23145890734";
	p.optional_data = "XY7";
	ck_assert_int_gt(mrz_compose(&p, "\n", out, sizeof(out)), 0);
	ck_assert_uint_eq(check_both(out, strlen(out), &r), 0);
	ck_assert_str_eq(r.optional_data, "XY7");
}
END_TEST

START_TEST(long_number_variants)
{
	char t[128];

	/* Older BEL/PRT cards: the check digit includes the '<'. */
	strcpy(t, "I<BELD23145890<12?<<<<<<<<<<<<\n"
		  "3407127M9507122BEL<<<<<<<<<<<?\n"
		  "STEVENSON<<PETER<JOHN<<<<<<<<<");
	t[17] = mrz_check_digit("D23145890<12", 12);
	ck_assert_int_ne(t[17], mrz_check_digit("D2314589012", 11));
	fix_td1_composite(t);
	ck_assert_uint_eq(errors_of(t), 0);
	t[17] = mrz_check_digit("D2314589012", 11);	/* strict ICAO */
	fix_td1_composite(t);
	ck_assert_uint_eq(errors_of(t), 0);
	/* A wrong digit in either reading. */
	strcpy(t, td1_long_specimen);
	t[18] = t[18] == '1' ? '2' : '1';
	fix_td1_composite(t);
	ck_assert_uint_eq(errors_of(t), MRZ_ERR_DOCUMENT_NUMBER_CHECK);
	/* '<' at 15 with no overflow: digit right after the '<'. */
	strcpy(t, td1_long_specimen);
	memcpy(t + 15, "7<<<", 4);
	fix_td1_composite(t);
	ck_assert_uint_eq(errors_of(t), MRZ_ERR_DOCUMENT_NUMBER_INVALID);
	/* Overflow never terminated by '<'. */
	strcpy(t, td1_long_specimen);
	memcpy(t + 15, "734912345678901", 15);
	fix_td1_composite(t);
	ck_assert_uint_eq(errors_of(t), MRZ_ERR_DOCUMENT_NUMBER_INVALID);
	/* '<' inside the nine principal characters. */
	strcpy(t, td1_long_specimen);
	t[8] = '<';
	fix_td1_composite(t);
	ck_assert_uint_eq(errors_of(t), MRZ_ERR_DOCUMENT_NUMBER_INVALID);
	/* A long number is not defined for TD3. */
	ck_assert_uint_eq(td3_with("number", "L898902C3") , 0);
}
END_TEST

START_TEST(error_names)
{
	ck_assert_ptr_null(mrz_error_name(0));
	ck_assert_ptr_null(mrz_error_name(3));
	ck_assert_ptr_null(mrz_error_name(1u << MRZ_ERR_COUNT));
	ck_assert_str_eq(mrz_error_name(MRZ_ERR_LINE_LENGTH), "line_length");
	ck_assert_str_eq(mrz_error_name(MRZ_ERR_SEX_INVALID), "sex_invalid");
	ck_assert_str_eq(mrz_error_name(MRZ_ERR_COMPOSITE_CHECK),
			 "composite_check");
	for (unsigned int i = 0; i < MRZ_ERR_COUNT; i++)
		ck_assert_ptr_nonnull(mrz_error_name(1u << i));
	ck_assert_str_eq(mrz_format_name(MRZ_FORMAT_UNKNOWN), "unknown");
	ck_assert_str_eq(mrz_format_name(MRZ_FORMAT_MRVB), "MRVB");
}
END_TEST

static uint64_t rng_state;

static uint64_t
rng(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Parses a copy sized exactly, so ASan sees any read past the end. */
static void
parse_exact(const char *src, size_t len)
{
	char *copy = malloc(len > 0 ? len : 1);
	struct mrz_record r;

	ck_assert_ptr_nonnull(copy);
	memcpy(copy, src, len);
	(void)check_both(copy, len, &r);
	free(copy);
}

START_TEST(random_bytes_never_crash)
{
	char buf[256];

	rng_state = 1;
	for (int i = 0; i < 100000; i++) {
		size_t len = rng() % sizeof(buf);

		for (size_t j = 0; j < len; j++)
			buf[j] = (char)rng();
		parse_exact(buf, len);
	}
}
END_TEST

/*
 * Mutations of valid records of every format: substitutions within and
 * outside the alphabet, deletions, insertions, separators. The vector
 * and reference paths must agree on each.
 */
START_TEST(mutations_agree)
{
	static const char *const *bases[] = {
		&td1_specimen, &td2_specimen, &td3_specimen, &mrva_specimen,
		&mrvb_specimen, &td1_long_specimen, &td2_long_specimen,
	};
	static const char alphabet[] = "<<<<0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ\r\n";
	char buf[256];
	unsigned int still_valid = 0;

	rng_state = 2;
	for (int i = 0; i < 200000; i++) {
		const char *base = *bases[rng() % 7];
		size_t len = strlen(base);
		int edits = 1 + (int)(rng() % 3);

		memcpy(buf, base, len);
		for (int e = 0; e < edits; e++) {
			size_t at = rng() % len;

			switch (rng() % 5) {
			case 0:
				buf[at] = (char)rng();
				break;
			case 1:
				memmove(buf + at, buf + at + 1, len - at - 1);
				len--;
				break;
			case 2:
				memmove(buf + at + 1, buf + at, len - at);
				buf[at] = alphabet[rng() % (sizeof(alphabet) - 1)];
				len++;
				break;
			default:
				buf[at] = alphabet[rng() % (sizeof(alphabet) - 1)];
				break;
			}
		}
		parse_exact(buf, len);
		{
			struct mrz_fields f;

			still_valid += mrz_check(buf, len, &f) == 0;
		}
	}
	/* The check digits catch most edits, not all (e.g. 6 <-> G). */
	ck_assert_uint_gt(still_valid, 0);
	ck_assert_uint_lt(still_valid, 200000 / 5);
}
END_TEST

static Suite *
mrz_suite(void)
{
	Suite *s = suite_create("mrz");
	TCase *tc;

	tc = tcase_create("specimens");
	tcase_add_test(tc, specimens_are_valid);
	tcase_add_test(tc, td3_specimen_fields);
	tcase_add_test(tc, check_digit_vectors);
	tcase_add_test(tc, compose_reproduces_specimens);
	suite_add_tcase(s, tc);

	tc = tcase_create("framing");
	tcase_add_test(tc, line_separators);
	tcase_add_test(tc, vector_path_takes_usual_shapes);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_test(tc, each_error_alone_td3);
	tcase_add_test(tc, check_digit_positions_hold_digits);
	tcase_add_test(tc, document_codes);
	tcase_add_test(tc, state_codes);
	tcase_add_test(tc, names);
	tcase_add_test(tc, error_names);
	suite_add_tcase(s, tc);

	tc = tcase_create("policy");
	tcase_add_test(tc, policy_variants);
	tcase_add_test(tc, dates_against_calendar);
	tcase_add_test(tc, long_numbers_every_length);
	tcase_add_test(tc, long_number_variants);
	suite_add_tcase(s, tc);

	tc = tcase_create("robustness");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, random_bytes_never_crash);
	tcase_add_test(tc, mutations_agree);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(mrz_suite());
}
