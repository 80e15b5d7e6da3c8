"""Outbound webhooks in the ZGW Notificaties format (schemas/notificatie.schema.json)."""
