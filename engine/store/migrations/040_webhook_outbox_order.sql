-- Webhook outbox: per-call ordering lookups (earlier pending event of the same call) and seq allocation.
CREATE INDEX IF NOT EXISTS webhook_outbox_call_seq ON webhook_outbox(call_id, seq) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS webhook_outbox_seq ON webhook_outbox(seq);
