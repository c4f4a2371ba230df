import { join } from 'node:path';
import { openDb, type Db } from './db.js';
import { SecretBox } from './secrets.js';
import { OrganizationsRepo } from './repos/organizations.js';
import { ApiKeysRepo } from './repos/apiKeys.js';
import { AssistantsRepo } from './repos/assistants.js';
import { AnalysisTemplatesRepo, ToolTemplatesRepo } from './repos/templates.js';
import { TrunksRepo } from './repos/trunks.js';
import { NumbersRepo } from './repos/numbers.js';
import { CallsRepo } from './repos/calls.js';
import { UsageRepo } from './repos/usage.js';
import { ByokRepo } from './repos/byok.js';
import { DomainsRepo } from './repos/domains.js';
import { CampaignsRepo } from './repos/campaigns.js';
import { OutboxRepo } from './repos/outbox.js';

export type { Db } from './db.js';
export { SecretBox } from './secrets.js';

/** The engine's SQLite store: one repository per resource, all scoped by organization id. */
export class Store {
  readonly db: Db;
  readonly secrets: SecretBox;
  readonly organizations: OrganizationsRepo;
  readonly apiKeys: ApiKeysRepo;
  readonly assistants: AssistantsRepo;
  readonly toolTemplates: ToolTemplatesRepo;
  readonly analysisTemplates: AnalysisTemplatesRepo;
  readonly trunks: TrunksRepo;
  readonly numbers: NumbersRepo;
  readonly calls: CallsRepo;
  readonly usage: UsageRepo;
  readonly byok: ByokRepo;
  readonly domains: DomainsRepo;
  readonly campaigns: CampaignsRepo;
  readonly outbox: OutboxRepo;
  #closed = false;

  constructor(db: Db, secrets: SecretBox) {
    this.db = db;
    this.secrets = secrets;
    this.organizations = new OrganizationsRepo(db, secrets);
    this.apiKeys = new ApiKeysRepo(db);
    this.assistants = new AssistantsRepo(db, secrets);
    this.toolTemplates = new ToolTemplatesRepo(db);
    this.analysisTemplates = new AnalysisTemplatesRepo(db);
    this.trunks = new TrunksRepo(db, secrets);
    this.numbers = new NumbersRepo(db);
    this.calls = new CallsRepo(db);
    this.usage = new UsageRepo(db);
    this.byok = new ByokRepo(db, secrets);
    this.domains = new DomainsRepo(db);
    this.campaigns = new CampaignsRepo(db);
    this.outbox = new OutboxRepo(db, secrets);
  }

  /** Opens `<dataDir>/engine.db` with secrets sealed under MASTER_KEY or `<dataDir>/master.key`. */
  static open(opts: { dataDir: string; masterKey: string | null }): Store {
    return new Store(openDb(join(opts.dataDir, 'engine.db')), SecretBox.fromConfig(opts.masterKey, opts.dataDir));
  }

  /**
   * First start with an empty database: a default organization and an admin API key (the given
   * value, else a generated one). Returns the clear key only when it was created now.
   */
  bootstrap(keyValue: string | null): { orgId: string; apiKey: string | null } {
    return this.db.transaction(() => {
      if (this.organizations.count() > 0) {
        const first = this.db.prepare('SELECT id FROM organizations WHERE parent_org_id IS NULL ORDER BY created_at LIMIT 1').get() as { id: string };
        if (keyValue && !this.apiKeys.findByKey(keyValue)) {
          // BOOTSTRAP_API_KEY set after the first start: register it as an admin key of the default org.
          this.apiKeys.create(first.id, { isAdmin: true, value: keyValue });
          return { orgId: first.id, apiKey: keyValue };
        }
        return { orgId: first.id, apiKey: null };
      }
      const org = this.organizations.create({ name: 'Default organization', parent_org_id: null });
      const { key } = this.apiKeys.create(org.id, { isAdmin: true, ...(keyValue ? { value: keyValue } : {}) });
      return { orgId: org.id, apiKey: key };
    })();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      this.db.close();
    }
  }
}
