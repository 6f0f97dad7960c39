"""Where the apps below payments join in: hooks that run inside payments' own transactions.

Notifications sits below payments in the dependency order, so payments never
calls it; it registers here (in its ``AppConfig.ready``) instead, and the
hook runs in the transaction that records the payment, so what it queues
commits or rolls back with it::

    from govserve.payments.hooks import payment_received_hook_register

    @payment_received_hook_register
    def on_payment_received(payment: Payment) -> None:
        ...  # queue the definition's payment_received notifications

``payment_received`` runs once per successful payment (after the fees are
marked paid and, for a fee due before submission, the application is
``submitted`` and its file open). A hook that raises rolls the whole change
back: the payment is applied again on the next refresh.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from govserve.payments.models import Payment

PaymentHook = Callable[["Payment"], None]
_received: list[PaymentHook] = []


def payment_received_hook_register(hook: PaymentHook) -> PaymentHook:
    """Run ``hook(payment)`` inside the transaction of every successful payment; return it."""
    if hook not in _received:
        _received.append(hook)
    return hook


def payment_hook_unregister(hook: PaymentHook) -> None:
    """Remove ``hook`` (tests)."""
    if hook in _received:
        _received.remove(hook)


def received_hooks_run(payment: Payment) -> None:
    """Run the registered ``payment_received`` hooks (inside the caller's transaction)."""
    for hook in list(_received):
        hook(payment)
