export type { VadEngine, VadEvent, VadOptions, VadRate, VadStream } from './types.js';
export { createSileroVad, SileroVadEngine } from './silero.js';
export type { SileroVadOptions, SileroVadStats } from './silero.js';
export { VadError } from './errors.js';
export type { VadErrorCode } from './errors.js';
export { SpeechDetector, detectorConfig, DEFAULT_DETECTOR } from './detector.js';
export type { DetectorConfig } from './detector.js';
export { GEOMETRY, sileroModelPath } from './model.js';
