"""Payments' pages, one module per audience: the applicant's (:mod:`.applicant`), the sandbox's hosted
page (:mod:`.sandbox`); staff refunds, reconciliation and the webhook endpoint add their own modules."""
