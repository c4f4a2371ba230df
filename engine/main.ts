import { pino } from 'pino';
import { ConfigError, loadConfig, type EngineConfig } from '../config/index.js';
import { startEngine } from './engine.js';

let config: EngineConfig;
try {
  config = loadConfig(process.env);
} catch (e) {
  if (e instanceof ConfigError) {
    process.stderr.write(`config error: ${e.message}\n`);
    process.exit(1);
  }
  throw e;
}

const log = pino({ level: config.logLevel, base: { service: 'voice-engine' } });
const engine = await startEngine(config, log).catch((e: unknown) => {
  log.fatal({ err: e }, 'start-up failed');
  process.exit(1);
});

log.info({ api: engine.apiUrl }, 'engine started');
process.stdout.write(`\nAdmin API   ${engine.apiUrl}\nAPI docs    ${engine.apiUrl}/docs\nOpenAPI     ${engine.apiUrl}/openapi.json\n`);
if (engine.createdApiKey) {
  process.stdout.write(`API key     ${engine.createdApiKey}   (shown once; keep it)\n\n`);
} else {
  process.stdout.write('API key     (created at first start; set BOOTSTRAP_API_KEY to choose one)\n\n');
}

let stopping = false;
for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.on(sig, () => {
    if (stopping) return;
    stopping = true;
    log.info({ signal: sig }, 'draining');
    engine.close().then(
      () => {
        log.info('stopped');
        process.exit(0);
      },
      (e: unknown) => {
        log.error({ err: e }, 'drain failed');
        process.exit(1);
      },
    );
  });
}
