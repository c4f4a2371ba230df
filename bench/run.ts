/**
 * `npm run bench -- <name>` runs one benchmark; with no name, all of them in order. Each
 * benchmark is a standalone script bench/<name>.ts that writes bench/results/<name>.json and
 * prints a short table; this runner adds the machine facts and a summary.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const ALL = ['pacing', 'vad', 'sip-setup', 'first-audio', 'turn-latency', 'barge-in', 'capacity'] as const;

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = wanted.filter((n) => !(ALL as readonly string[]).includes(n));
if (unknown.length) {
  process.stderr.write(`unknown benchmark ${unknown.join(', ')}; names: ${ALL.join(', ')}\n`);
  process.exit(2);
}
const names = wanted.length ? wanted : [...ALL];
mkdirSync(join(here, 'results'), { recursive: true });

const machine = { cores: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', mem_gb: Math.round(totalmem() / 2 ** 30), node: process.version };
const summary: Record<string, unknown> = {};
let failed = 0;
for (const name of names) {
  const script = join(here, `${name}.ts`);
  if (!existsSync(script)) {
    process.stdout.write(`\n== ${name}: not present in this build\n`);
    summary[name] = { status: 'missing' };
    failed++;
    continue;
  }
  process.stdout.write(`\n== ${name}  (load ${loadavg().map((l) => l.toFixed(2)).join(' ')})\n`);
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', script], { stdio: 'inherit', cwd: join(here, '..') });
  const file = join(here, 'results', `${name}.json`);
  if (r.status !== 0 || !existsSync(file)) {
    summary[name] = { status: 'failed', exit: r.status };
    failed++;
    continue;
  }
  const result = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  result.machine ??= machine;
  writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  summary[name] = { status: 'ok', seconds: Math.round((Date.now() - t0) / 1000) };
}
// The summary describes a whole run; a single benchmark does not overwrite it.
if (!wanted.length) writeFileSync(join(here, 'results', 'summary.json'), JSON.stringify({ machine, at: new Date().toISOString(), runs: summary }, null, 2) + '\n');
process.stdout.write(`\n${JSON.stringify({ machine, runs: summary })}\n`);
process.exit(failed ? 1 : 0);
