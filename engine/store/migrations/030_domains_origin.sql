-- Domains (spec §3.10): remember whether the engine created the domain at Resend (POST /domains)
-- or only selected an existing one (POST /domains/sync). DELETE /domains removes the domain at
-- Resend only in the first case, so unlinking a synced domain never destroys the customer's own.
ALTER TABLE domains ADD COLUMN created_here INTEGER NOT NULL DEFAULT 0;
