"""Helpers of the citizen journey benchmark (``benchmarks/journey_pages.py``).

``plan``: the street trading journey as a list of HTTP steps (one source for
both load generators); ``walker``: a simulated citizen walking the plan;
``http``: a minimal HTTP/1.1 client for the open-loop driver; ``driver``: the
open-loop (constant-rate) load generator, run as its own process;
``journey.lua``: the same walk for wrk (closed loop); ``server``: the servers
under test, their environment and their workers' memory and CPU; ``verify``:
the database checks after a run.
"""
