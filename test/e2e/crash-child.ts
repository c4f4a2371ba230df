/**
 * For the crash-restart e2e test: runs a provisioned engine on DATA_DIR in its own process and
 * prints one JSON line with its SIP address; the test kills it with SIGKILL mid-call.
 */
import { startHarness } from './harness.js';

const h = await startHarness({ dataDir: process.env.DATA_DIR as string, assistant: { webhook_url: process.env.HOOK_URL, webhook_secret: process.env.HOOK_SECRET } });
process.stdout.write(JSON.stringify({ sipPort: h.sipPort, number: h.number, key: h.key }) + '\n');
setInterval(() => undefined, 60_000);
