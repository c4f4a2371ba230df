import { MediaError } from './errors.js';

/**
 * Hands out RTP/RTCP port pairs (even RTP port, RTP+1 for RTCP) from [min, max], round-robin so a
 * just-released pair is not reused at once (late packets of the old call would land in the new one).
 * The caller's `bind` callback really binds the sockets; a pair that fails to bind (taken by
 * another process) is skipped.
 */
export class PortAllocator {
  readonly min: number;
  readonly max: number;
  #next: number;
  #inUse = new Set<number>();

  constructor(min: number, max: number) {
    const lo = min % 2 === 0 ? min : min + 1;
    const hi = max % 2 === 0 ? max - 1 : max; // the RTCP port (odd) must fit
    if (lo < 1024 || hi > 65535 || hi - lo < 1) throw new RangeError(`bad RTP port range ${min}..${max}`);
    this.min = lo;
    this.max = hi;
    this.#next = lo + 2 * Math.floor(Math.random() * this.pairs);
  }

  get pairs(): number { return Math.floor((this.max - this.min + 1) / 2); }
  get inUse(): number { return this.#inUse.size; }
  isInUse(port: number): boolean { return this.#inUse.has(port); }

  async allocate<T>(bind: (rtpPort: number) => Promise<T>): Promise<{ port: number; value: T }> {
    const pairs = this.pairs;
    for (let tries = 0; tries < pairs; tries++) {
      const port = this.#next;
      this.#next += 2;
      if (this.#next + 1 > this.max) this.#next = this.min;
      if (this.#inUse.has(port)) continue;
      this.#inUse.add(port);
      try {
        const value = await bind(port);
        return { port, value };
      } catch (err) {
        this.#inUse.delete(port);
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'EADDRINUSE' && code !== 'EACCES') throw err;
      }
    }
    throw new MediaError('PORTS_EXHAUSTED', `no free RTP port pair in ${this.min}..${this.max}`);
  }

  release(port: number): void {
    this.#inUse.delete(port);
  }
}
