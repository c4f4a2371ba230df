/** Public surface of the media plane. Import from here, not from the files. */
export { MediaEngine } from './engine.js';
export type { MediaEngineOptions, MediaEngineStats } from './engine.js';
export { LocalMediaSession } from './session.js';
export { RemoteMediaSession } from './worker/remote-session.js';
export type {
  ClearResult, JitterConfig, MediaDirection, MediaEvent, MediaEventListener, MediaEventType, MediaSession, MediaStats, PlayItem, PlayedItem,
  RemoteCodec, RemoteDescription, RemoteReport, SessionOptions, VadConfig,
} from './types.js';
export type { MediaThreadPriority, PriorityResult } from './worker/protocol.js';
export { MediaError } from './errors.js';
export type { MediaErrorCode } from './errors.js';
export { CODEC_CAPABILITIES, AUDIO_CODEC_NAMES, normalizeCodecName, pcmRateOf, chooseCodec } from './codecs/capabilities.js';
export type { AudioCodecName, CodecCapability, CodecChoice, OfferedFormat } from './codecs/capabilities.js';
export { createCodec, opusPacketSamples } from './codecs/index.js';
export type { AudioCodec } from './codecs/index.js';
export { ulawEncode, ulawDecode, alawEncode, alawDecode, ulawToAlaw, alawToUlaw } from './codecs/g711.js';
export { G722Encoder, G722Decoder } from './codecs/g722.js';
export { OpusCodec } from './codecs/opus.js';
export { MediaClock, realTimeSource } from './clock.js';
export type { ClockStats, ClockTick, MediaClockOptions, TimeSource } from './clock.js';
export { JitterBuffer } from './jitter.js';
export type { JitterOptions, JitterPacket, JitterPop, JitterStats } from './jitter.js';
export { PortAllocator } from './ports.js';
export { Resampler, PCM_RATES, isPcmRate } from './resample.js';
export type { PcmRate } from './resample.js';
export { parseRtp, buildRtp, isRtcpPacket, RtpReceiveStats } from './rtp/packet.js';
export type { RtpPacket, RtpBuildInput, RtpParseResult } from './rtp/packet.js';
export { parseRtcp, buildSenderReport, buildReceiverReport, buildSdes, buildBye } from './rtp/rtcp.js';
export type { RtcpPacket, ReportBlock, SenderInfo } from './rtp/rtcp.js';
export { DTMF_DIGITS, isDtmfDigit, parseTelephoneEvent, buildTelephoneEvent, DtmfReceiver, DtmfSender } from './dtmf.js';
export type { DtmfDigit, TelephoneEvent } from './dtmf.js';
export { WavWriter, encodeWav, parseWav } from './wav.js';
export type { VadEngine, VadStream, VadEvent, VadOptions, VadRate } from './vad/types.js';
export { RtpEngineAnchor } from './rtpengine.js';
export type { RtpEngineAnchorOptions, NgOfferRequest, NgAnswerRequest, NgCodecOptions, NgSdpResult } from './rtpengine.js';
