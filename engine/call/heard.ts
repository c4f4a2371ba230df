/**
 * What the caller actually heard of an assistant reply: the pacer tells how many ms of each
 * queued chunk were sent; the TTS alignment maps ms to characters.
 */
export interface SpokenChunk {
  /** Start of the chunk in the TTS stream's audio, ms. */
  readonly offsetMs: number;
  readonly durationMs: number;
}

export interface Alignment {
  readonly chars: readonly string[];
  /** Character start times in ms from the start of the TTS stream. */
  readonly charStartMs: readonly number[];
}

/**
 * Contiguous ms of a stream that reached the caller, from segments (start, ms played), in any
 * order: a segment counts only if it starts where what was heard so far ends (a resumed
 * remainder starts exactly there).
 */
export function reachMs(segments: readonly { readonly offsetMs: number; readonly playedMs: number }[]): number {
  let reach = 0;
  for (const s of [...segments].sort((a, b) => a.offsetMs - b.offsetMs)) {
    if (s.offsetMs > reach + 1) break;
    reach = Math.max(reach, s.offsetMs + s.playedMs);
  }
  return reach;
}

/** Ms of the stream heard, from the chunks queued and the ms played of each (by index). */
export function heardMs(chunks: readonly SpokenChunk[], playedById: ReadonlyMap<number, number>): number {
  return reachMs(chunks.map((c, i) => ({ offsetMs: c.offsetMs, playedMs: Math.min(playedById.get(i) ?? 0, c.durationMs) })));
}

/**
 * The prefix of `text` spoken by `ms`. With alignment: the characters that started before `ms`
 * (mapped onto `text` by count, since providers may normalise spacing); without: proportional to
 * the total audio length. Cut at a word boundary: a half-heard word is not in the transcript.
 */
export function heardText(text: string, ms: number, totalMs: number, alignment: Alignment | null): string {
  if (ms <= 0) return '';
  let n: number;
  if (alignment && alignment.chars.length) {
    n = 0;
    while (n < alignment.charStartMs.length && (alignment.charStartMs[n] as number) < ms) n++;
    if (n >= alignment.chars.length) return text;
    n = Math.round((n / alignment.chars.length) * text.length);
  } else {
    if (totalMs <= 0 || ms >= totalMs) return text;
    n = Math.floor((ms / totalMs) * text.length);
  }
  if (n >= text.length) return text;
  const cut = text.slice(0, n);
  if (/\s$/.test(cut) || /^\s/.test(text.slice(n))) return cut.trimEnd();
  const sp = cut.lastIndexOf(' ');
  return sp > 0 ? cut.slice(0, sp) : '';
}
