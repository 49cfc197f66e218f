/** Record types meshdns reads or writes (RFC 1035, 3596, 2782, 6891). */
export const RRType = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  OPT: 41,
  ANY: 255,
} as const;

export const RRClass = { IN: 1 } as const;

/** Response codes; values above 15 need an OPT record to carry their upper bits (RFC 6891). */
export const Rcode = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  BADVERS: 16,
} as const;

export const Opcode = { QUERY: 0 } as const;

/** Header flag bits in the 16-bit flags word (bytes 2–3). */
export const Flag = {
  QR: 0x8000,
  OPCODE_MASK: 0x7800,
  AA: 0x0400,
  TC: 0x0200,
  RD: 0x0100,
  RA: 0x0080,
  /** Reserved: zero in every query and reply (RFC 1035 §4.1.1); a query that sets it is answered as if it did not. */
  Z: 0x0040,
  AD: 0x0020,
  CD: 0x0010,
  RCODE_MASK: 0x000f,
} as const;

export const HEADER_LENGTH = 12;
/** The classic UDP limit without EDNS (RFC 1035 §4.2.1). */
export const UDP_DEFAULT_MAX = 512;
export const TCP_MAX = 65535;
/** Payload size meshdns advertises in its OPT: the DNS flag day 2020 value that avoids fragmentation. */
export const EDNS_ADVERTISED_SIZE = 1232;
/** An OPT record without options: root name, type, class, TTL, RDLENGTH. */
export const OPT_RECORD_LENGTH = 11;
/** The EDNS DO bit in the OPT TTL's lower 16 bits. */
export const EDNS_DO_BIT = 0x8000;
