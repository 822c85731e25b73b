/* SPDX-License-Identifier: BSD-3-Clause */

#ifndef MRZ_H
#define MRZ_H

/**
 * @file
 * ICAO Doc 9303 machine readable zone parser.
 *
 * Parses one MRZ record (TD1 3x30, TD2 2x36, TD3 2x44, MRV-A 2x44,
 * MRV-B 2x36) from a byte buffer. Lines are separated by CR, LF or CRLF
 * with an optional final terminator, or concatenated with no separator.
 * The parser never allocates and never reads outside the buffer.
 *
 * Two entry points validate identically:
 *  - mrz_check() is the data-path one: it extracts only what is counted
 *    and deduplicated (no names);
 *  - mrz_parse() also extracts names and optional data, for mrz-parse.
 *
 * Policy on real-world variants (see docs/mrz.md): sex `X` is valid,
 * a TD1/TD2 long document number whose check digit includes the `<` of
 * its check position is valid, `UTO` is a valid State.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Document formats. */
enum mrz_format {
	MRZ_FORMAT_UNKNOWN = 0,
	MRZ_FORMAT_TD1,		/**< ID card, 3 x 30 */
	MRZ_FORMAT_TD2,		/**< official travel document, 2 x 36 */
	MRZ_FORMAT_TD3,		/**< passport, 2 x 44 */
	MRZ_FORMAT_MRVA,	/**< visa, 2 x 44 */
	MRZ_FORMAT_MRVB,	/**< visa, 2 x 36 */
};

/*
 * Validation errors, one bit each. The names returned by
 * mrz_error_name() are the contract of mrz-parse.
 */
#define MRZ_ERR_LINE_LENGTH		(1u << 0)
#define MRZ_ERR_CHARSET			(1u << 1)
#define MRZ_ERR_FORMAT_UNKNOWN		(1u << 2)
#define MRZ_ERR_DOCUMENT_CODE_INVALID	(1u << 3)
#define MRZ_ERR_ISSUING_STATE_INVALID	(1u << 4)
#define MRZ_ERR_NATIONALITY_INVALID	(1u << 5)
#define MRZ_ERR_NAME_INVALID		(1u << 6)
#define MRZ_ERR_DOCUMENT_NUMBER_INVALID	(1u << 7)
#define MRZ_ERR_DOCUMENT_NUMBER_CHECK	(1u << 8)
#define MRZ_ERR_BIRTH_DATE_CHECK	(1u << 9)
#define MRZ_ERR_EXPIRY_DATE_CHECK	(1u << 10)
#define MRZ_ERR_OPTIONAL_DATA_CHECK	(1u << 11)
#define MRZ_ERR_COMPOSITE_CHECK		(1u << 12)
#define MRZ_ERR_BIRTH_DATE_INVALID	(1u << 13)
#define MRZ_ERR_EXPIRY_DATE_INVALID	(1u << 14)
#define MRZ_ERR_SEX_INVALID		(1u << 15)
/** Number of error bits. */
#define MRZ_ERR_COUNT			16

/** Longest document number: 9 principal + 13 overflow characters (TD1). */
#define MRZ_DOCUMENT_NUMBER_MAX	22
/** Longest name field (TD3, MRV-A). */
#define MRZ_NAME_MAX		39
/** Longest optional data field (MRV-A line 2). */
#define MRZ_OPTIONAL_DATA_MAX	16

/**
 * What the data path needs of a record. Strings are NUL-padded to their
 * array's size (so fixed-size copies compare equal for equal values),
 * with fillers removed from their end; dates are the six characters as
 * printed.
 */
struct mrz_fields {
	enum mrz_format format;
	char document_code[3];		/**< e.g. "P", "PD", "I" */
	char issuing_state[4];		/**< e.g. "UTO", "D" */
	char nationality[4];
	char sex;			/**< 'M', 'F', 'X' or '<' */
	char birth_date[7];		/**< YYMMDD, unknown parts '<' */
	char expiry_date[7];
	uint8_t document_number_len;
	char document_number[MRZ_DOCUMENT_NUMBER_MAX + 1];
};

