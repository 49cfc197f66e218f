import { randomFillSync } from 'crypto';

/**
 * Unpredictable 16-bit message IDs (the anti-spoofing half that the random source port
 * does not cover). Reads from a buffer refilled from the CSPRNG in blocks, which is much
 * cheaper than one crypto call per query.
 */
export class RandomIdSource {
  private readonly pool: Buffer;
  private offset: number;

  constructor(blockBytes = 4096) {
    this.pool = Buffer.alloc(blockBytes - (blockBytes % 2));
    this.offset = this.pool.length; // filled on first use
  }

  next(): number {
    if (this.offset >= this.pool.length) {
      randomFillSync(this.pool);
      this.offset = 0;
    }
    const id = this.pool.readUInt16BE(this.offset);
    this.offset += 2;
    return id;
  }
}
