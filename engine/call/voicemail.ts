/** Spec §8.1: the first utterance of an answered outbound call, checked once for voicemail phrases. */
const EN = ['voicemail', 'leave a message', 'please record', 'unavailable', 'not available', 'not here', 'after the tone',
  'after the beep', 'press star', 'speak your message', 'call back later', 'mailbox', 'beep', 'message'];
const NL = ['voicemail', 'spreek een bericht in', 'laat een bericht achter', 'na de piep', 'na de toon', 'niet bereikbaar',
  'niet beschikbaar', 'bel later terug', 'inspreken', 'piep', 'bericht'];

const normalise = (s: string): string => s.toLowerCase().normalize('NFKD').replace(/[\u0300-\u036f]/g, '').replace(/[^a-z0-9 ]+/g, ' ').replace(/\s+/g, ' ').trim();
const PHRASES = [...new Set([...EN, ...NL])].map(normalise);

/** The indicator phrase found in `text`, or null. Whole-word matching on normalised text. */
export function voicemailIndicator(text: string): string | null {
  const t = ` ${normalise(text)} `;
  for (const p of PHRASES) if (t.includes(` ${p} `)) return p;
  return null;
}
