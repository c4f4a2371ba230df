/** E.164 normalisation of the user part of a Request-URI / To URI. */
import { unescapeUser } from './message.js';

export interface E164Options {
  /** Country calling code (digits, e.g. "1", "44") for national numbers starting with a trunk prefix. */
  defaultCountryCode?: string;
  /** National trunk prefix stripped before adding the country code (default "0"; "1" for NANP is not needed). */
  trunkPrefix?: string;
}

/**
 * Normalise a dialled string to E.164 ("+<digits>"), or undefined when it is not a phone number.
 * Accepts "+1 (415) 555-0100", "tel:+14155550100", "0044...", "00 44 ...", "+44;npdi" (params dropped),
 * and with a default country code national forms ("020 7946 0000" → "+442079460000").
 */
export function normalizeE164(input: string, opts: E164Options = {}): string | undefined {
  let s = unescapeUser(input.trim());
  s = s.replace(/^(tel|sip|sips):/i, '');
  const at = s.indexOf('@');
  if (at >= 0) s = s.slice(0, at);
  const semi = s.indexOf(';');
  if (semi >= 0) s = s.slice(0, semi);
  s = s.replace(/[\s\-.()/]/g, '');
  if (!/^\+?\d+$/.test(s)) return undefined;
  let digits: string;
  if (s.startsWith('+')) digits = s.slice(1);
  else if (s.startsWith('00')) digits = s.slice(2);
  else if (s.startsWith('011') && opts.defaultCountryCode === '1') digits = s.slice(3);
  else if (opts.defaultCountryCode) {
    const tp = opts.trunkPrefix ?? '0';
    if (tp && s.startsWith(tp) && opts.defaultCountryCode !== '1') digits = opts.defaultCountryCode + s.slice(tp.length);
    else if (opts.defaultCountryCode === '1' && s.length === 10) digits = '1' + s;
    else if (s.startsWith(opts.defaultCountryCode) && s.length >= 10) digits = s;
    else digits = opts.defaultCountryCode + s;
  } else digits = s;
  if (digits.length < 3 || digits.length > 15 || digits.startsWith('0')) return undefined;
  return `+${digits}`;
}
