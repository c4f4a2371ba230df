-- Initial schema. JSON columns hold nested configuration exactly as the API emits it.
-- Secrets are never stored in clear: *_enc columns hold AES-256-GCM ciphertext (secrets.ts).

CREATE TABLE organizations (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  parent_org_id TEXT REFERENCES organizations(id) ON DELETE SET NULL,
  minutes_balance REAL,
  has_local_models_access INTEGER NOT NULL DEFAULT 1,
  webhook_url TEXT,
  webhook_secret_enc TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  key_hash TEXT NOT NULL UNIQUE,
  key_hint TEXT NOT NULL,
  is_admin INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  expires_at TEXT,
  revoked_at TEXT
);

CREATE TABLE assistants (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  is_active INTEGER NOT NULL DEFAULT 1,
  config TEXT NOT NULL,
  webhook_secret_enc TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX assistants_org ON assistants(org_id, created_at);

CREATE TABLE tool_templates (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  description TEXT,
  tool_type TEXT NOT NULL,
  tool_config TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX tool_templates_org ON tool_templates(org_id, created_at);

CREATE TABLE analysis_templates (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  description TEXT,
  system_prompt TEXT NOT NULL,
  user_prompt TEXT NOT NULL,
  schema TEXT NOT NULL,
  extra TEXT NOT NULL DEFAULT '{}',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX analysis_templates_org ON analysis_templates(org_id, created_at);

CREATE TABLE sip_trunks (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  provider TEXT,
  address TEXT NOT NULL,
  port INTEGER NOT NULL DEFAULT 5060,
  transport TEXT NOT NULL DEFAULT 'udp',
  auth_username TEXT,
  auth_password_enc TEXT,
  inbound_addresses TEXT NOT NULL DEFAULT '[]',
  outbound_number TEXT,
  outbound_proxy TEXT,
  register INTEGER NOT NULL DEFAULT 0,
  send_pai INTEGER NOT NULL DEFAULT 0,
  registration_status TEXT,
  registration_error TEXT,
  registration_updated_at TEXT,
  is_active INTEGER NOT NULL DEFAULT 1,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX sip_trunks_org ON sip_trunks(org_id, created_at);

CREATE TABLE numbers (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  phone_number TEXT NOT NULL UNIQUE,
  name TEXT,
  agent_id TEXT REFERENCES assistants(id) ON DELETE SET NULL,
  transfer_trunk_id TEXT REFERENCES sip_trunks(id) ON DELETE SET NULL,
  workflow_id TEXT,
  source TEXT NOT NULL DEFAULT 'sip',
  is_active INTEGER NOT NULL DEFAULT 1,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX numbers_org ON numbers(org_id, created_at);

CREATE TABLE calls (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  direction TEXT,
  status TEXT NOT NULL,
  caller_phone TEXT,
  assistant_phone TEXT,
  agent_id TEXT,
  number_id TEXT,
  agent_name TEXT,
  business_name TEXT,
  phone_number TEXT,
  end_reason TEXT,
  error TEXT,
  started_at TEXT,
  ended_at TEXT,
  duration_seconds INTEGER,
  summary TEXT,
  analysis_result TEXT,
  messages TEXT,
  metadata TEXT,
  assistant_config TEXT,
  room_name TEXT,
  recording_path TEXT,
  timings TEXT,
  sip_call_id TEXT,
  campaign_id TEXT,
  lead_id TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX calls_org_created ON calls(org_id, created_at);
CREATE INDEX calls_status ON calls(status);

CREATE TABLE usage_logs (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  call_id TEXT,
  duration_sec INTEGER NOT NULL,
  byok_stt INTEGER NOT NULL DEFAULT 0,
  byok_llm INTEGER NOT NULL DEFAULT 0,
  byok_tts INTEGER NOT NULL DEFAULT 0,
  phone_number TEXT,
  agent_name TEXT,
  business_name TEXT,
  call_type TEXT NOT NULL DEFAULT 'phone',
  created_at TEXT NOT NULL
);
CREATE INDEX usage_org_created ON usage_logs(org_id, created_at);

CREATE TABLE byok_secrets (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  provider TEXT NOT NULL,
  secret_enc TEXT NOT NULL,
  config TEXT NOT NULL DEFAULT '{}',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  UNIQUE (org_id, provider)
);

CREATE TABLE domains (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL UNIQUE REFERENCES organizations(id) ON DELETE CASCADE,
  resend_domain_id TEXT NOT NULL,
  name TEXT NOT NULL,
  status TEXT NOT NULL,
  region TEXT,
  records TEXT NOT NULL DEFAULT '[]',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

CREATE TABLE campaigns (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  agent_id TEXT NOT NULL,
  status TEXT NOT NULL,
  system_message_template TEXT,
  schedule_start_time TEXT NOT NULL,
  schedule_end_time TEXT NOT NULL,
  timezone TEXT NOT NULL,
  schedule_days TEXT,
  max_concurrency INTEGER,
  last_error TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX campaigns_org ON campaigns(org_id, created_at);

CREATE TABLE campaign_leads (
  id TEXT PRIMARY KEY,
  campaign_id TEXT NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
  phone_number TEXT NOT NULL,
  variables TEXT NOT NULL DEFAULT '{}',
  status TEXT NOT NULL,
  call_id TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  last_attempt_at TEXT,
  next_attempt_at TEXT,
  last_outcome TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  UNIQUE (campaign_id, phone_number)
);
CREATE INDEX campaign_leads_campaign ON campaign_leads(campaign_id, created_at);

CREATE TABLE webhook_outbox (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL,
  call_id TEXT,
  event_type TEXT NOT NULL,
  url TEXT NOT NULL,
  secret_enc TEXT,
  body TEXT NOT NULL,
  seq INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  status TEXT NOT NULL DEFAULT 'pending',
  next_attempt_at TEXT NOT NULL,
  last_error TEXT,
  created_at TEXT NOT NULL,
  delivered_at TEXT
);
CREATE INDEX webhook_outbox_due ON webhook_outbox(status, next_attempt_at);
