import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { DEFAULTS, LOG_LEVELS, MEDIA_PRIORITIES, PROVIDER_NAMES, type EngineConfig, type LogLevel, type MediaPriority } from './schema.js';

/** A bad setting: `message` is one line naming the variable and what it accepts. */
export class ConfigError extends Error {
  readonly variable: string;
  constructor(variable: string, accepts: string, got: unknown) {
    super(`${variable}: expected ${accepts}, got ${JSON.stringify(got)}`);
    this.name = 'ConfigError';
    this.variable = variable;
  }
}

type Env = Readonly<Record<string, string | undefined>>;
type Json = Record<string, unknown>;

function isObj(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function deepMerge(base: Json, over: Json): Json {
  const out: Json = { ...base };
  for (const [k, v] of Object.entries(over)) {
    // Objects are copied, never shared: setPath() writes into the result, and must not reach DEFAULTS.
    out[k] = isObj(v) ? deepMerge(isObj(out[k]) ? (out[k] as Json) : {}, v) : v;
  }
  return out;
}

function deepFreeze<T>(o: T): T {
  if (isObj(o)) for (const v of Object.values(o)) deepFreeze(v);
  return Object.freeze(o);
}

const int = (name: string, raw: unknown, min: number, max: number): number => {
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*-?\d+\s*$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(name, `an integer from ${min} to ${max}`, raw);
  return n;
};
const bool = (name: string, raw: unknown): boolean => {
  if (typeof raw === 'boolean') return raw;
  if (typeof raw === 'string' && /^(1|true|yes|on)$/i.test(raw)) return true;
  if (typeof raw === 'string' && /^(0|false|no|off)$/i.test(raw)) return false;
  throw new ConfigError(name, 'true or false', raw);
};
const mediaPriority = (name: string, raw: unknown): MediaPriority => {
  if (typeof raw === 'string' && (MEDIA_PRIORITIES as readonly string[]).includes(raw.trim())) return raw.trim() as MediaPriority;
  throw new ConfigError(name, `one of ${MEDIA_PRIORITIES.join(', ')}`, raw);
};
/** A level in dBFS from -120 to 0, or off/none/null (no gate). */
const vadGate = (name: string, raw: unknown): number | null => {
  if (raw === null || (typeof raw === 'string' && /^\s*(off|none|null)\s*$/i.test(raw))) return null;
  const v = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(raw) ? Number(raw) : NaN;
  if (!(v >= -120 && v <= 0)) throw new ConfigError(name, 'a level in dBFS from -120 to 0, or off', raw);
  return v;
};
const str = (name: string, raw: unknown, nullable: boolean): string | null => {
  if ((raw === null || raw === undefined || raw === '') && nullable) return null;
  if (typeof raw !== 'string' || raw.trim() === '') throw new ConfigError(name, 'a non-empty string', raw);
  return raw.trim();
};
const host = (name: string, raw: unknown): string => {
  const s = str(name, raw, false) as string;
  if (!/^[A-Za-z0-9.\-:[\]]+$/.test(s)) throw new ConfigError(name, 'a host name or IP address', raw);
  return s;
};
const url = (name: string, raw: unknown): string | null => {
  const s = str(name, raw, true);
  if (s === null) return null;
  try {
    const u = new URL(s);
    if (!/^(https?|wss?):$/.test(u.protocol)) throw new Error('scheme');
  } catch {
    throw new ConfigError(name, 'an http(s) or ws(s) URL', raw);
  }
  return s.replace(/\/+$/, '');
};
const masterKey = (name: string, raw: unknown): string | null => {
  const s = str(name, raw, true);
  if (s === null) return null;
  const ok = /^[0-9a-fA-F]{64}$/.test(s) || (/^[A-Za-z0-9+/]{43}=?$/.test(s) && Buffer.from(s, 'base64').length === 32);
  if (!ok) throw new ConfigError(name, '32 bytes as 64 hex characters or base64', '<redacted>');
  return s;
};
const zone = (name: string, raw: unknown): string => {
  const s = str(name, raw, false) as string;
  try {
    new Intl.DateTimeFormat('en', { timeZone: s });
  } catch {
    throw new ConfigError(name, 'an IANA time zone such as Europe/Amsterdam', raw);
  }
  return s;
};

/** Environment variable -> path in the config object. */
const ENV_PATHS: ReadonlyArray<readonly [string, string]> = [
  ['API_HOST', 'api.host'], ['API_PORT', 'api.port'], ['API_RATE_LIMIT', 'api.rateLimitPerMinute'],
  ['METRICS_PUBLIC', 'api.publicMetrics'],
  ['SIP_HOST', 'sip.host'], ['SIP_PORT', 'sip.port'], ['SIP_ADVERTISED_ADDRESS', 'sip.advertisedAddress'],
  ['SIP_TLS_PORT', 'sip.tlsPort'], ['SIP_TLS_CERT', 'sip.tlsCertFile'], ['SIP_TLS_KEY', 'sip.tlsKeyFile'],
  ['SIP_TRACE', 'sip.trace'],
  ['RTP_PORT_MIN', 'rtp.portMin'], ['RTP_PORT_MAX', 'rtp.portMax'], ['MEDIA_WORKERS', 'rtp.workers'], ['MEDIA_PRIORITY', 'rtp.priority'], ['VAD_GATE_DBFS', 'rtp.vadGateDbfs'],
  ['DATA_DIR', 'dataDir'], ['BOOTSTRAP_API_KEY', 'bootstrapApiKey'], ['MASTER_KEY', 'masterKey'],
  ['LOG_LEVEL', 'logLevel'], ['MAX_CALL_DURATION_SECONDS', 'calls.maxDurationSeconds'],
  ['DRAIN_SECONDS', 'calls.drainSeconds'], ['RECORD_CALLS', 'calls.record'], ['WEBHOOKS_ALLOW_HTTP', 'webhooks.allowHttp'],
  ['DEFAULT_TIMEZONE', 'defaults.timezone'],
  ...PROVIDER_NAMES.flatMap((p) => [
    [`${p.toUpperCase()}_API_KEY`, `providers.${p}.apiKey`] as const,
    [`${p.toUpperCase()}_BASE_URL`, `providers.${p}.baseUrl`] as const,
  ]),
];

function setPath(obj: Json, path: string, value: unknown): void {
  const keys = path.split('.');
  let cur = obj;
  for (const k of keys.slice(0, -1)) {
    if (!isObj(cur[k])) cur[k] = {};
    cur = cur[k] as Json;
  }
  cur[keys[keys.length - 1] as string] = value;
}
function getPath(obj: Json, path: string): unknown {
  return path.split('.').reduce<unknown>((o, k) => (isObj(o) ? o[k] : undefined), obj);
}

function readFileLayer(file: string): Json {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError('CONFIG_FILE', 'a readable JSON or YAML file', `${file} (${(e as NodeJS.ErrnoException).code ?? 'unreadable'})`);
  }
  let data: unknown;
  try {
    data = /\.json$/i.test(file) ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new ConfigError('CONFIG_FILE', 'valid JSON or YAML', `${file}: ${(e as Error).message.split('\n')[0]}`);
  }
  if (data === null || data === undefined) return {};
  if (!isObj(data)) throw new ConfigError('CONFIG_FILE', 'a JSON/YAML object at the top level', file);
  return data;
}

