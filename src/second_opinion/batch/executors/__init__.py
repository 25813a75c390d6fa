"""Executors: where the jobs of a batch wave run.

``local`` runs each job in a worker process on this machine; ``ray`` runs each job as a Ray
task on a cluster (see :mod:`second_opinion.batch.executors.ray`). Both share
:class:`~second_opinion.batch.executors.scheduler.Scheduler`,
which starts jobs while fewer than ``workers`` run, stops starting them after a failure under
``--fail-fast``, and turns each job's outcome into a :class:`JobResult`, so the results, the hash
cache and the provenance are the same whichever runs the jobs.
"""