/** Everything mrz-parse reports of a record. */
struct mrz_record {
	struct mrz_fields fields;
	char surname[MRZ_NAME_MAX + 1];		/**< fillers as single spaces */
	char given_names[MRZ_NAME_MAX + 1];
	char optional_data[MRZ_OPTIONAL_DATA_MAX + 1];
	char optional_data_2[MRZ_OPTIONAL_DATA_MAX + 1];	/**< TD1 line 2 */
};

/**
 * Validate one record and extract the fields the data path needs.
 *
 * @param buf
 *   The record's text; need not be NUL-terminated.
 * @param len
 *   Bytes in buf.
 * @param fields
 *   Filled with what could be read. When the record's shape is not an
 *   MRZ shape, only format (MRZ_FORMAT_UNKNOWN) is meaningful.
 * @return
 *   0 when the record is valid, else a mask of MRZ_ERR_* bits.
 */
uint32_t mrz_check(const char *buf, size_t len, struct mrz_fields *fields);

/**
 * The first step of mrz_check() alone, its vector path: the shapes and
 * records real traffic is made of, at a fraction of the cost of
 * classifying a fault. Tests hold it to agreeing with mrz_check().
 *
 * @return
 *   true when the record is valid (fields filled as by mrz_check()),
 *   false when it is invalid or this path cannot tell (a long document
 *   number, an unknown birth date part, an odd shape; always where the
 *   vector path is not built): mrz_check() then decides.
 */
bool mrz_fast_check(const char *buf, size_t len, struct mrz_fields *fields);

/**
 * Validate one record and extract every field, names included.
 * Validation is exactly that of mrz_check().
 *
 * @return
 *   0 when the record is valid, else a mask of MRZ_ERR_* bits.
 */
uint32_t mrz_parse(const char *buf, size_t len, struct mrz_record *record);

/** Returns the mrz-parse name of one MRZ_ERR_* bit, or NULL. */
const char *mrz_error_name(uint32_t error_bit);

/** Returns "TD1", "TD2", "TD3", "MRVA", "MRVB" or "unknown". */
const char *mrz_format_name(enum mrz_format format);

/**
 * Returns the value of an MRZ character for check digits (0-9, A-Z as
 * 10-35, '<' as 0), or -1 for a character outside the MRZ alphabet.
 */
int mrz_char_value(unsigned char c);

/**
 * Returns 1 when the three characters are an issuing State or
 * nationality code we accept (ISO 3166-1 alpha-3 and the ICAO codes,
 * right-padded with '<'), else 0.
 */
int mrz_state_code_valid(const char code[3]);

/**
 * The fields of a record to compose. Strings are plain text: names are
 * letters and spaces, codes and numbers without padding.
 */
struct mrz_compose_params {
	enum mrz_format format;
	const char *document_code;	/**< "P", "PD", "I", "V" ... */
	const char *issuing_state;	/**< "UTO", "D" ... */
	const char *nationality;
	const char *surname;
	const char *given_names;	/**< "" for none */
	const char *document_number;	/**< up to 9, TD1 22, TD2 14 chars */
	const char *birth_date;		/**< YYMMDD, '<' for unknown parts */
	const char *expiry_date;
	char sex;
	const char *optional_data;	/**< "" for none */
};

/**
 * Write a record with correct check digits, for generators and tests.
 * Names too long for the format are cut.
 *
 * @param p
 *   The fields.
 * @param line_end
 *   Written after each line: "\n", "\r\n", or "" for concatenated lines.
 * @param out
 *   Where the record is written, NUL-terminated.
 * @param size
 *   Bytes available at out.
 * @return
 *   The record's length, -EINVAL for an unknown format or a field too
 *   long for it, -ENOSPC when out is too small.
 */
int mrz_compose(const struct mrz_compose_params *p, const char *line_end,
		char *out, size_t size);

/**
 * Returns the check digit ('0'-'9') of n characters of the MRZ
 * alphabet.
 */
char mrz_check_digit(const char *p, size_t n);

#ifdef __cplusplus
}
#endif

#endif /* MRZ_H */
