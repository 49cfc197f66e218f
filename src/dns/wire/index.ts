/** The DNS wire layer (docs/ARCHITECTURE.md §3): parsing queries, building local replies, fitting replies to the client. */
export { RRType, RRClass, Rcode, Opcode, Flag, EDNS_ADVERTISED_SIZE, UDP_DEFAULT_MAX, TCP_MAX } from './constants';
export { parseQuery } from './query';
export type { ParseOutcome } from './query';
export {
  localAnswer,
  ptrAnswer,
  srvAnswer,
  nodata,
  errorReply,
  formerrFromPacket,
  precomputeAnswers,
  answerFlagsFor,
} from './reply';
export type { AddressRecords, PrecomputedAnswers } from './reply';
export { fitToClient, withClientId } from './truncate';
export { reverseName, encodeName, readName, skipName, needsEscape, MAX_POINTER_HOPS, MAX_LABEL_LENGTH } from './names';
export { questionSectionEnd } from './sections';
export type { NameRead } from './names';
export { ipv4Bytes, ipv6Bytes } from './addresses';
