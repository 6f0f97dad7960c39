"""Two workers as two threads of one process, each on its own database connection.

``python -m govserve.core.tests.threaded_workers SECONDS``: runs two
:class:`~govserve.core.jobs.Worker` threads with the every-second test
schedule for SECONDS, stops them, and exits non-zero if either raised.
"""

from __future__ import annotations

import sys
import threading
import time

import django


def main(seconds: float) -> int:
    django.setup()
    from django.db import connection  # noqa: PLC0415 - after django.setup()

    from govserve.core.jobs import Worker  # noqa: PLC0415
    from govserve.core.tests import schedules_for_tests  # noqa: F401, PLC0415 - registers tests.tick

    workers = [Worker(worker_id=f"thread-{n}", interval=0.02) for n in (1, 2)]
    failures: list[BaseException] = []

    def work(worker: Worker) -> None:
        try:
            worker.run()
        except BaseException as error:
            failures.append(error)
            raise
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=work, args=(worker,)) for worker in workers]
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    for worker in workers:
        worker.stop()
    for thread in threads:
        thread.join(timeout=30)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main(float(sys.argv[1])))
