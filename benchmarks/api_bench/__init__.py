"""Helpers of the API submission benchmark (``benchmarks/api_submissions.py``).

* ``database``: set-up and verification inside a child process with govserve's production settings;
* ``baseline_api``: the hand-written Django view doing the same inserts in one transaction (the baseline);
* ``load``: the load generator (16 concurrent clients, asyncio + httpx), in a process of its own.
"""
