"""Background work of casework: bot roles decide in the worker (discovered as ``<app>.jobs``)."""

from __future__ import annotations

import structlog

from govserve.casework.services import decision_record_automatic
from govserve.core.jobs import job

logger = structlog.get_logger(__name__)


@job(name="casework.bot.decide", max_attempts=5)
def bot_decide(*, task_id: str) -> None:
    """Decide the bot task ``task_id`` by its role's rule (idempotent: a task already closed is left alone).

    Enqueued in the transaction that creates the bot task. A rule that fails
    to evaluate (a fault of the definition) fails the attempt; after the
    retries the job is dead-lettered for an operator (``govserve jobs``).
    """
    result = decision_record_automatic(task_id=task_id)
    if result is None:
        logger.info("casework.bot.already_closed", task_id=task_id)
    else:
        logger.info(
            "casework.bot.decided",
            task_id=task_id,
            decision=result.decision.decision,
            rule_result=result.decision.rule_result,
        )
