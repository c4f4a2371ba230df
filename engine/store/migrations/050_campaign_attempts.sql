-- Dialler attempts (engine/campaigns): one row per dial of a lead, written BEFORE the call is
-- placed, so that a restart knows what was in flight and never dials the same attempt twice.
-- state: dialling (recorded, call id not yet known) -> live (call id known) -> done (outcome
-- decided); void = never reached the telephony layer (placing threw, or a crash before the call
-- existed), the lead got the attempt back.
CREATE TABLE campaign_attempts (
  id TEXT PRIMARY KEY,
  campaign_id TEXT NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
  lead_id TEXT NOT NULL REFERENCES campaign_leads(id) ON DELETE CASCADE,
  org_id TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  state TEXT NOT NULL,
  call_id TEXT,
  outcome TEXT,
  lead_status TEXT,
  error TEXT,
  started_at TEXT NOT NULL,
  ended_at TEXT,
  created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX campaign_attempts_lead_attempt ON campaign_attempts(lead_id, attempt) WHERE state != 'void';
CREATE INDEX campaign_attempts_open ON campaign_attempts(state) WHERE state IN ('dialling', 'live');
CREATE INDEX campaign_attempts_campaign ON campaign_attempts(campaign_id, started_at);
CREATE INDEX calls_lead ON calls(lead_id) WHERE lead_id IS NOT NULL;
CREATE INDEX campaign_leads_due ON campaign_leads(campaign_id, status, next_attempt_at);
