import type { Db } from '../db.js';
import { now, uuid } from '../ids.js';
import { j, s, type JsonObject, type Row } from './util.js';

export interface ToolTemplateRecord {
  id: string;
  org_id: string;
  name: string;
  description: string | null;
  tool_type: 'function' | 'end_call' | 'transfer_call';
  tool_config: JsonObject;
  created_at: string;
  updated_at: string;
}

export class ToolTemplatesRepo {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }
  #map = (r: Row): ToolTemplateRecord => ({
    id: r.id as string,
    org_id: r.org_id as string,
    name: r.name as string,
    description: s(r.description),
    tool_type: r.tool_type as ToolTemplateRecord['tool_type'],
    tool_config: j<JsonObject>(r.tool_config, {}),
    created_at: r.created_at as string,
    updated_at: r.updated_at as string,
  });
  list(orgId: string): ToolTemplateRecord[] {
    return (this.#db.prepare('SELECT * FROM tool_templates WHERE org_id = ? ORDER BY created_at DESC, rowid DESC').all(orgId) as Row[]).map(this.#map);
  }
  get(orgId: string, id: string): ToolTemplateRecord | undefined {
    const r = this.#db.prepare('SELECT * FROM tool_templates WHERE org_id = ? AND id = ?').get(orgId, id) as Row | undefined;
    return r && this.#map(r);
  }
  create(orgId: string, v: Pick<ToolTemplateRecord, 'name' | 'description' | 'tool_type' | 'tool_config'>): ToolTemplateRecord {
    const id = uuid();
    const t = now();
    this.#db.prepare('INSERT INTO tool_templates (id, org_id, name, description, tool_type, tool_config, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(id, orgId, v.name, v.description, v.tool_type, JSON.stringify(v.tool_config), t, t);
    return this.get(orgId, id) as ToolTemplateRecord;
  }
  update(orgId: string, id: string, v: Pick<ToolTemplateRecord, 'name' | 'description' | 'tool_type' | 'tool_config'>): ToolTemplateRecord | undefined {
    this.#db.prepare('UPDATE tool_templates SET name = ?, description = ?, tool_type = ?, tool_config = ?, updated_at = ? WHERE org_id = ? AND id = ?')
      .run(v.name, v.description, v.tool_type, JSON.stringify(v.tool_config), now(), orgId, id);
    return this.get(orgId, id);
  }
  delete(orgId: string, id: string): boolean {
    return this.#db.prepare('DELETE FROM tool_templates WHERE org_id = ? AND id = ?').run(orgId, id).changes > 0;
  }
}

export interface AnalysisTemplateRecord {
  id: string;
  org_id: string;
  name: string;
  description: string | null;
  system_prompt: string;
  user_prompt: string;
  schema: JsonObject;
  /** Legacy fields kept as given (messages, min_messages_threshold). */
  extra: JsonObject;
  created_at: string;
  updated_at: string;
}

type AnalysisInput = Pick<AnalysisTemplateRecord, 'name' | 'description' | 'system_prompt' | 'user_prompt' | 'schema' | 'extra'>;

export class AnalysisTemplatesRepo {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }
  #map = (r: Row): AnalysisTemplateRecord => ({
    id: r.id as string,
    org_id: r.org_id as string,
    name: r.name as string,
    description: s(r.description),
    system_prompt: r.system_prompt as string,
    user_prompt: r.user_prompt as string,
    schema: j<JsonObject>(r.schema, {}),
    extra: j<JsonObject>(r.extra, {}),
    created_at: r.created_at as string,
    updated_at: r.updated_at as string,
  });
  list(orgId: string): AnalysisTemplateRecord[] {
    return (this.#db.prepare('SELECT * FROM analysis_templates WHERE org_id = ? ORDER BY created_at DESC, rowid DESC').all(orgId) as Row[]).map(this.#map);
  }
  get(orgId: string, id: string): AnalysisTemplateRecord | undefined {
    const r = this.#db.prepare('SELECT * FROM analysis_templates WHERE org_id = ? AND id = ?').get(orgId, id) as Row | undefined;
    return r && this.#map(r);
  }
  create(orgId: string, v: AnalysisInput): AnalysisTemplateRecord {
    const id = uuid();
    const t = now();
    this.#db.prepare('INSERT INTO analysis_templates (id, org_id, name, description, system_prompt, user_prompt, schema, extra, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(id, orgId, v.name, v.description, v.system_prompt, v.user_prompt, JSON.stringify(v.schema), JSON.stringify(v.extra), t, t);
    return this.get(orgId, id) as AnalysisTemplateRecord;
  }
  update(orgId: string, id: string, v: AnalysisInput): AnalysisTemplateRecord | undefined {
    this.#db.prepare('UPDATE analysis_templates SET name = ?, description = ?, system_prompt = ?, user_prompt = ?, schema = ?, extra = ?, updated_at = ? WHERE org_id = ? AND id = ?')
      .run(v.name, v.description, v.system_prompt, v.user_prompt, JSON.stringify(v.schema), JSON.stringify(v.extra), now(), orgId, id);
    return this.get(orgId, id);
  }
  delete(orgId: string, id: string): boolean {
    return this.#db.prepare('DELETE FROM analysis_templates WHERE org_id = ? AND id = ?').run(orgId, id).changes > 0;
  }
}
