"""Helpers of `make bench` (bench/run.py): processes, systems, wrk, reports."""
