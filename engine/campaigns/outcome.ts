/**
 * From a finished call record to a lead decision (spec §8.4 PROPOSED, made precise here).
 *
 * | call `end_reason`                                   | outcome                  | lead                      |
 * |-----------------------------------------------------|--------------------------|---------------------------|
 * | user_hangup, assistant_hangup, control_end_call,    | answered                 | completed                 |
 * | silence_timeout, max_duration, transferred (any     |                          |                           |
 * | other reason of a call that ended normally)         |                          |                           |
 * | voicemail, a message was left                       | voicemail_message_left   | completed                 |
 * | voicemail, nothing left                             | voicemail                | retry                     |
 * | no_answer / busy / failed_to_connect                | same                     | retry                     |
 * | rejected (SIP 404/484/410/604 invalid number, and   | rejected                 | failed at once            |
 * | 403/603 refusals: retrying cannot help)             |                          |                           |
 * | error, assistant_request_failed, a call the engine  | error                    | retry                     |
 * | marked failed after a crash                         |                          |                           |
 *
 * "retry": `pending` again after the retry interval while attempts < max attempts, else `failed`.
 * The call record keeps the SIP status only inside its error text, which is never parsed; every
 * `rejected` is therefore final.
 */
import type { CallRecord } from '../store/repos/calls.js';

export type AttemptOutcome =
  | 'answered' | 'voicemail' | 'voicemail_message_left' | 'no_answer' | 'busy' | 'failed_to_connect' | 'rejected' | 'error'
  /** The attempt's call record vanished (or never appeared) — treated like an error. */
  | 'lost';

export type Verdict = 'completed' | 'retry' | 'failed';

const ANSWERED = new Set(['user_hangup', 'assistant_hangup', 'control_end_call', 'silence_timeout', 'max_duration', 'transferred']);
const RETRY_AS_IS = new Set(['no_answer', 'busy', 'failed_to_connect']);

/** The outcome of a call that has ended (`status` ended or failed). */
export function outcomeOf(call: Pick<CallRecord, 'status' | 'end_reason' | 'messages' | 'assistant_config'>): AttemptOutcome {
  const r = call.end_reason;
  if (r === 'voicemail') return voicemailLeft(call) ? 'voicemail_message_left' : 'voicemail';
  if (r !== null && RETRY_AS_IS.has(r)) return r as AttemptOutcome;
  if (r === 'rejected') return 'rejected';
  if (r !== null && ANSWERED.has(r)) return 'answered';
  if (r === 'error' || r === 'assistant_request_failed') return 'error';
  // An end reason this table does not know: judge by the call status.
  return call.status === 'ended' ? 'answered' : 'error';
}

/** A voicemail call left a message when the assistant said something (§8.1: the greeting is held until classified). */
function voicemailLeft(call: Pick<CallRecord, 'messages' | 'assistant_config'>): boolean {
  if (call.messages !== null) return call.messages.some((m) => m.role === 'assistant' && m.content.trim() !== '');
  const msg = call.assistant_config?.voicemail_message;
  return typeof msg === 'string' && msg.trim() !== '';
}

export function verdictOf(outcome: AttemptOutcome): Verdict {
  switch (outcome) {
    case 'answered':
    case 'voicemail_message_left':
      return 'completed';
    case 'rejected':
      return 'failed';
    default:
      return 'retry';
  }
}
