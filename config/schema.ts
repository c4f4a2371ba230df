/**
 * The engine's configuration: one validated, frozen object. Sources, lowest first:
 * built-in defaults < optional file named by CONFIG_FILE (JSON or YAML) < environment.
 */
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export type ProviderName = 'deepgram' | 'openai' | 'elevenlabs' | 'xai' | 'resend';
export const PROVIDER_NAMES: readonly ProviderName[] = ['deepgram', 'openai', 'elevenlabs', 'xai', 'resend'];

export interface ProviderEndpoint {
  /** Engine-wide default key; an organization's BYOK key wins over it. */
  readonly apiKey: string | null;
  /** Base URL override (a fake server, a proxy, or a self-hosted OpenAI-compatible server). */
  readonly baseUrl: string | null;
}

export interface EngineConfig {
  readonly api: {
    readonly host: string;
    readonly port: number;
    /** Requests per minute per API key (spec §10). */
    readonly rateLimitPerMinute: number;
    /** Call-control commands per minute per call (spec §10). */
    readonly controlRateLimitPerMinute: number;
    /** Serve /metrics without auth even when not bound to loopback. */
    readonly publicMetrics: boolean;
  };
  readonly sip: {
    readonly host: string;
    readonly port: number;
    /** Address written into Via/Contact/SDP when the engine sits behind NAT. */
    readonly advertisedAddress: string | null;
    readonly tlsPort: number | null;
    readonly tlsCertFile: string | null;
    readonly tlsKeyFile: string | null;
    /** Log every SIP message in and out. */
    readonly trace: boolean;
  };
  readonly rtp: {
    readonly portMin: number;
    readonly portMax: number;
    /**
     * Media worker threads carrying the RTP sessions (0: in the main thread). null = auto: half
     * the cores, but 2 on a machine with 2 or more (see autoMediaWorkers), so the call layer's
     * work never delays a packet.
     */
    readonly workers: number | null;
    /**
     * Scheduling of the media worker threads (Linux): `normal`; `high` = nice -10; `realtime`
     * (default) = also SCHED_FIFO 10, like Asterisk's -p / FreeSWITCH's -rp. Under CPU
     * contention the 20 ms deadlines then win over the control plane. Needs root or CAP_SYS_NICE;
     * without it a warning is logged and the threads run at normal priority.
     */
    readonly priority: MediaPriority;
    /**
     * Caller audio quieter than this RMS level (dBFS) is not run through Silero: it counts as
     * silence. Default -60 (a quiet line; speech sits near -35 to -15). null = infer everything.
     */
    readonly vadGateDbfs: number | null;
  };
  readonly dataDir: string;
  readonly bootstrapApiKey: string | null;
  /** 32-byte key (64 hex chars or base64) for secrets at rest; a key file in dataDir when null. */
  readonly masterKey: string | null;
  readonly logLevel: LogLevel;
  readonly providers: { readonly [P in ProviderName]: ProviderEndpoint };
  readonly calls: {
    /** Global cap when an assistant sets no max_duration_seconds (spec §4.6). */
    readonly maxDurationSeconds: number;
    /** How long live calls may run on after SIGTERM before they are ended. */
    readonly drainSeconds: number;
    /** Record every call as a stereo WAV (caller left, agent right) in DATA_DIR/recordings; never for gdpr_mode assistants. */
    readonly record: boolean;
  };
  readonly webhooks: {
    /** Allow http:// webhook URLs (spec §6.8 production mode allows https only). */
    readonly allowHttp: boolean;
  };
  readonly defaults: {
    /** IANA zone for campaigns created without one. */
    readonly timezone: string;
  };
}

export const MEDIA_PRIORITIES = ['normal', 'high', 'realtime'] as const;
export type MediaPriority = (typeof MEDIA_PRIORITIES)[number];

export const DEFAULTS: EngineConfig = {
  api: { host: '127.0.0.1', port: 8080, rateLimitPerMinute: 100, controlRateLimitPerMinute: 10, publicMetrics: false },
  sip: { host: '0.0.0.0', port: 5060, advertisedAddress: null, tlsPort: null, tlsCertFile: null, tlsKeyFile: null, trace: false },
  rtp: { portMin: 20000, portMax: 30000, workers: null, priority: 'realtime', vadGateDbfs: -60 },
  dataDir: './data',
  bootstrapApiKey: null,
  masterKey: null,
  logLevel: 'info',
  providers: {
    deepgram: { apiKey: null, baseUrl: null },
    openai: { apiKey: null, baseUrl: null },
    elevenlabs: { apiKey: null, baseUrl: null },
    xai: { apiKey: null, baseUrl: null },
    resend: { apiKey: null, baseUrl: null },
  },
  calls: { maxDurationSeconds: 3600, drainSeconds: 30, record: false },
  webhooks: { allowHttp: true },
  defaults: { timezone: 'UTC' },
};
