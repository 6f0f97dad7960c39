"""Payments: fees settled through a provider (built-in sandbox, GOV.UK Pay), a ledger, refunds, reconciliation."""
