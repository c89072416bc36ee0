/*
 * metapage.h - what the engine reads of LMDB 0.9's on-disk meta pages
 * (store creation tells a never-finished data file by them; the journal
 * keeps a checkpoint's copy to put back after a power cut). LMDB exposes no
 * API for either, so the layout is spelled out here, in one place.
 *
 * A meta page: a 16-byte page header (page number first, flags at offset
 * 10, P_META = 0x08), then the meta: magic at 16, format version at 20, the
 * page size in the free table's md_pad at 40, the transaction id at 144.
 * Fields are in the machine's byte order, as LMDB writes them.
 */
#ifndef ES_ENGINE_METAPAGE_H
#define ES_ENGINE_METAPAGE_H

#include <stdint.h>
#include <string.h>

#define ES__META_FLAGS_OFF 10
#define ES__META_MAGIC_OFF 16
#define ES__META_VERSION_OFF 20
#define ES__META_TXNID_OFF 144
#define ES__META_P_META 0x08
#define ES__MDB_MAGIC 0xBEEFC0DEu
#define ES__MDB_DATA_VERSION 1u

/* 1: meta page p (have bytes of it) is valid; *txnid its transaction. */
static inline int es__meta_page_valid(const uint8_t *p, size_t have, uint64_t *txnid)
{
	uint16_t flags;
	uint32_t magic, version;
	if (have < ES__META_TXNID_OFF + 8)
		return 0;
	memcpy(&flags, p + ES__META_FLAGS_OFF, 2);
	memcpy(&magic, p + ES__META_MAGIC_OFF, 4);
	memcpy(&version, p + ES__META_VERSION_OFF, 4);
	if (!(flags & ES__META_P_META) || magic != ES__MDB_MAGIC || version != ES__MDB_DATA_VERSION)
		return 0;
	memcpy(txnid, p + ES__META_TXNID_OFF, 8);
	return 1;
}

#endif
