"""Helpers of the citizen journey benchmark (``benchmarks/journey_pages.py``).

* ``plan``: the street trading journey as HTTP steps (one source for both load generators);
* ``walker``: a simulated citizen (sign-in, cookies, where they are in their walk);
* ``http``: a minimal HTTP/1.1 client for the open-loop driver;
* ``journey.lua``: the walk for wrk (closed loop); ``driver``: the open-loop (constant-rate) generator;
* ``load``: the timed phases, with the CPU of the server, the generator and everything else;
* ``server``: the servers under test, their environment, their workers' memory and CPU;
* ``deployment``: a fresh database, the examples published, signed-in citizens, the server;
* ``database``: set-up and the checks after a run (run in a child with the server's environment);
* ``profile`` and ``per_step``: where a page's time goes (py-spy under load; each step on its own).

Nothing here is imported by ``run_all``: this package has no ``main()``.
"""