/**
 * Builds the frozen config. Throws ConfigError on the first bad value; nothing else reads
 * process.env: the caller passes it in.
 */
export function loadConfig(env: Env = {}): EngineConfig {
  let merged: Json = deepMerge({}, DEFAULTS as unknown as Json);
  const file = env.CONFIG_FILE;
  if (file) merged = deepMerge(merged, readFileLayer(file));
  // Which name to blame for a bad value: the env var when it was set, else the file key.
  const source = new Map<string, string>();
  for (const [name, path] of ENV_PATHS) {
    const v = env[name];
    if (v !== undefined) {
      setPath(merged, path, v);
      source.set(path, name);
    }
  }
  const n = (path: string): string => source.get(path) ?? (file ? `${file}:${path}` : path);
  const g = (path: string): unknown => getPath(merged, path);
  const optInt = (path: string, min: number, max: number): number | null => {
    const raw = g(path);
    return raw === null || raw === undefined || raw === '' ? null : int(n(path), raw, min, max);
  };

  const logLevel = g('logLevel');
  if (typeof logLevel !== 'string' || !LOG_LEVELS.includes(logLevel as LogLevel)) {
    throw new ConfigError(n('logLevel'), `one of ${LOG_LEVELS.join(', ')}`, logLevel);
  }
  const providers = Object.fromEntries(PROVIDER_NAMES.map((p) => [p, {
    apiKey: str(n(`providers.${p}.apiKey`), g(`providers.${p}.apiKey`), true),
    baseUrl: url(n(`providers.${p}.baseUrl`), g(`providers.${p}.baseUrl`)),
  }])) as unknown as EngineConfig['providers'];

  const cfg: EngineConfig = {
    api: {
      host: host(n('api.host'), g('api.host')),
      port: int(n('api.port'), g('api.port'), 0, 65535),
      rateLimitPerMinute: int(n('api.rateLimitPerMinute'), g('api.rateLimitPerMinute'), 1, 1_000_000),
      controlRateLimitPerMinute: int(n('api.controlRateLimitPerMinute'), g('api.controlRateLimitPerMinute'), 1, 1_000_000),
      publicMetrics: bool(n('api.publicMetrics'), g('api.publicMetrics')),
    },
    sip: {
      host: host(n('sip.host'), g('sip.host')),
      port: int(n('sip.port'), g('sip.port'), 0, 65535),
      advertisedAddress: str(n('sip.advertisedAddress'), g('sip.advertisedAddress'), true),
      tlsPort: optInt('sip.tlsPort', 0, 65535),
      tlsCertFile: str(n('sip.tlsCertFile'), g('sip.tlsCertFile'), true),
      tlsKeyFile: str(n('sip.tlsKeyFile'), g('sip.tlsKeyFile'), true),
      trace: bool(n('sip.trace'), g('sip.trace')),
    },
    rtp: {
      portMin: int(n('rtp.portMin'), g('rtp.portMin'), 1024, 65534),
      portMax: int(n('rtp.portMax'), g('rtp.portMax'), 1025, 65535),
      workers: g('rtp.workers') === 'auto' ? null : optInt('rtp.workers', 0, 64),
      priority: mediaPriority(n('rtp.priority'), g('rtp.priority')),
      vadGateDbfs: vadGate(n('rtp.vadGateDbfs'), g('rtp.vadGateDbfs')),
    },
    dataDir: str(n('dataDir'), g('dataDir'), false) as string,
    bootstrapApiKey: str(n('bootstrapApiKey'), g('bootstrapApiKey'), true),
    masterKey: masterKey(n('masterKey'), g('masterKey')),
    logLevel: logLevel as LogLevel,
    providers,
    calls: {
      maxDurationSeconds: int(n('calls.maxDurationSeconds'), g('calls.maxDurationSeconds'), 10, 86_400),
      drainSeconds: int(n('calls.drainSeconds'), g('calls.drainSeconds'), 0, 86_400),
      record: bool(n('calls.record'), g('calls.record')),
    },
    webhooks: { allowHttp: bool(n('webhooks.allowHttp'), g('webhooks.allowHttp')) },
    defaults: { timezone: zone(n('defaults.timezone'), g('defaults.timezone')) },
  };
  if (cfg.rtp.portMax - cfg.rtp.portMin < 2) {
    throw new ConfigError(source.get('rtp.portMax') ?? 'RTP_PORT_MAX', `a port at least 2 above RTP_PORT_MIN (${cfg.rtp.portMin})`, cfg.rtp.portMax);
  }
  if ((cfg.sip.tlsPort === null) !== (cfg.sip.tlsCertFile === null) || (cfg.sip.tlsCertFile === null) !== (cfg.sip.tlsKeyFile === null)) {
    throw new ConfigError('SIP_TLS_PORT', 'SIP_TLS_PORT, SIP_TLS_CERT and SIP_TLS_KEY set together', cfg.sip.tlsPort);
  }
  if (cfg.bootstrapApiKey !== null && cfg.bootstrapApiKey.length < 16) {
    throw new ConfigError(n('bootstrapApiKey'), 'at least 16 characters', '<redacted>');
  }
  return deepFreeze(cfg);
}
