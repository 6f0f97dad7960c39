"""Payment providers behind :class:`~govserve.payments.providers.base.PaymentProvider` (sandbox, GOV.UK Pay), each with a fake beside it."""
