-- The history of one record (a submission's reviews) is read from the audit log by entity.
CREATE INDEX audit_log_entity ON audit_log(entity, entity_id);
