/** Between the SIP layer's negotiated media and the media plane (neither imports the other). */
import type { NegotiatedMedia } from '../../sip/index.js';
import type { RemoteDescription } from '../../media/index.js';
import type { AudioFormat } from '../providers/audio.js';
import type { SttEncoding } from '../providers/stt.js';

export function remoteDescription(m: NegotiatedMedia): RemoteDescription {
  return {
    address: m.remoteAddress, port: m.remotePort,
    codec: { name: m.codec.name, payloadType: m.codec.payloadType, clockRate: m.codec.clockRate, ...(m.codec.channels ? { channels: m.codec.channels } : {}) },
    ...(m.telephoneEvent ? { telephoneEventPt: m.telephoneEvent.payloadType } : {}),
    direction: m.remoteDirection, localDirection: m.localDirection,
  };
}

export interface CallAudio { sttEncoding: SttEncoding; sampleRate: 8000 | 16000; ttsFormat: AudioFormat }

/** G.711 goes to the STT and comes from the TTS as it is; wideband codecs as 16 kHz PCM. */
export function audioFor(codec: string): CallAudio {
  switch (codec.toUpperCase()) {
    case 'PCMU': return { sttEncoding: 'mulaw', sampleRate: 8000, ttsFormat: 'ulaw_8000' };
    case 'PCMA': return { sttEncoding: 'alaw', sampleRate: 8000, ttsFormat: 'alaw_8000' };
    default: return { sttEncoding: 'linear16', sampleRate: 16000, ttsFormat: 'pcm_16000' };
  }
}
