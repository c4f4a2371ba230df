/**
 * Cuts streamed LLM text into pieces for the TTS as it arrives: at sentence ends, or at a clause
 * boundary once a piece is long enough, so the first audio can start while the LLM still writes.
 */
export interface ChunkerOptions {
  /** A clause boundary (, ; :) cuts once the pending text is at least this long. Default 60. */
  readonly clauseMinChars?: number;
  /** The very first piece may be cut at a clause boundary earlier, to start speaking sooner. Default 24. */
  readonly firstClauseMinChars?: number;
  /** Hard cut at a word boundary when nothing else matched. Default 220. */
  readonly maxChars?: number;
}

// Abbreviations whose period does not end a sentence.
const ABBREV = /(?:\b(?:Mr|Mrs|Ms|Dr|Prof|Sr|Jr|St|vs|etc|e\.g|i\.e|No|approx|dhr|mevr|bijv|ca)\.)$/i;

export class SentenceChunker {
  #buf = '';
  #emitted = 0;
  readonly #clause: number;
  readonly #firstClause: number;
  readonly #max: number;

  constructor(opts: ChunkerOptions = {}) {
    this.#clause = opts.clauseMinChars ?? 60;
    this.#firstClause = opts.firstClauseMinChars ?? 24;
    this.#max = opts.maxChars ?? 220;
  }

  /** Adds a delta; returns the pieces that are complete now. */
  push(delta: string): string[] {
    this.#buf += delta;
    const out: string[] = [];
    for (;;) {
      const cut = this.#findCut();
      if (cut < 0) break;
      const piece = this.#buf.slice(0, cut).trim();
      this.#buf = this.#buf.slice(cut).replace(/^\s+/, '');
      if (piece) {
        out.push(piece);
        this.#emitted++;
      }
    }
    return out;
  }

  /** The rest, at the end of the stream. */
  flush(): string[] {
    const rest = this.#buf.trim();
    this.#buf = '';
    return rest ? [rest] : [];
  }

  #findCut(): number {
    const b = this.#buf;
    // Sentence end: . ! ? … (optionally followed by quotes/brackets) then whitespace.
    const re = /[.!?…]+["')\]]*(?=\s)/g;
    for (let m = re.exec(b); m; m = re.exec(b)) {
      const end = m.index + m[0].length;
      const before = b.slice(0, end);
      if (/\d\.$/.test(before) && /^\s*\d/.test(b.slice(end))) continue; // 3. 5 (list) or decimals split by space
      if (ABBREV.test(before)) continue;
      return end;
    }
    const minClause = this.#emitted === 0 ? this.#firstClause : this.#clause;
    if (b.length >= minClause) {
      const cre = /[,;:—–](?=\s)/g;
      let last = -1;
      for (let m = cre.exec(b); m; m = cre.exec(b)) if (m.index + 1 >= minClause) { last = m.index + 1; break; }
      if (last > 0) return last;
    }
    if (b.length >= this.#max) {
      const sp = b.lastIndexOf(' ', this.#max);
      return sp > 0 ? sp : this.#max;
    }
    return -1;
  }
}
