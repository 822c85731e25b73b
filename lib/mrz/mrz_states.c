/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Issuing State and nationality codes: ISO 3166-1 alpha-3 and the codes
 * ICAO Doc 9303 Part 3 adds. Nationality is covered by no check digit,
 * so this list is what keeps an OCR slip (RVS for RUS) out of the counts.
 */

#include <stdint.h>

#include "mrz.h"
#include "mrz_internal.h"

static const char *const iso3166_alpha3 =
	"ABW AFG AGO AIA ALA ALB AND ARE ARG ARM ASM ATA ATF ATG AUS AUT AZE "
	"BDI BEL BEN BES BFA BGD BGR BHR BHS BIH BLM BLR BLZ BMU BOL BRA BRB "
	"BRN BTN BVT BWA CAF CAN CCK CHE CHL CHN CIV CMR COD COG COK COL COM "
	"CPV CRI CUB CUW CXR CYM CYP CZE DEU DJI DMA DNK DOM DZA ECU EGY ERI "
	"ESH ESP EST ETH FIN FJI FLK FRA FRO FSM GAB GBR GEO GGY GHA GIB GIN "
	"GLP GMB GNB GNQ GRC GRD GRL GTM GUF GUM GUY HKG HMD HND HRV HTI HUN "
	"IDN IMN IND IOT IRL IRN IRQ ISL ISR ITA JAM JEY JOR JPN KAZ KEN KGZ "
	"KHM KIR KNA KOR KWT LAO LBN LBR LBY LCA LIE LKA LSO LTU LUX LVA MAC "
	"MAF MAR MCO MDA MDG MDV MEX MHL MKD MLI MLT MMR MNE MNG MNP MOZ MRT "
	"MSR MTQ MUS MWI MYS MYT NAM NCL NER NFK NGA NIC NIU NLD NOR NPL NRU "
	"NZL OMN PAK PAN PCN PER PHL PLW PNG POL PRI PRK PRT PRY PSE PYF QAT "
	"REU ROU RUS RWA SAU SDN SEN SGP SGS SHN SJM SLB SLE SLV SMR SOM SPM "
	"SRB SSD STP SUR SVK SVN SWE SWZ SXM SYC SYR TCA TCD TGO THA TJK TKL "
	"TKM TLS TON TTO TUN TUR TUV TWN TZA UGA UKR UMI URY USA UZB VAT VCT "
	"VEN VGB VIR VNM VUT WLF WSM YEM ZAF ZMB ZWE";

/* Doc 9303 Part 3 codes beside ISO 3166-1, and UTO of the specimens. */
static const char *const icao_codes =
	"D<< EUE GBD GBN GBO GBP GBS UNO UNA UNK XXA XXB XXC XXX XPO XOM "
	"XCC XES XBA XIM XCO XDC XEC XCE RKS UTO";

uint64_t mrz_state_bitmap[MRZ_STATE_SPACE / 64];

static void
add_codes(const char *list)
{
	/* Codes of three characters, each but the last followed by a space. */
	for (const char *p = list;; p += 4) {
		int i = mrz_state_index(p);

		mrz_state_bitmap[i / 64] |= UINT64_C(1) << (i % 64);
		if (p[3] == '\0')
			break;
	}
}

/* The lists are constant, so the bitmap is built once when loaded. */
__attribute__((constructor)) static void
build_state_bitmap(void)
{
	add_codes(iso3166_alpha3);
	add_codes(icao_codes);
}

int
mrz_state_code_valid(const char code[3])
{
	return mrz_state_known(code);
}
